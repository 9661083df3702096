#!/usr/bin/env node
// `npm run bench`: the kernel's append rate against a bare SQLite Durable Object, from one workerd process.
// Starts bench/worker.ts in-process with wrangler's unstable_startWorker on loopback, state in a temp dir
// (deleted at the end), runs every case a few times interleaved and keeps the median, prints the table and
// writes bench/results/kernel-<date>.json and bench/results/latest.json. Offline: nothing leaves loopback.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { clientEvent, createOrg, freePort, prepareWrangler } = await import("./common.mjs");
const { tmp, unstable_startWorker } = await prepareWrangler("roost-bench-");
const { SUITE, counterRows, fanoutRows, ingestRows, replayRows, rowsRows, searchRows, storageRows, wakeRows } = await import("./suite.mjs");

/** `npm run bench -- --check`: compare with the committed bench/results/latest.json, fail on a ratio >20% worse. */
const CHECK = process.argv.includes("--check");
const CHECK_TOLERANCE = 0.2;
/** `BENCH_ONLY=kernel-100,wake`: kernel case ids (their raw baselines come along), "kernel" for all of them, or suite sections. */
const ONLY = process.env.BENCH_ONLY
	? new Set(
			process.env.BENCH_ONLY.split(",")
				.map((s) => s.trim())
				.filter(Boolean),
		)
	: null;

const quick = process.env.BENCH_QUICK === "1";
/** Timed rounds after the warm-up round; each figure is the median over these. */
const REPEATS = quick ? 1 : 5;
/** The warm-up round runs every case at this fraction of its count (JIT, first objects, SQLite caches). */
const WARMUP_FRACTION = 0.25;
const SINGLE_COUNT = quick ? 300 : 1500;
const HTTP_SINGLE_COUNT = quick ? 100 : 300;
const BATCH_COUNT = quick ? 2000 : 10_000;
const CLIENTS = 16;
const STARTUP_TIMEOUT_MS = 30_000;
const TARGET_BATCH_RATIO = 0.5;
const TARGET_SINGLE_RATIO = 0.5;
const TARGET_WORKER_SINGLE_EPS = 3000;

/**
 * The cases, in the order they run in every round: each raw baseline right before the cases compared with it, so
 * both see the same background load. `baseline`: the raw case of the same shape; `where`: "worker" cases loop
 * inside the bench Worker over RPC, "http" cases are driven from this process over loopback.
 */
const CASES = [
	{
		id: "rpc-floor",
		where: "worker",
		kind: "rpc",
		batch: 1,
		count: SINGLE_COUNT,
		label: "RPC round trip, no SQL",
		shape: "calls, no event",
	},
	{ id: "raw-1", where: "worker", kind: "raw", batch: 1, count: SINGLE_COUNT, label: "raw SQLite insert, RPC", shape: "1 row/call" },
	{
		id: "kernel-1",
		where: "worker",
		kind: "kernel",
		batch: 1,
		count: SINGLE_COUNT,
		label: "kernel recordBatch, RPC",
		shape: "1 event/call",
		baseline: "raw-1",
		target: { ratio: TARGET_SINGLE_RATIO },
	},
	{
		id: "route-1",
		where: "worker",
		kind: "route",
		batch: 1,
		count: HTTP_SINGLE_COUNT,
		label: "Worker route in-isolate (app.fetch)",
		shape: "1 event/request",
		baseline: "raw-1",
	},
	{
		id: "http-1",
		where: "http",
		kind: "http",
		batch: 1,
		clients: 1,
		count: HTTP_SINGLE_COUNT,
		label: "HTTP POST .../events",
		shape: "1 event/request",
		baseline: "raw-1",
		target: { eps: TARGET_WORKER_SINGLE_EPS },
	},
	{
		id: "http-1x16",
		where: "http",
		kind: "http",
		batch: 1,
		clients: CLIENTS,
		count: HTTP_SINGLE_COUNT * 2,
		label: `HTTP POST, ${CLIENTS} sessions in flight`,
		shape: "1 event/request",
		target: { eps: TARGET_WORKER_SINGLE_EPS },
	},
	{
		id: "http-floor",
		where: "http",
		kind: "floor",
		batch: 1,
		clients: CLIENTS,
		count: HTTP_SINGLE_COUNT * 2,
		label: `HTTP GET / (no actor), ${CLIENTS} in flight`,
		shape: "requests, no event",
	},
	{ id: "raw-100", where: "worker", kind: "raw", batch: 100, count: BATCH_COUNT, label: "raw SQLite insert, RPC", shape: "100 rows/call" },
	{
		id: "kernel-100",
		where: "worker",
		kind: "kernel",
		batch: 100,
		count: BATCH_COUNT,
		label: "kernel recordBatch, RPC",
		shape: "100 events/call",
		baseline: "raw-100",
		target: { ratio: TARGET_BATCH_RATIO },
	},
	{
		id: "http-100",
		where: "http",
		kind: "http",
		batch: 100,
		clients: 1,
		count: BATCH_COUNT / 2,
		label: "HTTP POST .../events",
		shape: "100 events/request",
		baseline: "raw-100",
	},
];

