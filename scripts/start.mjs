#!/usr/bin/env node
// `npm start`: Roost on a local workerd (wrangler dev) with local SQLite state in .wrangler/state.
// PORT, ADMIN_TOKEN and ROOST_STATE_DIR come from the environment (defaults 8787, roost-dev-admin and
// .wrangler/state). Once the server is up, it makes sure a demo org exists and prints its API key: the first start
// creates the org through the admin API and keeps its id and key in .wrangler/roost-demo.json (gitignored, like
// all of .wrangler/; with ROOST_STATE_DIR, in that directory); later starts find the key still good and print the
// same one. Then the demo comes to life (docs/demo.md): the org's visits end after 2 minutes without events,
// simulated visitors stream web sessions into it (scripts/demo-traffic.mjs), a simulated camera posts test-pattern
// frames, and, once per org, four weeks of generated history are backfilled and rolled up (scripts/demo-backfill.mjs).
// `--no-demo` turns all of that off.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runUploader } from "./camera-uploader.mjs";
import { backfillOnce } from "./demo-backfill.mjs";
import { HISTORY_DAYS } from "./demo-history.mjs";
import { startDemoTraffic } from "./demo-traffic.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const stateDir = process.env.ROOST_STATE_DIR ? resolve(process.env.ROOST_STATE_DIR) : undefined;
const demoFile = stateDir ? `${stateDir}/roost-demo.json` : fileURLToPath(new URL("../.wrangler/roost-demo.json", import.meta.url));
const demoFileName = stateDir ? demoFile : ".wrangler/roost-demo.json";
const port = process.env.PORT ?? "8787";
const adminToken = process.env.ADMIN_TOKEN ?? "roost-dev-admin";
const base = `http://localhost:${port}`;
const demoLife = !process.argv.includes("--no-demo");
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
		...(stateDir ? ["--persist-to", stateDir] : []),
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

const DAY_MS = 86_400_000;
/** The start of the first whole day of the history: HISTORY_DAYS days before today (UTC). */
const historyStart = (now) => Math.floor(now / DAY_MS) * DAY_MS - HISTORY_DAYS * DAY_MS;

/**
 * Creates the demo org. The fixed clientActionId makes this safe to repeat: if the org exists but the
 * saved key was lost, the same org comes back with a fresh key (and the lost one is revoked).
 */
async function createDemo() {
	const res = await fetch(`${base}/v1/orgs`, {
		method: "POST",
		headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
		// Its rollups start at the first day of the history the demo backfills (scripts/demo-history.mjs), so that history
		// rolls up into its own days instead of counting as late.
		body: JSON.stringify({ name: "Demo", clientActionId: "npm-start-demo-org", historyFrom: historyStart(Date.now()) }),
	});
	if (res.status !== 201) throw new Error(`POST /v1/orgs answered ${res.status}: ${await res.text()}`);
	const body = await res.json();
	const demo = { org: body.org.id, apiKey: body.apiKey, orgCreatedAt: body.org.createdAt };
	await saveDemo(demo);
	return demo;
}

/** Adds `fields` to the saved demo file (read again: several parts of the start write to it). */
async function updateDemo(fields) {
	await saveDemo({ ...JSON.parse(await readFile(demoFile, "utf8")), ...fields });
}

