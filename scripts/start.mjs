#!/usr/bin/env node
// `npm start`: Roost on a local workerd (wrangler dev) with local SQLite state in .wrangler/state.
// PORT and ADMIN_TOKEN come from the environment (defaults 8787 and roost-dev-admin). Once the
// server is up, it makes sure a demo org exists and prints its API key: the first start creates the
// org through the admin API and keeps its id and key in .wrangler/roost-demo.json (gitignored, like
// all of .wrangler/); later starts find the key still good and print the same one. Then simulated
// visitors stream web sessions into the demo org (scripts/demo-traffic.mjs); `--no-demo` turns them off.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { startDemoTraffic } from "./demo-traffic.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const demoFile = fileURLToPath(new URL("../.wrangler/roost-demo.json", import.meta.url));
const port = process.env.PORT ?? "8787";
const adminToken = process.env.ADMIN_TOKEN ?? "roost-dev-admin";
const base = `http://localhost:${port}`;
const demoTraffic = !process.argv.includes("--no-demo");
const extra = process.argv.slice(2).filter((arg) => arg !== "--no-demo");
// Chat model settings from the environment reach the Worker as vars (docs/chat.md); without any, chats use the
// offline responder, since Workers AI cannot be reached from a local workerd.
const AI_VARS = ["AI_PROVIDER", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "AI_OFFLINE_TOKEN_MS"];
const aiVars = AI_VARS.filter((name) => process.env[name]).flatMap((name) => ["--var", `${name}:${process.env[name]}`]);

// The dashboard's static assets (web/dist, served at /); wrangler refuses to start without them.
execFileSync(process.execPath, ["web/build.mjs"], { cwd: root, stdio: "inherit" });

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
		...aiVars,
		"--show-interactive-dev-session=false",
		...extra,
	],
	{
		cwd: root,
		stdio: ["ignore", "pipe", "inherit"],
		env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
	},
);

/** The demo org from an earlier start, if its key still opens it (local state may have been wiped since). */
async function savedDemo() {
	try {
		const saved = JSON.parse(await readFile(demoFile, "utf8"));
		const res = await fetch(`${base}/v1/orgs/${saved.org}`, { headers: { authorization: `Bearer ${saved.apiKey}` } });
		return res.ok ? saved : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Creates the demo org. The fixed clientActionId makes this safe to repeat: if the org exists but the
 * saved key was lost, the same org comes back with a fresh key (and the lost one is revoked).
 */
async function createDemo() {
	const res = await fetch(`${base}/v1/orgs`, {
		method: "POST",
		headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
		body: JSON.stringify({ name: "Demo", clientActionId: "npm-start-demo-org" }),
	});
	if (res.status !== 201) throw new Error(`POST /v1/orgs answered ${res.status}: ${await res.text()}`);
	const body = await res.json();
	const demo = { org: body.org.id, apiKey: body.apiKey, orgCreatedAt: body.org.createdAt };
	await saveDemo(demo);
	return demo;
}

async function saveDemo(demo) {
	await mkdir(fileURLToPath(new URL("../.wrangler/", import.meta.url)), { recursive: true });
	await writeFile(demoFile, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The demo org's ingest key, what a web page should carry (it sends events and reads nothing): the saved one while
 * it is live, else a new one. The fixed clientActionId revokes an earlier key of this action whose text was lost.
 */
async function withIngestKey(demo) {
	const headers = { authorization: `Bearer ${demo.apiKey}`, "content-type": "application/json" };
	if (demo.ingestKey && demo.ingestKeyId) {
		const res = await fetch(`${base}/v1/orgs/${demo.org}/keys`, { headers });
		const keys = res.ok ? (await res.json()).keys : [];
		if (keys.some((key) => key.id === demo.ingestKeyId && key.revokedAt === null)) return demo;
	}
	const res = await fetch(`${base}/v1/orgs/${demo.org}/keys`, {
		method: "POST",
		headers,
		body: JSON.stringify({ label: "demo web pages", role: "ingest", clientActionId: "npm-start-demo-ingest-key" }),
	});
	if (res.status !== 201) throw new Error(`POST /v1/orgs/${demo.org}/keys answered ${res.status}: ${await res.text()}`);
	const body = await res.json();
	const { how: _how, ...kept } = demo;
	const next = { ...kept, ingestKey: body.apiKey, ingestKeyId: body.key.id };
	await saveDemo(next);
	return { ...next, how: demo.how };
}

async function seed() {
	for (let attempt = 1; ; attempt++) {
		try {
			const saved = await savedDemo();
			if (saved) return await withIngestKey({ ...saved, how: "from an earlier start" });
			const made = await createDemo();
			// An org older than this start means the saved key was lost: the org is the same, the key is new.
			const how = Date.now() - made.orgCreatedAt > 60_000 ? "existing org, new key: the saved one was missing" : "created now";
			return await withIngestKey({ ...made, how });
		} catch (error) {
			if (attempt >= 10) throw error;
			await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
		}
	}
}

async function dashboardLine() {
	try {
		const res = await fetch(`${base}/`);
		if ((res.headers.get("content-type") ?? "").includes("text/html"))
			return `  Dashboard:    ${base}/   (sign in with the API key below; docs/dashboard.md)`;
	} catch {}
	return `  Dashboard:    ${base}/   (not served: web/dist is missing, see npm run build:web)`;
}

/** Starts the simulated visitors; the line says what runs, or why it does not. */
async function demoTrafficLine(demo) {
	try {
		// The simulated visitors send as a web page would: with the ingest key.
		await startDemoTraffic({ endpoint: base, orgId: demo.org, apiKey: demo.ingestKey });
		return "  Demo traffic: a few simulated visitors a minute in the demo org   (npm start -- --no-demo turns it off)";
	} catch (error) {
		return `  Demo traffic: not started: ${error instanceof Error ? error.message : error}`;
	}
}

async function announce() {
	let demo;
	try {
		demo = await seed();
	} catch (error) {
		console.error(`Roost is running, but the demo org could not be set up: ${error instanceof Error ? error.message : error}`);
	}
	const lines = ["", "Roost is running."];
	lines.push(await dashboardLine());
	lines.push(`  Console:      ${base}/console   (replay and debug any actor; docs/console.md)`);
	lines.push(`  API:          ${base}/v1   (OpenAPI: ${base}/openapi.json, docs/api.md)`);
	lines.push(`  MCP:          ${base}/mcp   (streamable HTTP, the API key as bearer; docs/mcp.md)`);
	if (demo) {
		lines.push(
			`  Demo org:     ${demo.org}   (${demo.how}; kept in .wrangler/roost-demo.json)`,
			`  API key:      ${demo.apiKey}   (admin: reads and manages the org)`,
			`  Ingest key:   ${demo.ingestKey}   (sends events only: the key for web pages and the SDK)`,
			`  Try:          curl -H 'authorization: Bearer ${demo.apiKey}' ${base}/v1/orgs/${demo.org}`,
		);
	}
	lines.push(`  Admin token:  ${adminToken}   (creates orgs: POST ${base}/v1/orgs)`);
	if (demo && demoTraffic) lines.push(await demoTrafficLine(demo));
	lines.push("");
	console.log(lines.join("\n"));
}

let announced = false;
wrangler.stdout.on("data", (chunk) => {
	process.stdout.write(chunk);
	if (!announced && /Ready on/i.test(String(chunk))) {
		announced = true;
		void announce();
	}
});

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));
