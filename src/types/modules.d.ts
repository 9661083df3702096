// drizzle-kit migrations are .sql files bundled as text (wrangler Text rule, vitest loader).
declare module "*.sql" {
	const sql: string;
	export default sql;
}
