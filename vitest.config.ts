import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { accessTestKeys } from "./test/support/access-keys.ts";

/** drizzle-kit's migrations import .sql files; wrangler bundles them as text, and so does this. */
const sqlAsText: Plugin = {
	name: "roost-sql-as-text",
	transform(code, id) {
		if (!id.endsWith(".sql")) return undefined;
		return { code: `export default ${JSON.stringify(code)};`, map: null };
	},
};

/** A Cloudflare Access key set made for this run: the Worker verifies with its public half, the tests sign with the private one. */
const access = await accessTestKeys();

export default defineConfig({
	test: {
		projects: [
			{
				plugins: [
					sqlAsText,
					cloudflareTest({
						// No network here: bindings that only exist remotely (Workers AI) stay unbound in tests.
						remoteBindings: false,
						// Roost's entry plus a probe actor for kernel scheduler tests and a test-only actor kind (CALL).
						main: "./test/workers/support/probe-worker.ts",
						wrangler: { configPath: "./wrangler.jsonc" },
						miniflare: {
							// Small snapshot interval so tests cross many snapshot boundaries; rate limits off except where a
							// test turns them on (test/workers/rate-limit.test.ts), against these small budgets.
							// Chats answer with the offline responder at full speed unless a test installs a mock model.
							bindings: {
								SNAPSHOT_EVERY: "10",
								// Projections rebuild in chunks of 50 events, so a test crosses chunk boundaries (production: 5,000).
								PROJECTION_CHUNK: "50",
								// A ledger of 100 client action ids, so a test crosses its window (production: 10,000).
								CLIENT_ACTIONS_KEPT: "100",
								// Parked work after 20 failed attempts, so a test can reach it (production: the default, 50).
								PARK_AFTER_ATTEMPTS: "20",
								RATE_LIMITS: "off",
								AI_PROVIDER: "offline",
								AI_OFFLINE_TOKEN_MS: "0",
								// The reliability suites (docs/reliability.md): ROOST_LONG=1 runs them ten times longer; ROOST_SEED replays one.
								ROOST_LONG: process.env.ROOST_LONG ?? "",
								ROOST_SEED: process.env.ROOST_SEED ?? "",
								// Members through Cloudflare Access (test/workers/members.test.ts), with the key set above.
								ACCESS_TEAM_DOMAIN: access.teamDomain,
								ACCESS_AUD: access.audience,
								ACCESS_JWKS: access.jwks,
								TEST_ACCESS_PRIVATE_JWK: access.privateJwk,
							},
							ratelimits: {
								IP_RATE_LIMIT: { namespace_id: "1001", simple: { limit: 8, period: 60 } },
								KEY_RATE_LIMIT: { namespace_id: "1002", simple: { limit: 5, period: 60 } },
							},
							durableObjects: {
								PROBE: { className: "ProbeActor", useSQLite: true },
								CALL: { className: "CallActor", useSQLite: true },
							},
						},
					}),
				],
				test: {
					name: "workers",
					include: ["test/workers/**/*.test.ts"],
					// Fails a test file in which the Worker wrote a log line that is not one JSON object.
					setupFiles: ["./test/workers/support/json-logs.ts"],
					testTimeout: 30_000,
					hookTimeout: 60_000,
				},
			},
			{
				plugins: [sqlAsText],
				test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
			},
			{
				// The built SDK in Chromium against the Worker on a local workerd (npm run test:browser builds dist/sdk first).
				test: {
					name: "browser",
					include: ["test/browser/**/*.test.ts"],
					environment: "node",
					testTimeout: 30_000,
					hookTimeout: 60_000,
				},
			},
		],
	},
});
