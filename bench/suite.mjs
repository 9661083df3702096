// The issue-12 suite cases that run after the kernel rounds of bench/run.mjs: reducer replay in Node, bytes per
// event on disk, wake and state-at-version against log length, WebSocket fan-out against partyserver's broadcast,
// and SDK-shaped ingest over HTTP against a route that drops the batch. Each returns rows for the suite table:
// { id, label, value, unit, ratio, baseline, target, met, detail }.
import { replayBench } from "./replay.mjs";

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function benchCall(base, path, params, key) {
	const query = new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));
	const res = await fetch(new URL(`/bench/${path}?${query}`, base), { headers: key ? { "x-bench-key": key } : {} });
	const body = await res.json();
	if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.error ?? JSON.stringify(body)}`);
	return body;
}

let sequence = 0;
const uniqueName = (id) => `${id}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;

export async function replayRows({ quick }) {
	const r = await replayBench({ count: quick ? 50_000 : 200_000, rounds: quick ? 3 : 5 });
	return [
		{
			id: "replay",
			label: "session reducer replay in Node (parse + upcast + evolve)",
			value: r.replayEventsPerSecond,
			unit: "events/s",
			baseline: `parse-only loop ${Math.round(r.parseEventsPerSecond).toLocaleString("en-US")} events/s`,
			ratio: r.ratio,
			target: ">= 1,000,000 events/s",
			met: r.replayEventsPerSecond >= 1_000_000,
			detail: r,
		},
	];
}

export async function storageRows(base, { quick }) {
	const r = await benchCall(base, "storage", { name: uniqueName("storage"), count: quick ? 2000 : 10_000 });
	const perEvent = r.databaseBytes / r.events;
	const jsonPerEvent = r.jsonBytes / r.events;
	return [
		{
			id: "storage",
			label: `bytes on disk per event (${r.events.toLocaleString("en-US")} events via recordBatch, with snapshots, timers, indexes)`,
			value: perEvent,
			unit: "bytes/event",
			baseline: `event JSON (envelope) ${Math.round(jsonPerEvent)} bytes/event`,
			ratio: perEvent / jsonPerEvent,
			target: "reported",
			met: null,
			detail: r,
		},
	];
}

export async function wakeRows(base, { quick }) {
	const sizes = quick ? [1000, 10_000, 100_000] : [1000, 100_000, 1_000_000];
	const runs = {};
	// 9 wakes, median kept: the clock inside the Worker moves in whole milliseconds and a wake takes a few, and the first
	// wake after the bulk build reads a cold file (over 100 ms at 1M).
	for (const size of sizes)
		runs[size] = await benchCall(base, "wake", { name: uniqueName(`wake-${size}`), count: size, wakes: 9, append: 1000 });
	const small = runs[sizes[0]];
	const label = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
	const rows = [];
	for (const size of sizes) {
		const r = runs[size];
		const isTop = size === sizes.at(-1);
		rows.push({
			id: `wake-${label(size)}`,
			label: `wake of an actor with ${label(size)} events (first call after eviction)`,
			value: r.wakeMs,
			unit: "ms",
			baseline: `wake at ${label(sizes[0])}: ${small.wakeMs.toFixed(1)} ms`,
			ratio: r.wakeMs / small.wakeMs,
			target: isTop ? "ratio <= 1.5" : "",
			met: isTop ? r.wakeMs / small.wakeMs <= 1.5 : null,
			lowerIsBetter: true,
			detail: r,
		});
	}
	for (const size of sizes) {
		const r = runs[size];
		rows.push({
			id: `append-at-${label(size)}`,
			label: `append rate on a ${label(size)}-event log (recordBatch, 100/call)`,
			value: r.appendEventsPerSecond,
			unit: "events/s",
			baseline: `at ${label(sizes[0])}: ${Math.round(small.appendEventsPerSecond).toLocaleString("en-US")}`,
			ratio: r.appendEventsPerSecond / small.appendEventsPerSecond,
			target: "",
			met: null,
			detail: { events: r.events },
		});
	}
	const top = runs[sizes.at(-1)];
	rows.push({
		id: `state-at-${label(sizes.at(-1))}`,
		label: `state at arbitrary versions of a ${label(sizes.at(-1))} log (worst of ${top.atVersions.length})`,
		value: top.stateAtMaxMs,
		unit: "ms",
		baseline: `state now ${top.stateNowMs.toFixed(1)} ms`,
		ratio: top.stateAtMaxMs / Math.max(top.stateNowMs, 0.001),
		target: "< 200 ms",
		met: top.stateAtMaxMs < 200,
		lowerIsBetter: true,
		detail: { atVersions: top.atVersions, runs: top.stateAtRuns, stateNowMs: top.stateNowMs },
	});
	return rows;
}

