#!/usr/bin/env node
// `npm run soak`: a bounded load test of Roost on a local workerd, loopback only (docs/reliability.md).
//
// It starts the Worker as `npm start` does (wrangler dev --local on 127.0.0.1) with its own temporary state and
// rate limits off, creates an org, and for a fixed time runs two loads at once with autocannon:
//   ingest   SDK batches posted to many web sessions;
//   fan-out  batches posted to one session while N WebSocket subscribers follow it.
// It reports the error rate, p50/p99 latency of each, the fan-out's delivery (every subscriber must get every
// event once, in seq order) and its push latency, and the workerd process's memory (RSS) sampled over the run, with a
// growth-trend check. Afterwards it checks that every accepted event is stored, that the chains verify, and that no
// work is parked and no timer overdue (both must be 0: docs/operations.md).
//
//   npm run soak                       5 minutes, 10 + 2 connections, 20 subscribers, then 60 s idle
//   npm run soak -- --minutes 1 --connections 4 --subscribers 5 --batch 20 --out soak.json
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values: args } = parseArgs({
	options: {
		minutes: { type: "string", default: "5" },
		connections: { type: "string", default: "10" },
		"fanout-connections": { type: "string", default: "2" },
		subscribers: { type: "string", default: "20" },
		sessions: { type: "string", default: "200" },
		batch: { type: "string", default: "20" },
		port: { type: "string", default: "8797" },
		idle: { type: "string", default: "60" },
		out: { type: "string" },
	},
});
const minutes = Number(args.minutes);
const connections = Number(args.connections);
const fanoutConnections = Number(args["fanout-connections"]);
const subscribers = Number(args.subscribers);
const sessions = Number(args.sessions);
const batchSize = Number(args.batch);
const port = Number(args.port);
const idleS = Number(args.idle);
if (![minutes, connections, fanoutConnections, subscribers, sessions, batchSize, port].every((n) => Number.isFinite(n) && n > 0)) {
	throw new Error("every option must be a positive number");
}
const durationS = Math.round(minutes * 60);
// Loopback only: the load never leaves this machine (the user Worker's socket is on 127.0.0.1 too).
let base = `http://127.0.0.1:${port}`;
const adminToken = "soak-admin";
const root = fileURLToPath(new URL("..", import.meta.url));
const log = (...parts) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ---- the server ------------------------------------------------------------------------------------

const state = await mkdtemp(join(tmpdir(), "roost-soak-"));
// Set before wrangler loads: no telemetry, no Request.cf download, wrangler's own logs in the temp dir.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_LOG_PATH = join(state, "logs");
process.env.WRANGLER_LOG ??= "warn";
const { unstable_startWorker } = await import("wrangler");
execFileSync(process.execPath, ["web/build.mjs"], { cwd: root, stdio: "inherit" });
// The Worker `npm start` runs (wrangler.jsonc), in-process, with file watching off: a source file saved during the
// run must not reload the Worker under load. Only the admin token, the rate limits and the visit budget differ.
const worker = await unstable_startWorker({
	config: join(root, "wrangler.jsonc"),
	bindings: {
		ADMIN_TOKEN: { type: "plain_text", value: adminToken },
		// One client IP sends everything here: the per-IP budget would refuse it within seconds.
		RATE_LIMITS: { type: "plain_text", value: "off" },
		// The hot session is one visit taking hundreds of thousands of events: far past what a real visit may take.
		SESSION_MAX_VISIT_EVENTS: { type: "plain_text", value: "1000000000" },
		SESSION_MAX_VISIT_DATA_CHARS: { type: "plain_text", value: "1000000000000" },
	},
	dev: { persist: join(state, "state"), inspector: false, watch: false, server: { hostname: "127.0.0.1", port } },
});

let stopped = false;
async function stopServer() {
	if (stopped) return;
	stopped = true;
	await worker.dispose().catch(() => {});
	await rm(state, { recursive: true, force: true });
}
process.on("SIGINT", () => stopServer().then(() => process.exit(130)));

/**
 * wrangler puts a proxy Worker in front of the user Worker (for live reload); the load goes to the user Worker's own
 * socket, as production has no such proxy (bench/run.mjs does the same).
 */
