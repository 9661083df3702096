#!/usr/bin/env node
// `npm run bench:profile -- <workload>`: a sampling CPU profile of the bench Worker's isolate while one workload
// runs, taken over the Chrome DevTools protocol through wrangler's inspector. Prints the functions with the most
// self time and the largest inclusive shares; writes the .cpuprofile (open it in Chrome's DevTools) under
// bench/results/. Workloads: ingest (batches of 50 over HTTP, 4 sessions), single (one event per HTTP request, one in
// flight), counter (one add per RPC on the kernel), agent (the same adds on the agents package's Agent.setState),
// search (pages of the org's interactions by page path and by source, bench/scale.ts fills the org first).
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { clientEvent, createOrg, freePort, prepareWrangler } from "./common.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { tmp, unstable_startWorker } = await prepareWrangler("roost-profile-");

const workload = process.argv[2] ?? "ingest";
const inspectorPort = await freePort();
const worker = await unstable_startWorker({
	config: join(root, "bench/wrangler.jsonc"),
	dev: { persist: join(tmp, "state"), inspector: { port: inspectorPort }, watch: false, server: { hostname: "127.0.0.1", port: 0 } },
});
await worker.ready;
const base = await worker.url;
const org = await createOrg(base, "Profile");

const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
const target = targets.find((t) => !t.url?.includes("proxy")) ?? targets[0];
// The inspector proxy wants an Origin it allows (localhost); undici sends a User-Agent and no Origin by default.
const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
await new Promise((resolve, reject) => {
	ws.onopen = resolve;
	ws.onerror = reject;
});
let nextId = 1;
const pending = new Map();
ws.onmessage = (m) => {
	const msg = JSON.parse(m.data);
	if (msg.id && pending.has(msg.id)) {
		pending.get(msg.id)(msg);
		pending.delete(msg.id);
	}
};
const send = (method, params = {}) =>
	new Promise((resolve) => {
		const id = nextId++;
		pending.set(id, resolve);
		ws.send(JSON.stringify({ id, method, params }));
	});

/** One event per request, one request in flight: the `http-1` case. */
async function single(count) {
	const session = `single-${Date.now().toString(36)}`;
	for (let i = 0; i < count; i++) {
		const res = await fetch(new URL(`/v1/orgs/${org.id}/sessions/${session}/events`, base), {
			method: "POST",
			headers: { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" },
			body: JSON.stringify({ events: [clientEvent(session, i)] }),
		});
		await res.arrayBuffer();
		if (res.status !== 202) throw new Error(`single: ${res.status}`);
	}
}

async function ingest(rounds) {
	await Promise.all(
		[0, 1, 2, 3].map(async (c) => {
			const session = `p-${c}-${Date.now().toString(36)}`;
			for (let r = 0; r < rounds; r++) {
				const events = Array.from({ length: 50 }, (_, k) => clientEvent(session, r * 50 + k));
				const res = await fetch(new URL(`/v1/orgs/${org.id}/sessions/${session}/events`, base), {
					method: "POST",
					headers: { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" },
					body: JSON.stringify({ events }),
				});
				await res.arrayBuffer();
				if (res.status !== 202) throw new Error(`ingest: ${res.status}`);
			}
		}),
	);
}
async function counter(count, target) {
	const res = await fetch(new URL(`/bench/counter?name=c-${Date.now()}&count=${count}&target=${target}`, base));
	await res.json();
}
/** Pages of 50 by page path, then by source, from an org filled with 40,000 interactions (bench/scale.ts) before timing. */
const searchOrg = `profile-search-${Date.now().toString(36)}`;
async function search(queries) {
	const call = async (path, params) => {
		const res = await fetch(new URL(`/bench/${path}?${new URLSearchParams({ name: searchOrg, ...params })}`, base));
		if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
		return res.json();
	};
	if (!search.filled) {
		for (let from = 0; from < 40_000; from += 20_000) await call("search/fill", { from: String(from), count: "20000" });
		search.filled = true;
	}
	for (let k = 0; k < queries; k++) {
		const query = k % 2 ? { source: "cctv", limit: 50 } : { page: `/p/${k % 400}`, limit: 50 };
		const page = await call("search/query", { query: JSON.stringify(query) });
		if (!page.ok) throw new Error(`search: ${JSON.stringify(page.error)}`);
	}
}
const WORKLOADS = {
	ingest: () => ingest(100),
	search: () => search(400),
	single: () => single(600),
	counter: () => counter(3000, "roost"),
	agent: () => counter(3000, "agent"),
};
const run = WORKLOADS[workload];
if (!run) throw new Error(`unknown workload ${workload}: ${Object.keys(WORKLOADS).join(", ")}`);

await run(); // warm-up
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });
await send("Profiler.start");
const t0 = performance.now();
await run();
const ms = performance.now() - t0;
const { result } = await send("Profiler.stop");
// The bundle's source, to show the line each function starts on (the bundle is built in memory).
await send("Debugger.enable");
const sources = new Map();
for (const node of result.profile.nodes) {
	const { scriptId, url } = node.callFrame;
	if (url.endsWith("worker.js") && !sources.has(scriptId)) {
		const { result: source } = await send("Debugger.getScriptSource", { scriptId });
		sources.set(scriptId, source?.scriptSource?.split("\n") ?? []);
	}
}
ws.close();
await worker.dispose();
// wrangler may still write its log after dispose: remove the temp dir on exit.
process.on("exit", () => rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }));

const profile = result.profile;
const out = join(root, `bench/results/profile-${workload}.cpuprofile`);
writeFileSync(out, JSON.stringify(profile));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfCount = new Map();
for (const s of profile.samples) selfCount.set(s, (selfCount.get(s) ?? 0) + 1);
const total = profile.samples.length;
const name = (n) => {
	const { functionName, url, lineNumber, scriptId } = n.callFrame;
	const line = sources.get(scriptId)?.[lineNumber]?.trim().slice(0, 60) ?? "";
	return `${functionName || "(anon)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1} ${line}`;
};
const self = new Map();
const incl = new Map();
for (const [id, count] of selfCount) {
	const n = byId.get(id);
	self.set(name(n), (self.get(name(n)) ?? 0) + count);
	const seen = new Set();
	for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
		const k = name(byId.get(cur));
		if (seen.has(k)) continue;
		seen.add(k);
		incl.set(k, (incl.get(k) ?? 0) + count);
	}
}
const pct = (c) => `${((c / total) * 100).toFixed(1)}%`;
console.log(`${workload}: ${ms.toFixed(0)} ms, ${total} samples; written ${out}`);
console.log("\nself time:");
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(pct(c).padStart(7), k);
console.log("\ninclusive:");
for (const [k, c] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 60)) console.log(pct(c).padStart(7), k);
