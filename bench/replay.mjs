// Reducer replay in Node: the session reducer folding stored rows, as the kernel does on a wake or a
// state-at-version read (`eventForFold` of src/events/stored.ts: JSON.parse of data, upcast, meta kept as text
// unless read; then evolve), against a loop that only parses the same rows, data and meta, into plain objects.
// Node 24 runs the TypeScript sources directly (type stripping): src/reducers and src/events import no runtime code.
// Run alone: `node_modules/.bin/node bench/replay.mjs` (prints one line of JSON).
import { fileURLToPath } from "node:url";
import { BASE_TS, clientEvent, storedVersion } from "./events.ts";

/** Stored rows as the kernel keeps them: session.started, then the SDK mix the kernel bench appends. */
export function sessionRows(count, prefix = "replay") {
	const rows = new Array(count);
	const meta = JSON.stringify({ correlationId: `${prefix}-req`, requestId: `${prefix}-req` });
	rows[0] = { seq: 1, id: `${prefix}-0:started`, type: "session.started", v: 1, ts: BASE_TS, data: JSON.stringify({ visit: 1 }), meta };
	for (let i = 1; i < count; i++) {
		const { id, type, ts, data } = clientEvent(prefix, i);
		rows[i] = { seq: i + 1, id, type, v: storedVersion(type), ts, data: JSON.stringify(data), meta };
	}
	return rows;
}

const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Times `rounds` interleaved pairs over `count` rows: parse only, then parse + upcast + evolve. Returns the medians
 * in events/s and the median of the per-round ratios (replay / parse).
 */
export async function replayBench({ count = 200_000, rounds = 5 } = {}) {
	const { sessionDefinition } = await import("../src/reducers/session.ts");
	// The kernel's own row-to-event step for folds (data parsed and upcast, meta left as text unless read).
	const { eventForFold } = await import("../src/events/stored.ts");
	const { catalog, evolve, initialState } = sessionDefinition;
	const rows = sessionRows(count);
	const parseOnly = () => {
		let sink = 0;
		for (const row of rows) {
			const e = { seq: row.seq, id: row.id, type: row.type, v: row.v, ts: row.ts, data: JSON.parse(row.data), meta: JSON.parse(row.meta) };
			sink += e.seq;
		}
		return sink;
	};
	const replay = () => {
		let state = initialState();
		for (const row of rows) state = evolve(state, eventForFold(row, catalog));
		if (state.visit.events !== count - 1) throw new Error(`replay folded ${state.visit.events} events, expected ${count - 1}`);
		return state;
	};
	const time = (fn) => {
		const t0 = performance.now();
		fn();
		return (count / (performance.now() - t0)) * 1000;
	};
	// Warm-up: both loops once, so the JIT has seen them.
	parseOnly();
	replay();
	const parse = [];
	const fold = [];
	for (let r = 0; r < rounds; r++) {
		parse.push(time(parseOnly));
		fold.push(time(replay));
	}
	return {
		events: count,
		parseEventsPerSecond: median(parse),
		replayEventsPerSecond: median(fold),
		ratio: median(fold.map((eps, i) => eps / parse[i])),
		parseRuns: parse,
		replayRuns: fold,
	};
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	console.log(JSON.stringify(await replayBench()));
}
