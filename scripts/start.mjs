#!/usr/bin/env node
// `npm start`: Roost on a local workerd (wrangler dev) with local SQLite state in .wrangler/state.
// PORT and ADMIN_TOKEN come from the environment (defaults 8787 and roost-dev-admin).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = process.env.PORT ?? "8787";
const adminToken = process.env.ADMIN_TOKEN ?? "roost-dev-admin";
const extra = process.argv.slice(2);

const wrangler = spawn(
	"wrangler",
	[
		"dev",
		"--local",
		"--ip",
		"127.0.0.1",
		"--port",
		port,
		"--var",
		`ADMIN_TOKEN:${adminToken}`,
		"--show-interactive-dev-session=false",
		...extra,
	],
	{
		cwd: root,
		stdio: ["ignore", "pipe", "inherit"],
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
	},
);

let announced = false;
wrangler.stdout.on("data", (chunk) => {
	process.stdout.write(chunk);
	if (!announced && /Ready on/i.test(String(chunk))) {
		announced = true;
		const base = `http://localhost:${port}`;
		console.log(
			[
				"",
				"Roost is running.",
				`  API:          ${base}/v1   (OpenAPI: ${base}/openapi.json)`,
				`  Admin token:  ${adminToken}`,
				`  Try:          curl -H 'authorization: Bearer ${adminToken}' ${base}/v1/orgs/demo/sessions/s1/state`,
				"",
			].join("\n"),
		);
	}
});

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));