async function ready() {
	await worker.ready;
	const proxy = await worker.url;
	const first = await fetch(proxy, { signal: AbortSignal.timeout(120_000) });
	await first.arrayBuffer();
	const mf = worker.raw?.runtimes?.find((runtime) => runtime.mf)?.mf;
	return mf ? new URL(await mf.ready).origin : proxy.origin;
}

/** Pids of every process below `pid`. */
async function descendants(pid) {
	const parents = new Map();
	for (const entry of await readdir("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = await readFile(`/proc/${entry}/stat`, "utf8");
			const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
			parents.set(Number(entry), ppid);
		} catch {}
	}
	const out = [];
	for (let queue = [pid]; queue.length > 0; ) {
		const p = queue.shift();
		for (const [child, parent] of parents) if (parent === p) queue.push(child) && out.push(child);
	}
	return out;
}

async function workerdPids() {
	const pids = [];
	for (const pid of await descendants(process.pid)) {
		try {
			if ((await readFile(`/proc/${pid}/cmdline`, "utf8")).includes("workerd")) pids.push(pid);
		} catch {}
	}
	return pids;
}

async function rssMb(pids) {
	let kb = 0;
	for (const pid of pids) {
		try {
			const match = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
			kb += Number(match?.[1] ?? 0);
		} catch {}
	}
	return kb / 1024;
}

// ---- the load --------------------------------------------------------------------------------------

const json = (method, path, key, body) =>
	fetch(`${base}${path}`, {
		method,
		headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
		...(body ? { body: JSON.stringify(body) } : {}),
	}).then(async (res) => {
		if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
		return res.json();
	});

let serial = 0;
/** A fresh SDK batch: unique ids, the client's clock in ts (the fan-out measures push latency from it). */
function batchBody() {
	const now = Date.now();
	const events = Array.from({ length: batchSize }, (_, i) => {
		const n = serial++;
		return i % 4 === 3
			? { id: `k${n}`, type: "session.clicked", ts: now, data: { target: `button#b${n % 9}` } }
			: { id: `p${n}`, type: "session.page_viewed", ts: now, data: { url: `https://shop.example/p/${n % 50}`, path: `/p/${n % 50}` } };
	});
	return JSON.stringify({ events });
}

function subscribe(path, key) {
	const sub = { events: 0, lastSeq: 0, gaps: 0, repeats: 0, latencies: [], closed: false, error: null };
	const socket = new WebSocket(`${base.replace("http", "ws")}${path}/ws?after=0&token=${encodeURIComponent(key)}`);
	socket.addEventListener("message", (message) => {
		const frame = JSON.parse(message.data);
		if (frame.t !== "event") return;
		const seq = frame.event.seq;
		if (seq <= sub.lastSeq) sub.repeats++;
		else if (seq !== sub.lastSeq + 1) sub.gaps++;
		sub.lastSeq = Math.max(sub.lastSeq, seq);
		sub.events++;
		if (frame.event.type !== "session.started") sub.latencies.push(Date.now() - frame.event.ts);
	});
	socket.addEventListener("close", () => {
		sub.closed = true;
	});
	socket.addEventListener("error", (e) => {
		sub.error = String(e.message ?? e);
	});
	sub.socket = socket;
	sub.opened = new Promise((resolve, reject) => {
		socket.addEventListener("open", resolve, { once: true });
		socket.addEventListener("error", reject, { once: true });
	});
	return sub;
}

function run(options) {
	return new Promise((resolve, reject) => {
		const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
		autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
	});
}