async function saveDemo(demo) {
	await mkdir(dirname(demoFile), { recursive: true });
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

/** The demo org's short visit timeout, set once per org so that visits turn into interactions within minutes. */
const DEMO_SETTINGS = { sessionInactivitySeconds: 120, cameraBatchSeconds: 60 };

/** Gives a new demo org its short timeouts (once: a later change by hand stays); the line says what is in force. */
async function demoSettingsLine(demo) {
	const headers = { authorization: `Bearer ${demo.apiKey}`, "content-type": "application/json" };
	const url = `${base}/v1/orgs/${demo.org}/settings`;
	try {
		let res;
		if (!demo.settingsApplied) {
			res = await fetch(url, { method: "PUT", headers, body: JSON.stringify(DEMO_SETTINGS) });
			if (res.ok) await updateDemo({ settingsApplied: Date.now() });
		} else res = await fetch(url, { headers });
		if (!res.ok) return `  Timeouts:     not set: ${url} answered ${res.status}`;
		const settings = await res.json();
		return `  Timeouts:     a visit ends after ${minutes(settings.sessionInactivitySeconds)} without events, a camera batch closes after ${minutes(settings.cameraBatchSeconds)}   (demo org settings: PUT /v1/orgs/{org}/settings)`;
	} catch (error) {
		return `  Timeouts:     not set: ${error instanceof Error ? error.message : error}`;
	}
}

const minutes = (seconds) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

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

/**
 * A simulated camera at the shop's entrance: the uploader's test pattern (a square that moves for the first third of
 * every 40 frames, so motion starts and stops) through the real frames route, one frame every 2 s, with the ingest key.
 */
function demoCameraLine(demo) {
	let warned = false;
	const options = { endpoint: base, org: demo.org, key: demo.ingestKey, camera: "entrance", cameras: 1, loop: false };
	void runUploader(
		{ ...options, format: "jpeg", width: 320, height: 240, cycle: 40, fps: 0.5, quiet: true },
		{
			log: (line) => {
				// Only refusals are logged (quiet); one line, not one per frame while the server is down.
				if (warned) return;
				warned = true;
				console.warn(`demo camera: ${line} (further errors not shown)`);
			},
		},
	);
	return "  Demo camera:  entrance, a test-pattern frame every 2 s with motion now and then   (npm run camera adds more)";
}

/** Backfills the demo org's history once (in the background); prints a line when it is done. */
function demoHistoryLine(demo) {
	if (demo.backfilled) {
		const { visits, days } = demo.backfilled;
		return `  History:      ${days} days, ${visits} visits, backfilled at an earlier start   (${demoFileName} "backfilled")`;
	}
	const started = Date.now();
	// A backfill that stopped half way is sent again as it was: the same instant gives the same history and ids.
	const anchor = demo.backfillFrom ?? started;
	void updateDemo({ backfillFrom: anchor })
		.then(() => backfillOnce({ endpoint: base, org: demo.org, apiKey: demo.apiKey }, { now: anchor, days: HISTORY_DAYS }))
		.then(async (backfilled) => {
			await updateDemo({ backfilled });
			const seconds = Math.round((Date.now() - started) / 1000);
			console.log(
				`\nDemo history: ${backfilled.days} days backfilled (${backfilled.visits} visits, ${backfilled.cameraBatches} camera batches, ${backfilled.chats} chats) and rolled up in ${seconds} s (sent in ${backfilled.seconds.send} s, recorded by the org ${backfilled.seconds.settle} s later, rolled up in ${backfilled.seconds.rollUp} s); the dashboard's Patterns view has them.\n`,
			);
		})
		.catch((error) => console.error(`Demo history: not backfilled: ${error instanceof Error ? error.message : error}`));
	return "  History:      backfilling 4 weeks of generated visits, camera batches and chats, then rolling them up (a minute or so)";
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
			`  Demo org:     ${demo.org}   (${demo.how}; kept in ${demoFileName})`,
			`  API key:      ${demo.apiKey}   (admin: reads and manages the org)`,
			`  Ingest key:   ${demo.ingestKey}   (sends events only: the key for web pages and the SDK)`,
			`  Try:          curl -H 'authorization: Bearer ${demo.apiKey}' ${base}/v1/orgs/${demo.org}`,
		);
	}
	lines.push(`  Admin token:  ${adminToken}   (creates orgs: POST ${base}/v1/orgs)`);
	if (demo && demoLife) {
		// The timeouts first: visits that start before them would keep the deployment's hour.
		lines.push(await demoSettingsLine(demo));
		lines.push(await demoTrafficLine(demo), demoCameraLine(demo), demoHistoryLine(demo));
	}
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