export async function fanoutRows(base, { quick }) {
	const counts = quick ? [10, 100] : [10, 100, 1000];
	const events = quick ? 5 : 20;
	const rows = [];
	for (const sockets of counts) {
		const roost = [];
		const party = [];
		for (let round = 0; round < (quick ? 1 : 3); round++) {
			party.push(await benchCall(base, "fanout", { name: uniqueName(`party-${sockets}`), count: events, sockets, target: "party" }));
			roost.push(await benchCall(base, "fanout", { name: uniqueName(`fanout-${sockets}`), count: events, sockets, target: "roost" }));
		}
		const ratio = median(roost.map((r, i) => r.deliveriesPerSecond / party[i].deliveriesPerSecond));
		const p50 = median(roost.map((r) => r.p50Ms));
		const p99 = median(roost.map((r) => r.p99Ms));
		const isTop = sockets === 1000;
		rows.push({
			id: `fanout-${sockets}`,
			label: `one event to ${sockets} WebSockets: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (party p50 ${median(party.map((r) => r.p50Ms)).toFixed(1)}, p99 ${median(party.map((r) => r.p99Ms)).toFixed(1)})`,
			value: median(roost.map((r) => r.deliveriesPerSecond)),
			unit: "deliveries/s",
			baseline: `partyserver broadcast ${Math.round(median(party.map((r) => r.deliveriesPerSecond))).toLocaleString("en-US")} deliveries/s`,
			ratio,
			target: isTop ? "ratio >= 0.8; p99 < 100 ms" : "",
			met: isTop ? ratio >= 0.8 && p99 < 100 : null,
			detail: { p50Ms: p50, p99Ms: p99, roost, party },
		});
	}
	return rows;
}

/** SDK-shaped ingest: `clients` sessions posting batches of 50 over HTTP, against a route that parses and drops them. */
export async function ingestRows(base, org, { quick, httpCase, clientEvent }) {
	const clients = 4;
	const count = quick ? 2000 : 10_000;
	const spec = { id: "ingest-50", batch: 50, clients };
	const roost = [];
	const drop = [];
	const raw = [];
	for (let round = 0; round < (quick ? 1 : 5); round++) {
		drop.push(await postCase(base, clients, 50, count, clientEvent, () => "/drop/events"));
		raw.push(await postCase(base, clients, 50, count, clientEvent, (c) => `/raw/sessions/${uniqueName(`raw-c${c}`)}/events`));
		roost.push(await httpCase(base, org, spec, count));
	}
	const ratio = median(roost.map((eps, i) => eps / drop[i]));
	const rawRatio = median(raw.map((eps, i) => eps / drop[i]));
	const eps = median(roost);
	return [
		{
			id: "ingest-50",
			label: `SDK ingest over HTTP, batches of 50, ${clients} sessions in flight`,
			value: eps,
			unit: "events/s",
			baseline: `drop route ${Math.round(median(drop)).toLocaleString("en-US")} events/s`,
			ratio,
			target: "ratio >= 0.5; >= 5,000 events/s",
			met: ratio >= 0.5 && eps >= 5000,
			detail: { roost, drop, raw, ratioToRaw: median(roost.map((eps, i) => eps / raw[i])) },
		},
		{
			id: "ingest-raw-50",
			label: `the ceiling: the same batches stored by a bare SQLite object (no kernel, no key check), ${clients} in flight`,
			value: median(raw),
			unit: "events/s",
			baseline: `drop route ${Math.round(median(drop)).toLocaleString("en-US")} events/s`,
			ratio: rawRatio,
			target: "",
			met: null,
			detail: { raw, drop },
		},
	];
}

/** `clients` clients posting the same batch of `batch` events to `path(client)` (no credentials), one request in flight each. */
async function postCase(base, clients, batch, count, clientEvent, path) {
	const perClient = Math.ceil(count / clients / batch);
	// Bodies built before timing, as httpCase does; fresh ids in each, so a storing route stores every event.
	const bodies = Array.from({ length: clients }, (_, c) =>
		Array.from({ length: perClient }, (_, i) =>
			JSON.stringify({ events: Array.from({ length: batch }, (_, k) => clientEvent(`c${c}-r${i}`, k + 1)) }),
		),
	);
	const t0 = performance.now();
	await Promise.all(
		bodies.map(async (clientBodies, c) => {
			const url = new URL(path(c), base);
			for (const body of clientBodies) {
				const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
				await res.arrayBuffer();
				if (res.status !== 202) throw new Error(`${url.pathname}: ${res.status}`);
			}
		}),
	);
	return ((perClient * clients * batch) / (performance.now() - t0)) * 1000;
}

/** The counter workload: Roost's event-sourced counter (every add an event) against the agents package's `setState`. */
export async function counterRows(base, { quick }) {
	const count = quick ? 300 : 1000;
	const roost = [];
	const agent = [];
	// Both are one RPC per add, so the ratio sits near 1 and one round's load swing decides its side: 9 rounds, and the
	// order flips every round so neither side always runs first.
	for (let round = 0; round < (quick ? 1 : 9); round++) {
		const runAgent = () => benchCall(base, "counter", { name: uniqueName("agent"), count, target: "agent" });
		const runRoost = () => benchCall(base, "counter", { name: uniqueName("counter"), count, target: "roost" });
		let a;
		let r;
		if (round % 2 === 0) {
			a = await runAgent();
			r = await runRoost();
		} else {
			r = await runRoost();
			a = await runAgent();
		}
		agent.push((a.events / a.ms) * 1000);
		roost.push((r.events / r.ms) * 1000);
	}
	const ratio = median(roost.map((eps, i) => eps / agent[i]));
	return [
		{
			id: "counter",
			label: "counter, one add per RPC call, kept as events (Roost kernel)",
			value: median(roost),
			unit: "adds/s",
			baseline: `agents Agent.setState ${Math.round(median(agent)).toLocaleString("en-US")} adds/s`,
			ratio,
			target: "ratio >= 1.0",
			met: ratio >= 1.0,
			detail: { roost, agent },
		},
	];
}

export const SUITE = ["replay", "storage", "counter", "wake", "fanout", "ingest"];
