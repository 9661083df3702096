import { defineConfig } from "drizzle-kit";

export default defineConfig({
	out: "./migrations",
	schema: "./src/actors/schema.ts",
	dialect: "sqlite",
	driver: "durable-sqlite",
});