{
	const wanted = (spec) => !ONLY || ONLY.has("kernel") || ONLY.has(spec.id);
	const keep = new Set(CASES.filter(wanted).flatMap((spec) => [spec.id, ...(spec.baseline ? [spec.baseline] : [])]));
	for (let i = CASES.length - 1; i >= 0; i--) if (!keep.has(CASES[i].id)) CASES.splice(i, 1);
}
const SECTIONS = SUITE.filter((id) => !ONLY || ONLY.has(id));
/** The chat bench (bench/chat.mjs, its own Worker) runs first as a child process; its figures join the suite table. */
const RUN_CHAT = !ONLY || ONLY.has("chat");

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

let sequence = 0;
const uniqueName = (id) => `${id}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;

/** Runs a case inside the bench Worker and returns events/s over the timed part. */
async function workerCase(base, org, spec, count) {
	const query = new URLSearchParams({ name: uniqueName(spec.id), count: String(count), batch: String(spec.batch), org: org.id });
	const res = await fetch(new URL(`/bench/${spec.kind}?${query}`, base), { headers: { "x-bench-key": org.apiKey } });
	const body = await res.json();
	if (res.status !== 200) throw new Error(`${spec.id}: ${res.status} ${body.error ?? JSON.stringify(body)}`);
	return (body.events / body.ms) * 1000;
}

async function postEvents(base, org, session, events) {
	const res = await fetch(new URL(`/v1/orgs/${org.id}/sessions/${session}/events`, base), {
		method: "POST",
		headers: { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" },
		body: typeof events === "string" ? events : JSON.stringify({ events }),
	});
	const text = await res.text();
	if (res.status !== 202) throw new Error(`POST ${session}: ${res.status} ${text}`);
	return JSON.parse(text);
}

/** Drives the Worker's HTTP route from this process: `clients` sessions, each with one request in flight. */
async function httpCase(base, org, spec, count) {
	const perClient = Math.ceil(count / spec.clients);
	const clients = [];
	for (let c = 0; c < spec.clients; c++) {
		const session = uniqueName(`${spec.id}-c${c}`);
		const bodies = [];
		for (let i = 1; i <= perClient; i += spec.batch) {
			const events = Array.from({ length: Math.min(spec.batch, perClient - i + 1) }, (_, k) => clientEvent(session, i + k));
			bodies.push(JSON.stringify({ events }));
		}
		clients.push({ session, bodies });
	}
	// Opening a visit appends session.started too; do it before timing so every timed request is the same work.
	await Promise.all(clients.map(({ session }) => postEvents(base, org, session, [clientEvent(session, 0)])));
	const t0 = performance.now();
	const accepted = await Promise.all(
		clients.map(async ({ session, bodies }) => {
			let n = 0;
			for (const body of bodies) n += (await postEvents(base, org, session, body)).accepted;
			return n;
		}),
	);
	const ms = performance.now() - t0;
	const total = accepted.reduce((a, b) => a + b, 0);
	if (total !== perClient * spec.clients) throw new Error(`${spec.id}: ${total} accepted, expected ${perClient * spec.clients}`);
	return (total / ms) * 1000;
}

/** The local HTTP path's own ceiling: the app's cheapest route, no credentials and no actor, `clients` in flight. */
async function floorCase(base, spec, count) {
	let next = 0;
	const t0 = performance.now();
	await Promise.all(
		Array.from({ length: spec.clients }, async () => {
			while (next++ < count) {
				const res = await fetch(base);
				await res.arrayBuffer();
				if (res.status !== 200) throw new Error(`GET /: ${res.status}`);
			}
		}),
	);
	return (count / (performance.now() - t0)) * 1000;
}

function runCase(base, org, spec, count) {
	if (spec.where === "worker") return workerCase(base, org, spec, count);
	return spec.kind === "floor" ? floorCase(base, spec, count) : httpCase(base, org, spec, count);
}

/**
 * wrangler puts a proxy Worker (a second workerd) in front of the user Worker for live reload. The HTTP cases
 * go straight to the user Worker's own socket, as production has no such proxy; the proxy URL is the fallback.
 */
async function userWorkerUrl(worker) {
	const proxyUrl = await worker.url;
	// The proxy holds requests until the user Worker is up (forever if the bundle fails): one request through it means ready.
	let onError;
	const failed = new Promise((_, reject) => {
		onError = (event) => reject(new Error(`wrangler could not start the bench Worker: ${event.reason ?? event.message}`));
	});
	worker.raw?.on?.("error", onError);
	const first = fetch(proxyUrl, { signal: AbortSignal.timeout(STARTUP_TIMEOUT_MS) }).then((res) => res.arrayBuffer());
	try {
		await Promise.race([first, failed]);
	} finally {
		worker.raw?.off?.("error", onError);
	}
	const mf = worker.raw?.runtimes?.find((runtime) => runtime.mf)?.mf;
	if (!mf) return { url: proxyUrl, via: "wrangler proxy" };
	return { url: await mf.ready, via: "user Worker socket (wrangler's dev proxy bypassed)" };
}

function git(args) {
	try {
		return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
	} catch {
		return null;
	}
}

function versionOf(packageJson) {
	try {
		return JSON.parse(readFileSync(packageJson, "utf8")).version;
	} catch {
		return null;
	}
}

function machine() {
	const require = createRequire(join(root, "package.json"));
	const wranglerPackage = require.resolve("wrangler/package.json");
	const workerdPackage = createRequire(wranglerPackage).resolve("workerd/package.json");
	return {
		cores: os.availableParallelism(),
		cpu: os.cpus()[0]?.model ?? "unknown",
		memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
		platform: `${os.platform()} ${os.release()} ${os.arch()}`,
		node: process.version,
		wrangler: versionOf(wranglerPackage),
		workerd: versionOf(join(dirname(workerdPackage), "package.json")),
		loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
	};
}

const fmt = (n) => (n === null ? "-" : Math.round(n).toLocaleString("en-US"));
const fmtRatio = (n) => (n === null ? "-" : n.toFixed(2));

function table(results) {
	const header = ["case", "path", "shape", "events/s", "runs (min-max)", "ratio to raw", "target", "met"];
	const rows = results.map((r) => [
		r.id,
		r.label,
		r.shape,
		fmt(r.eventsPerSecond),
		`${fmt(Math.min(...r.runs))}-${fmt(Math.max(...r.runs))}`,
		r.baseline ? `${fmtRatio(r.ratio)} (vs ${r.baseline})` : "-",
		r.target ? (r.target.ratio !== undefined ? `ratio >= ${r.target.ratio}` : `>= ${fmt(r.target.eps)}/s`) : "",
		r.target ? (r.met ? "yes" : "NO") : "",
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
	const line = (cells) =>
		`| ${cells.map((cell, i) => (i >= 3 && i <= 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
	return [
		line(header),
		`|${widths.map((w, i) => (i >= 3 && i <= 5 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`,
		...rows.map(line),
	].join("\n");
}

/** The committed bench/results/latest.json (HEAD's copy, so a local run that rewrote it still checks against the commit). */
function committedResults() {
	const text = git(["show", "HEAD:bench/results/latest.json"]) ?? readFileSync(join(root, "bench/results/latest.json"), "utf8");
	return JSON.parse(text);
}

/** Ratios that fell more than CHECK_TOLERANCE below the committed ones (rose above, for lower-is-better rows). */
function regressions(report) {
	const committed = committedResults();
	const before = new Map([...(committed.results ?? []), ...(committed.suite ?? [])].filter((r) => r.ratio != null).map((r) => [r.id, r]));
	const failures = [];
	for (const r of [...report.results, ...report.suite]) {
		const old = before.get(r.id);
		if (!old || r.ratio == null || r.target === undefined) continue;
		const worse = r.lowerIsBetter ? r.ratio > old.ratio * (1 + CHECK_TOLERANCE) : r.ratio < old.ratio * (1 - CHECK_TOLERANCE);
		const line = `${r.id}: ratio ${r.ratio.toFixed(2)} vs committed ${old.ratio.toFixed(2)}`;
		if (worse) failures.push(line);
		else console.log(`check ok  ${line}`);
	}
	return failures;
}

function suiteTable(rows) {
	const header = ["case", "what", "value", "baseline in the same run", "ratio", "target", "met"];
	const value = (r) => `${r.value >= 100 ? Math.round(r.value).toLocaleString("en-US") : r.value.toFixed(r.value < 1 ? 3 : 2)} ${r.unit}`;
	const cells = rows.map((r) => [
		r.id,
		r.label,
		value(r),
		r.baseline ?? "",
		r.ratio == null ? "-" : r.ratio.toFixed(2),
		r.target ?? "",
		r.met === null || r.met === undefined ? "" : r.met ? "yes" : "NO",
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
	const line = (row) => `| ${row.map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
	return [
		line(header),
		`|${widths.map((w, i) => (i === 2 || i === 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`,
		...rows.map((_, i) => line(cells[i])),
	].join("\n");
}

/** Runs bench/chat.mjs and turns its bench/results/chat-latest.json (chat-quick.json when quick) into suite rows (added ms per token, median). */
function chatRows() {
	execFileSync(process.execPath, [join(root, "bench/chat.mjs")], { cwd: root, stdio: "inherit", env: process.env });
	const from = `bench/results/${quick ? "chat-quick.json" : "chat-latest.json"}`;
	const report = JSON.parse(readFileSync(join(root, from), "utf8"));
	return report.results.map((r) => ({
		id: `chat-${r.mode}`,
		label: `LLM tokens through a chat actor, mock model ${r.mode} (${r.label})`,
		value: r.addedMsPerToken,
		unit: "ms added/token",
		baseline: `mock stream consumed directly ${Math.round(r.directTokensPerSecond).toLocaleString("en-US")} tokens/s`,
		ratio: r.tokensPerSecond / r.directTokensPerSecond,
		target: "<= 0.2 ms added per token",
		met: r.addedMsPerToken <= 0.2,
		detail: { tokensPerSecond: r.tokensPerSecond, tokens: r.tokens, firstTokenMs: r.firstTokenMs, from },
	}));
}

async function main() {
	const started = Date.now();
	const info = machine();
	const chat = RUN_CHAT ? chatRows() : [];
	const port = await freePort();
	const worker = await unstable_startWorker({
		config: join(root, "bench/wrangler.jsonc"),
		dev: { persist: join(tmp, "state"), inspector: false, watch: false, server: { hostname: "127.0.0.1", port } },
	});
	try {
		await worker.ready;
		const target = await userWorkerUrl(worker);
		const org = await createOrg(target.url);
		console.log(`roost kernel bench: ${info.cores} cores, ${info.cpu}, node ${info.node}, workerd ${info.workerd}`);
		console.log(`HTTP cases via ${target.via}; ${REPEATS} timed round(s) after a warm-up, median kept\n`);

		const runs = Object.fromEntries(CASES.map((spec) => [spec.id, []]));
		for (let round = 0; round <= REPEATS; round++) {
			const warmup = round === 0;
			process.stdout.write(warmup ? "warm-up " : `round ${round}/${REPEATS} `);
			for (const spec of CASES) {
				const count = warmup ? Math.max(spec.batch * (spec.clients ?? 1), Math.round(spec.count * WARMUP_FRACTION)) : spec.count;
				const eps = await runCase(target.url, org, spec, count);
				if (!warmup) runs[spec.id].push(eps);
				process.stdout.write(".");
			}
			process.stdout.write("\n");
		}

		const results = CASES.map((spec) => {
			const eventsPerSecond = median(runs[spec.id]);
			// Each round's ratio pairs runs seconds apart, so a swing in the machine's load cancels out of it.
			const ratios = spec.baseline ? runs[spec.id].map((eps, round) => eps / runs[spec.baseline][round]) : null;
			const ratio = ratios ? median(ratios) : null;
			const met = spec.target ? (spec.target.ratio !== undefined ? ratio >= spec.target.ratio : eventsPerSecond >= spec.target.eps) : null;
			const { where, kind, ...rest } = spec;
			return {
				...rest,
				driver: `${where === "http" ? "node" : "worker"}-${kind}`,
				eventsPerSecond,
				runs: runs[spec.id],
				ratio,
				ratios,
				met,
			};
		});

		if (results.length > 0) {
			console.log(`\n${table(results)}\n`);
			console.log(`events/s: median of ${REPEATS} timed round(s), each case on fresh objects; ratio: median over rounds of the case`);
			console.log("over the raw case of the same shape in that round; *-floor rows count calls or requests, not events.\n");
		}

		// The suite cases: each measured next to its own baseline, one section after another.
		const suite = [...chat];
		const options = { quick, httpCase, clientEvent };
		for (const section of SECTIONS) {
			process.stdout.write(`suite: ${section} ... `);
			const t0 = Date.now();
			if (section === "replay") suite.push(...(await replayRows(options)));
			if (section === "storage") suite.push(...(await storageRows(target.url, options)));
			if (section === "counter") suite.push(...(await counterRows(target.url, options)));
			if (section === "wake") suite.push(...(await wakeRows(target.url, options)));
			if (section === "fanout") suite.push(...(await fanoutRows(target.url, options)));
			if (section === "ingest") suite.push(...(await ingestRows(target.url, org, options)));
			if (section === "rows") suite.push(...(await rowsRows(target.url, org, options)));
			if (section === "search") suite.push(...(await searchRows(target.url, options)));
			process.stdout.write(`${Math.round((Date.now() - t0) / 1000)}s\n`);
		}
		if (suite.length > 0) console.log(`\n${suiteTable(suite)}\n`);
		const targets = [...results, ...suite]
			.filter((r) => r.target)
			.map((r) => `${r.id}: ${r.met === null ? "reported" : r.met ? "met" : "MISSED"}`);
		console.log(`targets: ${targets.join(", ")}`);

		const date = new Date(started).toISOString();
		const report = {
			benchmark: "kernel",
			date,
			durationSeconds: Math.round((Date.now() - started) / 100) / 10,
			machine: { ...info, loadAverageAtEnd: os.loadavg().map((n) => Math.round(n * 100) / 100) },
			git: { commit: git(["rev-parse", "HEAD"]), srcDirty: Boolean(git(["status", "--porcelain", "--", "src", "migrations"])) },
			settings: { repeats: REPEATS, warmupFraction: WARMUP_FRACTION, snapshotEvery: 200, httpVia: target.via, quick },
			targets: { singleRatio: TARGET_SINGLE_RATIO, batchRatio: TARGET_BATCH_RATIO, workerSingleEventsPerSecond: TARGET_WORKER_SINGLE_EPS },
			only: ONLY ? [...ONLY] : null,
			results,
			suite,
		};
		const dir = join(root, "bench/results");
		mkdirSync(dir, { recursive: true });
		const text = `${JSON.stringify(report, null, "\t")}\n`;
		if (CHECK) {
			// A check run never replaces the committed figures it is checked against.
			const file = join(dir, `check-${date.slice(0, 10)}.json`);
			writeFileSync(file, text);
			console.log(`wrote ${file.slice(root.length)} (${report.durationSeconds}s)`);
			const failures = regressions(report);
			if (failures.length > 0) {
				console.error(
					`\nregression check FAILED (a ratio more than ${CHECK_TOLERANCE * 100}% worse than committed):\n  ${failures.join("\n  ")}`,
				);
				process.exitCode = 1;
			} else console.log("regression check passed");
		} else {
			const file = join(dir, `${ONLY || quick ? "subset" : "kernel"}-${date.slice(0, 10)}.json`);
			writeFileSync(file, text);
			// A subset run keeps the committed full figures as the reference.
			if (!ONLY && !quick) writeFileSync(join(dir, "latest.json"), text);
			console.log(`wrote ${file.slice(root.length)}${ONLY || quick ? "" : " and bench/results/latest.json"} (${report.durationSeconds}s)`);
		}
	} finally {
		await worker.dispose();
	}
}

function cleanUp() {
	// workerd may still be closing files in the temp dir; retry rather than fail the run over it.
	rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
	// wrangler deletes its bundle under bench/.wrangler/tmp itself; drop the folders if nothing else (another run) is in them.
	for (const dir of ["bench/.wrangler/tmp", "bench/.wrangler"]) {
		try {
			rmdirSync(join(root, dir));
		} catch {}
	}
}

// Also on a crash or Ctrl-C, so the temp state never outlives the run.
process.on("exit", cleanUp);
process.on("SIGINT", () => process.exit(130));

try {
	await main();
	process.exit(0);
} catch (error) {
	console.error(error);
	process.exit(1);
}
