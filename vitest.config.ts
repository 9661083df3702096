import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** drizzle-kit's migrations import .sql files; wrangler bundles them as text, and so does this. */
const sqlAsText: Plugin = {
	name: "roost-sql-as-text",
	transform(code, id) {
		if (!id.endsWith(".sql")) return undefined;
		return { code: `export default ${JSON.stringify(code)};`, map: null };
	},
};

export default defineConfig({
	test: {
		projects: [
			{
				plugins: [
					sqlAsText,
					cloudflareTest({
						wrangler: { configPath: "./wrangler.jsonc" },
						// Small snapshot interval so tests cross many snapshot boundaries.
						miniflare: { bindings: { SNAPSHOT_EVERY: "10" } },
					}),
				],
				test: { name: "workers", include: ["test/workers/**/*.test.ts"], testTimeout: 30_000 },
			},
			{
				plugins: [sqlAsText],
				test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
			},
		],
	},
});