const percentile = (values, p) => {
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Least-squares slope of y over x. */
function slope(points) {
	const n = points.length;
	if (n < 2) return 0;
	const mx = points.reduce((s, p) => s + p.x, 0) / n;
	const my = points.reduce((s, p) => s + p.y, 0) / n;
	const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
	const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
	return den === 0 ? 0 : num / den;
}

try {
	base = await ready();
	if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):/.test(base)) throw new Error(`not a loopback address: ${base}`);
	log(`the Worker is up on ${base} (state in ${state})`);
	const created = await json("POST", "/v1/orgs", adminToken, { name: "Soak" });
	const org = created.org.id;
	const key = created.apiKey;
	const hot = `/v1/orgs/${org}/sessions/hot`;
	log(
		`org ${org}; workerd pids ${(await workerdPids()).join(", ")}; load average ${loadavg()
			.map((n) => n.toFixed(2))
			.join(" ")}`,
	);

	const subs = Array.from({ length: subscribers }, () => subscribe(hot, key));
	await Promise.all(subs.map((s) => s.opened));
	log(`${subscribers} subscribers on ${hot}; loading for ${durationS} s`);

	const started = Date.now();
	const memory = [{ t: 0, mb: await rssMb(await workerdPids()) }];
	const sampler = setInterval(async () => {
		memory.push({ t: (Date.now() - started) / 1000, mb: await rssMb(await workerdPids()) });
	}, 5000);
	let ingestCount = 0;
	const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
	const [ingest, fanout] = await Promise.all([
		run({
			url: base,
			connections,
			duration: durationS,
			timeout: 30,
			requests: [
				{
					method: "POST",
					headers,
					setupRequest: (req) => ({ ...req, path: `/v1/orgs/${org}/sessions/soak-${ingestCount++ % sessions}/events`, body: batchBody() }),
				},
			],
		}),
		run({
			url: base,
			connections: fanoutConnections,
			duration: durationS,
			timeout: 30,
			requests: [{ method: "POST", headers, setupRequest: (req) => ({ ...req, path: `${hot}/events`, body: batchBody() }) }],
		}),
	]);
	clearInterval(sampler);
	memory.push({ t: (Date.now() - started) / 1000, mb: await rssMb(await workerdPids()) });

	// Every subscriber must reach the hot session's version: each event once, in order.
	const hotState = await json("GET", `${hot}/state`, key);
	const deadline = Date.now() + 60_000;
	while (subs.some((s) => s.lastSeq < hotState.version) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
	for (const s of subs) s.socket.close(1000, "done");

	// Then idle: no requests, no sockets. Objects with nothing to do are evicted, and what they held is given back;
	// memory that stays is held by the runtime, not by objects still alive.
	const idleFrom = Date.now();
	while (Date.now() - idleFrom < idleS * 1000) {
		await new Promise((resolve) => setTimeout(resolve, 5000));
		memory.push({ t: (Date.now() - started) / 1000, mb: await rssMb(await workerdPids()), idle: true });
	}

	// Nothing accepted was lost: stored client events equal accepted batches times their size; chains verify.
	let stored = 0;
	let brokenChains = 0;
	for (let i = 0; i < Math.min(sessions, ingestCount); i++) {
		const path = `/v1/orgs/${org}/sessions/soak-${i}`;
		const s = await json("GET", `${path}/state`, key);
		stored += s.version - (s.state.visit?.number ?? 0);
		if (i % 20 === 0 && !(await json("GET", `${path}/verify`, key)).ok) brokenChains++;
	}
	if (!(await json("GET", `${hot}/verify`, key)).ok) brokenChains++;
	// Stuck work at the end (docs/operations.md): parked items across the org and overdue timers on the actors it follows.
	const parked = (await json("GET", `/v1/orgs/${org}/parked?limit=1`, key)).total;
	const health = await json("GET", `/v1/orgs/${org}/health`, key);
	const overdueTimers = Object.values(health.kinds).reduce((n, kind) => n + kind.overdueTimers, 0);

	const summary = (result) => ({
		requests: result.requests.total,
		non2xx: result.non2xx,
		errors: result.errors,
		timeouts: result.timeouts,
		errorRate: (result.non2xx + result.errors + result.timeouts) / Math.max(1, result.requests.total + result.errors),
		requestsPerSecond: Math.round(result.requests.average),
		eventsPerSecond: Math.round(result.requests.average * batchSize),
		latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
	});
	const latencies = subs.flatMap((s) => s.latencies);
	// The first fifth is warm-up (objects created, JIT, SQLite caches filling); the trend is judged after it.
	const loaded = memory.filter((m) => !m.idle);
	const idled = memory.filter((m) => m.idle);
	const warm = loaded.filter((m) => m.t >= durationS / 5);
	const half = loaded.filter((m) => m.t >= durationS / 2);
	const quarter = Math.max(1, Math.floor(warm.length / 4));
	const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
	const firstQuarter = mean(warm.slice(0, quarter).map((m) => m.mb));
	const lastQuarter = mean(warm.slice(-quarter).map((m) => m.mb));
	const secondHalfSlope = slope(half.map((m) => ({ x: m.t / 60, y: m.mb })));
	const report = {
		command: `npm run soak -- --minutes ${minutes} --connections ${connections} --fanout-connections ${fanoutConnections} --subscribers ${subscribers} --sessions ${sessions} --batch ${batchSize}`,
		durationS,
		batchSize,
		// Batches still in flight when the clock ran out are stored but were not counted by autocannon: stored may exceed
		// accepted by at most one batch per connection; fewer stored than accepted would be a loss.
		ingest: {
			...summary(ingest),
			sessions,
			acceptedEvents: (ingest.requests.total - ingest.non2xx) * batchSize,
			storedEvents: stored,
			lostEvents: Math.max(0, (ingest.requests.total - ingest.non2xx) * batchSize - stored),
		},
		fanout: {
			...summary(fanout),
			subscribers,
			version: hotState.version,
			delivered: subs.reduce((n, s) => n + s.events, 0),
			expected: subscribers * hotState.version,
			gaps: subs.reduce((n, s) => n + s.gaps, 0),
			repeats: subs.reduce((n, s) => n + s.repeats, 0),
			closedEarly: subs.filter((s) => s.closed && s.lastSeq < hotState.version).length,
			pushLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
		},
		memoryMb: {
			beforeLoad: Math.round(memory[0].mb),
			afterWarmUp: Math.round(warm[0]?.mb ?? memory[0].mb),
			endOfLoad: Math.round(loaded.at(-1).mb),
			max: Math.round(Math.max(...memory.map((m) => m.mb))),
			afterIdle: Math.round(idled.at(-1)?.mb ?? loaded.at(-1).mb),
			idleSeconds: idleS,
			firstQuarterMean: Math.round(firstQuarter),
			lastQuarterMean: Math.round(lastQuarter),
			secondHalfSlopeMbPerMin: Math.round(secondHalfSlope * 10) / 10,
			samples: memory.map((m) => [Math.round(m.t), Math.round(m.mb)]),
			storedEventsPerMb: 0,
			growthPerRequestKb: 0,
		},
		brokenChains,
		parked,
		overdueTimers,
		health: health.status,
		// Other work on the machine competes for its cores: the load average at the end says how much.
		loadAverageAtEnd: loadavg().map((n) => Math.round(n * 100) / 100),
	};
	// Growth per request served: an empty Worker on the same local runtime grows about 10-20 KB a request (docs/reliability.md).
	report.memoryMb.growthPerRequestKb = Math.round(
		((report.memoryMb.endOfLoad - report.memoryMb.beforeLoad) * 1024) / Math.max(1, ingest.requests.total + fanout.requests.total),
	);
	report.memoryMb.storedEventsPerMb = Math.round(
		(stored + hotState.version) / Math.max(1, report.memoryMb.endOfLoad - report.memoryMb.beforeLoad),
	);
	// A growth trend: memory still climbing through the second half, and the last quarter after warm-up well above the first.
	report.memoryMb.growthTrend = secondHalfSlope > 2 && lastQuarter > firstQuarter * 1.15;
	report.ok =
		report.ingest.errorRate === 0 &&
		report.fanout.errorRate === 0 &&
		report.ingest.lostEvents === 0 &&
		report.ingest.storedEvents - report.ingest.acceptedEvents <= connections * batchSize &&
		report.fanout.delivered === report.fanout.expected &&
		report.fanout.gaps === 0 &&
		report.fanout.repeats === 0 &&
		brokenChains === 0 &&
		parked === 0 &&
		overdueTimers === 0 &&
		!report.memoryMb.growthTrend;
	const { samples, ...memoryShown } = report.memoryMb;
	console.log(JSON.stringify({ ...report, memoryMb: memoryShown }, null, 2));
	log(`memory samples (s, MB): ${samples.map(([t, mb]) => `${t}:${mb}`).join(" ")}`);
	if (args.out) await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);
	log(report.ok ? "OK: no errors, nothing lost, no memory growth trend" : "FAILED: see the report above");
	process.exitCode = report.ok ? 0 : 1;
} finally {
	await stopServer();
}
