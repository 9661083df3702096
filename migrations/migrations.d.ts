// Types for the file drizzle-kit generates beside this one.
declare const migrations: {
	journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
	migrations: Record<string, string>;
};
export default migrations;
