/**
 * The kernel benchmark's Worker (run by bench/run.mjs): the real app and actor classes, plus a bare
 * SQLite Durable Object (`RawInsertBench`) that inserts rows of the `events` table's shape with no
 * kernel around it. Each `/bench/*` endpoint runs one timed case inside this Worker, calling its
 * Durable Object over RPC exactly as the HTTP route does, and answers with the time the appends took.
 */

import { DurableObject } from "cloudflare:workers";
import { createHash } from "node:crypto";
import { Agent, getAgentByName } from "agents";
import { Server } from "partyserver";
import { z } from "zod";
import { EventSourcedActor } from "../src/actors/actor.ts";
import type { StoredEvent } from "../src/actors/log.ts";
import { TYPE_INDEX_WHERE } from "../src/actors/type-index.ts";
import { setTestModel } from "../src/ai/provider.ts";
import { chainText } from "../src/core/hash.ts";
import type { Env } from "../src/env.ts";
import { defineEvent, EventCatalog } from "../src/events/catalog.ts";
// Before anything that loads the event schemas: the app's module graph extends zod for OpenAPI first.
import app, {
	CameraActor as AppCameraActor,
	ChatActor as AppChatActor,
	OrgActor as AppOrgActor,
	RegistryActor as AppRegistryActor,
	SessionActor as AppSessionActor,
} from "../src/index.ts";
import { type ActorDefinition, fold } from "../src/reducers/definition.ts";
import { type SessionState, sessionDefinition } from "../src/reducers/session.ts";

import { mockModel } from "./chat-worker.ts";
import { BASE_TS, type ClientEvent, clientEvent, storedVersion } from "./events.ts";
import { countingOrgEnv, instrument } from "./instrument.ts";
import { cameraRowsCase, chatRowsCase, ingestRowsCase, type Org, orgRpcCase, type ScaleEnv, searchFill, visitEndCase } from "./scale.ts";

export { BenchOrgActor, ShortVisitSessionActor } from "./scale.ts";

// The app's actors, each counted by bench/instrument.ts: rows written by its storage, its alarm writes, its RPCs to the org.
export class OrgActor extends AppOrgActor {
	constructor(ctx: DurableObjectState, env: Env) {
		instrument(ctx, "org");
		super(ctx, countingOrgEnv(env));
	}
}
export class SessionActor extends AppSessionActor {
	constructor(ctx: DurableObjectState, env: Env) {
		instrument(ctx, "session");
		super(ctx, countingOrgEnv(env));
	}
}
export class CameraActor extends AppCameraActor {
	constructor(ctx: DurableObjectState, env: Env) {
		instrument(ctx, "camera");
		super(ctx, countingOrgEnv(env));
	}
}
export class ChatActor extends AppChatActor {
	constructor(ctx: DurableObjectState, env: Env) {
		instrument(ctx, "chat");
		super(ctx, countingOrgEnv(env));
	}
}
export class RegistryActor extends AppRegistryActor {
	constructor(ctx: DurableObjectState, env: Env) {
		instrument(ctx, "registry");
		super(ctx, countingOrgEnv(env));
	}
}

interface BenchEnv extends ScaleEnv {
	RAW: DurableObjectNamespace<RawInsertBench>;
	BENCH_SESSION: DurableObjectNamespace<BenchSessionActor>;
	PARTY: DurableObjectNamespace<PartyBroadcastBench>;
	COUNTER: DurableObjectNamespace<BenchCounterActor>;
	AGENT_COUNTER: DurableObjectNamespace<CounterAgent>;
}

// ---- the counter workload: Roost keeps each increment as an event, the agents package keeps the state ----

const counterAdded = defineEvent("counter.added", z.object({ by: z.number().int() }));
const counterDefinition: ActorDefinition<{ count: number }> = {
	// A kind the kernel knows, so identity and snapshot tags work; its own class and namespace keep it apart.
	kind: "session",
	catalog: new EventCatalog([counterAdded]),
	reducerVersion: 9001,
	initialState: () => ({ count: 0 }),
	evolve: (state, event) => ({ count: state.count + (event.data as { by: number }).by }),
};

/** A counter on the Roost kernel: each add is an event in the log (seq, hash, snapshot every N), state folded from them. */
export class BenchCounterActor extends EventSourcedActor<{ count: number }> {
	constructor(ctx: DurableObjectState, env: BenchEnv) {
		super(ctx, env, counterDefinition);
	}

	add(by: number): number {
		const outcome = this.execute({}, (_state, version) => ({
			events: [{ id: `add-${version + 1}`, type: "counter.added", ts: Date.now(), data: { by } }],
			result: (_receipt, state) => state.count,
		}));
		if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
		return outcome.value;
	}
}

/** The same counter on the agents package: `setState` persists the whole state (and would broadcast it). */
export class CounterAgent extends Agent<BenchEnv, { count: number }> {
	override initialState = { count: 0 };

	add(by: number): number {
		this.setState({ count: this.state.count + by });
		return this.state.count;
	}
}

/** A row as the kernel stores it. */
export type RawRow = StoredEvent;

/** What every case answers: how many events went in, in how many calls, and how long the timed part took. */
export interface CaseResult {
	events: number;
	calls: number;
	ms: number;
}

// The same table and indexes as the migrations leave (0000_init.sql, the partial type index of 0004), so SQLite
// does the same index upkeep per row.
const EVENTS_DDL = [
	"CREATE TABLE IF NOT EXISTS events (seq integer PRIMARY KEY NOT NULL, id text NOT NULL, type text NOT NULL, v integer NOT NULL, " +
		"ts integer NOT NULL, data text NOT NULL, meta text NOT NULL, hash text NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS events_id_unique ON events (id)",
	`CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq) WHERE ${TYPE_INDEX_WHERE}`,
];

// DO SQLite binds at most 100 parameters per statement: 12 rows of 8 columns per INSERT, as EventLog does.
const ROWS_PER_INSERT = 12;
const insertSql = (rows: number) =>
	`INSERT INTO events (seq, id, type, v, ts, data, meta, hash) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`;
const INSERTS = Array.from({ length: ROWS_PER_INSERT + 1 }, (_, n) => insertSql(Math.max(n, 1)));

/** The baseline: a SQLite-backed Durable Object that only inserts the rows it is given, one transaction per call. */
export class RawInsertBench extends DurableObject<BenchEnv> {
	readonly #sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: BenchEnv) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		for (const statement of EVENTS_DDL) this.#sql.exec(statement);
	}

	/** Rows stored; also lets the caller wake the object (and create its table) before timing starts. */
	count(): number {
		return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n;
	}

	/** Does nothing: the floor under every single-call case is this round trip. */
	ping(): number {
		return 0;
	}

	#seq: number | null = null;

	/** SDK events as they arrive at the ingest route, stored as bare rows: seq from memory, no kernel, no hash. */
	appendEvents(events: ClientEvent[], requestId: string): number {
		this.#seq ??= this.#sql.exec<{ n: number }>("SELECT coalesce(max(seq), 0) AS n FROM events").one().n;
		const first = this.#seq + 1;
		this.insert(events.map((event, i) => rawRow(event, first + i, requestId)));
		this.#seq += events.length;
		return events.length;
	}

	insert(rows: RawRow[]): number {
		this.ctx.storage.transactionSync(() => {
			for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
				const chunk = rows.slice(start, start + ROWS_PER_INSERT);
				const params: (string | number)[] = [];
				for (const r of chunk) params.push(r.seq, r.id, r.type, r.v, r.ts, r.data, r.meta, r.hash);
				this.#sql.exec(INSERTS[chunk.length] as string, ...params);
			}
		});
		return rows.length;
	}
}

/**
 * The app's SessionActor unchanged, plus bench-only RPCs: a bulk path that writes the rows, hashes and snapshots
 * the kernel's append path would write for the same events (so a 1M-event log takes seconds, not minutes), a way
 * to drop the instance from memory (the next call wakes it from SQLite), and the database size.
 */
export class BenchSessionActor extends SessionActor {
	/** Fills an empty log with session.started and `count - 1` SDK events, straight into the tables. */
	bulkLoad(prefix: string, count: number): number {
		const tag = `${sessionDefinition.kind}@${sessionDefinition.reducerVersion}`;
		let { version, hash } = this.log.head();
		// One call per log: the instance's own state is not updated, so it is evicted right after.
		if (version !== 0) throw new Error("bulkLoad fills an empty log");
		let state: SessionState = sessionDefinition.initialState();
		const meta = JSON.stringify({ correlationId: `${prefix}-bulk`, requestId: `${prefix}-bulk` });
		let i = 0;
		while (i < count) {
			const rows: StoredEvent[] = [];
			const chunk = Math.min(10_000, count - i);
			const snapshotsDue: { version: number; state: SessionState }[] = [];
			for (let k = 0; k < chunk; k++, i++) {
				const seq = version + 1;
				let row: Omit<StoredEvent, "hash">;
				if (seq === 1)
					row = {
						seq,
						id: `${prefix}-start:started`,
						type: "session.started",
						v: 1,
						ts: BASE_TS,
						data: JSON.stringify({ visit: 1 }),
						meta,
					};
				else {
					const e = clientEvent(prefix, seq);
					row = { seq, id: e.id, type: e.type, v: storedVersion(e.type), ts: e.ts, data: JSON.stringify(e.data), meta };
				}
				hash = createHash("sha256").update(chainText(hash, row)).digest("hex");
				rows.push({ ...row, hash });
				state = fold(sessionDefinition, [{ ...row, data: JSON.parse(row.data), meta: JSON.parse(row.meta) }], state);
				version = seq;
				if (seq % this.snapshotEvery === 0) snapshotsDue.push({ version: seq, state });
			}
			this.ctx.storage.transactionSync(() => {
				this.log.insert(rows);
				for (const s of snapshotsDue) this.snapshots.write(s.version, tag, s.state);
			});
		}
		return version;
	}

	/** Throws the instance away; the next call builds a new one from storage (the wake being measured). */
	evict(): void {
		this.ctx.abort("bench: evict");
	}

	/** The cheapest call that needs the woken actor. */
	probe(): number {
		return this.version;
	}

	databaseSize(): number {
		return this.ctx.storage.sql.databaseSize;
	}
}

/** The peer for fan-out: a partyserver Server that only broadcasts what it is given. Hibernation on, as in the actors. */
export class PartyBroadcastBench extends Server<BenchEnv> {
	static override options = { hibernate: true };

	broadcastOnce(payload: string): number {
		this.broadcast(payload);
		return [...this.getConnections()].length;
	}
}

const FAKE_HASH = "ab".repeat(32);

/** The row the kernel would store for that event: the same text columns, a fixed 64-hex hash instead of a computed one. */
function rawRow(event: ClientEvent, seq: number, requestId: string): RawRow {
	const meta = JSON.stringify({ correlationId: requestId, requestId });
	return {
		seq,
		id: event.id,
		type: event.type,
		v: storedVersion(event.type),
		ts: event.ts,
		data: JSON.stringify(event.data),
		meta,
		hash: FAKE_HASH,
	};
}

function batches(name: string, count: number, batch: number): ClientEvent[][] {
	const out: ClientEvent[][] = [];
	for (let i = 1; i <= count; i += batch) {
		out.push(Array.from({ length: Math.min(batch, count - i + 1) }, (_, k) => clientEvent(name, i + k)));
	}
	return out;
}

/** Inserts `count` rows into a fresh RawInsertBench over RPC, `batch` rows per call. */
async function rawCase(env: BenchEnv, name: string, count: number, batch: number): Promise<CaseResult> {
	const stub = env.RAW.getByName(`bench:${name}`);
	const calls = batches(name, count, batch).map((events, call) => events.map((e, k) => rawRow(e, call * batch + k + 1, `${name}-${call}`)));
	await stub.count();
	// workerd's clock only moves on I/O, so the awaited call above makes t0 the time after setup.
	const t0 = performance.now();
	for (const rows of calls) await stub.insert(rows);
	const ms = performance.now() - t0;
	const stored = await stub.count();
	if (stored !== count) throw new Error(`${name}: ${stored} rows, expected ${count}`);
	return { events: count, calls: calls.length, ms };
}

/** `count` RPC calls that do no work, to a fresh RawInsertBench: the round trip alone. */
async function rpcCase(env: BenchEnv, name: string, count: number): Promise<CaseResult> {
	const stub = env.RAW.getByName(`bench:${name}`);
	await stub.ping();
	const t0 = performance.now();
	for (let i = 0; i < count; i++) await stub.ping();
	return { events: count, calls: count, ms: performance.now() - t0 };
}

/** Appends `count` events to a fresh SessionActor through `recordBatch` over RPC; the visit is opened before timing. */
async function kernelCase(env: BenchEnv, name: string, count: number, batch: number): Promise<CaseResult> {
	const stub = env.SESSION.getByName(`bench:${name}`);
	const calls = batches(name, count, batch);
	const opened = await stub.recordBatch({ events: [clientEvent(name, 0)] }, { requestId: `${name}-open` });
	if (!opened.ok) throw new Error(`open ${name}: ${JSON.stringify(opened.error)}`);
	let version = opened.value.version;
	const t0 = performance.now();
	for (const [call, events] of calls.entries()) {
		const requestId = `${name}-${call}`;
		const outcome = await stub.recordBatch({ events }, { requestId, correlationId: requestId });
		if (!outcome.ok) throw new Error(`append ${name}: ${JSON.stringify(outcome.error)}`);
		version = outcome.value.version;
	}
	const ms = performance.now() - t0;
	const moved = version - opened.value.version;
	if (moved !== count) throw new Error(`${name}: version moved by ${moved}, expected ${count}`);
	return { events: count, calls: calls.length, ms };
}

/** Posts to the app's session route through its fetch handler in this isolate: every Worker step but the socket. */
async function routeCase(env: BenchEnv, ctx: ExecutionContext, name: string, count: number, batch: number, org: Org): Promise<CaseResult> {
	const post = async (events: ClientEvent[]) => {
		const body = JSON.stringify({ events });
		// A real client sends content-length; without it the body limit re-reads the stream into a new Request.
		const headers = { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json", "content-length": String(body.length) };
		const url = `http://roost.bench/v1/orgs/${org.id}/sessions/${name}/events`;
		// A request made here has no edge `cf` object; the app does not read one.
		const request = new Request(url, { method: "POST", headers, body }) as Request<unknown, IncomingRequestCfProperties>;
		const response = await app.fetch(request, env, ctx);
		if (response.status !== 202) throw new Error(`route ${name}: ${response.status} ${await response.text()}`);
		return (await response.json()) as { accepted: number };
	};
	const calls = batches(name, count, batch);
	await post([clientEvent(name, 0)]);
	let accepted = 0;
	const t0 = performance.now();
	for (const events of calls) accepted += (await post(events)).accepted;
	const ms = performance.now() - t0;
	if (accepted !== count) throw new Error(`${name}: ${accepted} accepted, expected ${count}`);
	return { events: count, calls: calls.length, ms };
}

function positive(value: string | null, fallback: number): number {
	const n = Number(value ?? fallback);
	if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${value}`);
	return n;
}

const median = (values: number[]): number => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const quantile = (values: number[], q: number): number => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};

/** `count` sequential adds of 1 over RPC to a fresh counter: Roost's event-sourced one or the agents package's. */
async function counterCase(env: BenchEnv, name: string, count: number, target: "roost" | "agent"): Promise<CaseResult> {
	const stub = target === "roost" ? env.COUNTER.getByName(`bench:${name}`) : await getAgentByName(env.AGENT_COUNTER, `bench-${name}`);
	let value = await stub.add(0);
	const t0 = performance.now();
	for (let i = 0; i < count; i++) value = await stub.add(1);
	const ms = performance.now() - t0;
	if (value !== count) throw new Error(`${name}: counter at ${value}, expected ${count}`);
	return { events: count, calls: count, ms };
}

/** A page of readEvents as it comes over RPC. */
type Page = { events: unknown[]; next: number | null };

/** Drops the instance; the abort rejects the call that made it. */
async function evict(env: BenchEnv, key: string): Promise<void> {
	try {
		await env.BENCH_SESSION.getByName(key).evict();
	} catch {}
}

/**
 * Wake cost at `count` events: fill a log (bulk path), then `wakes` times evict the instance and time the first call
 * (constructor: migrations, snapshot + tail, alarm) on a fresh stub. Then state at arbitrary versions, state now, and
 * the append rate (100-event recordBatch calls) on the woken log.
 */
async function wakeCase(env: BenchEnv, name: string, count: number, wakes: number, appendEvents: number) {
	const key = `bench:${name}`;
	const built = performance.now();
	const version = await env.BENCH_SESSION.getByName(key).bulkLoad(name, count);
	const buildMs = performance.now() - built;
	const wakeMs: number[] = [];
	for (let w = 0; w < wakes; w++) {
		await evict(env, key);
		const stub = env.BENCH_SESSION.getByName(key);
		const t0 = performance.now();
		const seen = await stub.probe();
		wakeMs.push(performance.now() - t0);
		if (seen !== version) throw new Error(`${name}: woke at ${seen}, expected ${version}`);
	}
	const stub = env.BENCH_SESSION.getByName(key);
	const warm: number[] = [];
	for (let i = 0; i < 5; i++) {
		const t0 = performance.now();
		await stub.probe();
		warm.push(performance.now() - t0);
	}
	// Arbitrary versions: spread over the log, none on a snapshot boundary (199 is the longest tail).
	const atVersions = [0.137, 0.5, 0.777, 0.999]
		.map((f) => Math.max(1, Math.floor(version * f) - (Math.floor(version * f) % 200) + 199))
		.map((v) => Math.min(v, version - 1));
	const stateAtMs: number[] = [];
	for (const at of atVersions) {
		const t0 = performance.now();
		const read = (await stub.readState(at)) as { ok: boolean; value?: { version: number } };
		stateAtMs.push(performance.now() - t0);
		if (!read.ok || read.value?.version !== at) throw new Error(`${name}: readState(${at}) failed`);
	}
	const stateNowMs: number[] = [];
	for (let i = 0; i < 5; i++) {
		const t0 = performance.now();
		await stub.readState();
		stateNowMs.push(performance.now() - t0);
	}
	const calls = batches(`${name}-more`, appendEvents, 100);
	const t0 = performance.now();
	for (const [call, events] of calls.entries()) {
		const outcome = await stub.recordBatch({ events }, { requestId: `${name}-a${call}` });
		if (!outcome.ok) throw new Error(`append ${name}: ${JSON.stringify(outcome.error)}`);
	}
	const appendMs = performance.now() - t0;
	return {
		events: version,
		buildMs,
		wakeMs: median(wakeMs),
		wakeRuns: wakeMs,
		warmCallMs: median(warm),
		atVersions,
		stateAtMs: median(stateAtMs),
		stateAtMaxMs: Math.max(...stateAtMs),
		stateAtRuns: stateAtMs,
		stateNowMs: median(stateNowMs),
		appendEventsPerSecond: (appendEvents / appendMs) * 1000,
	};
}

/** Bytes on disk per event for a log written through the kernel (recordBatch, 100 per call), against its events' JSON. */
async function storageCase(env: BenchEnv, name: string, count: number) {
	const empty = env.BENCH_SESSION.getByName(`bench:${name}-empty`);
	const emptyBytes = await empty.databaseSize();
	const stub = env.BENCH_SESSION.getByName(`bench:${name}`);
	for (const [call, events] of batches(name, count, 100).entries()) {
		const outcome = await stub.recordBatch({ events }, { requestId: `${name}-${call}`, correlationId: `${name}-${call}` });
		if (!outcome.ok) throw new Error(`append ${name}: ${JSON.stringify(outcome.error)}`);
	}
	const bytes = await stub.databaseSize();
	let jsonBytes = 0;
	let events = 0;
	let after = 0;
	const encoder = new TextEncoder();
	for (;;) {
		const page = (await stub.readEvents({ after, limit: 1000 })) as unknown as Page;
		for (const event of page.events) jsonBytes += encoder.encode(JSON.stringify(event)).length;
		events += page.events.length;
		if (page.next === null) break;
		after = page.next;
	}
	return { events, databaseBytes: bytes, emptyDatabaseBytes: emptyBytes, jsonBytes };
}

/**
 * One event at a time fanned out to `sockets` WebSockets opened from this Worker: Roost appends one SDK event to a
 * session actor (the commit and the push), the peer is partyserver's `broadcast` of a frame of the same size. Per event,
 * the time from the call to each socket's receipt; throughput is socket deliveries per second over the timed loop.
 */
async function fanoutCase(env: BenchEnv, name: string, sockets: number, events: number, target: "roost" | "party") {
	const roost = env.BENCH_SESSION.getByName(`bench:${name}`);
	const party = env.PARTY.getByName(`bench:${name}`);
	let frame = "";
	if (target === "roost") {
		const opened = await roost.recordBatch({ events: [clientEvent(name, 0)] }, { requestId: `${name}-open` });
		if (!opened.ok) throw new Error(`open ${name}: ${JSON.stringify(opened.error)}`);
	} else {
		// The frame Roost pushes for such an event, so both send the same bytes.
		const sample = env.BENCH_SESSION.getByName(`bench:${name}-sample`);
		const opened = await sample.recordBatch({ events: [clientEvent(name, 0), clientEvent(name, 1)] }, { requestId: `${name}-open` });
		if (!opened.ok) throw new Error(`sample ${name}: ${JSON.stringify(opened.error)}`);
		const page = (await sample.readEvents({ after: 1, limit: 1 })) as unknown as Page;
		frame = JSON.stringify({ t: "event", event: page.events[0] });
	}
	let pending: { seen: number; t0: number; latencies: number[]; done: () => void } | null = null;
	const open: WebSocket[] = [];
	const connect = async (i: number) => {
		const url = `http://bench/ws?after=1000000000&_pk=${i}`;
		const res = await (target === "roost" ? roost : party).fetch(url.replace("after=1000000000", target === "roost" ? "after=2" : "x=0"), {
			headers: { Upgrade: "websocket" },
		});
		const ws = res.webSocket;
		if (!ws) throw new Error(`${name}: socket ${i} not upgraded (${res.status})`);
		ws.accept();
		ws.addEventListener("message", (m) => {
			const text = typeof m.data === "string" ? m.data : "";
			if (!pending || !text.startsWith('{"t":"event"')) return;
			pending.latencies.push(performance.now() - pending.t0);
			if (++pending.seen === sockets) pending.done();
		});
		open.push(ws);
	};
	for (let i = 0; i < sockets; i += 50) await Promise.all(Array.from({ length: Math.min(50, sockets - i) }, (_, k) => connect(i + k)));
	// Let the hello frames drain before timing.
	await (target === "roost" ? roost.probe() : party.broadcastOnce("warm"));
	const latencies: number[] = [];
	const perEventMs: number[] = [];
	const started = performance.now();
	for (let e = 0; e < events; e++) {
		const state = { seen: 0, t0: 0, latencies: [] as number[], done: () => {} };
		const all = new Promise<void>((resolve) => {
			state.done = resolve;
		});
		pending = state;
		state.t0 = performance.now();
		if (target === "roost") {
			const outcome = await roost.recordBatch({ events: [clientEvent(name, e + 1)] }, { requestId: `${name}-${e}` });
			if (!outcome.ok) throw new Error(`append ${name}: ${JSON.stringify(outcome.error)}`);
		} else {
			await party.broadcastOnce(frame);
		}
		await all;
		perEventMs.push(performance.now() - state.t0);
		latencies.push(...state.latencies);
	}
	const ms = performance.now() - started;
	for (const ws of open) ws.close(1000, "bench done");
	return {
		sockets,
		events,
		deliveriesPerSecond: ((sockets * events) / ms) * 1000,
		p50Ms: quantile(latencies, 0.5),
		p99Ms: quantile(latencies, 0.99),
		allDeliveredP50Ms: quantile(perEventMs, 0.5),
		allDeliveredP99Ms: quantile(perEventMs, 0.99),
		frameBytes: frame.length,
	};
}

export default {
	...app,
	// The org intake's consumer (src/intake.ts) calls its orgs through the counting binding, so its RPCs are counted too.
	queue: (batch, env) => app.queue(batch, countingOrgEnv(env)),
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		if (url.pathname === "/drop/events" && request.method === "POST") {
			// The ingest baseline: a Worker route that parses the batch and drops it.
			const body = (await request.json()) as { events: unknown[] };
			return Response.json({ accepted: body.events.length }, { status: 202 });
		}
		const raw = /^\/raw\/sessions\/([\w.:-]+)\/events$/.exec(url.pathname);
		if (raw && request.method === "POST") {
			// The ingest ceiling: the same HTTP request and one RPC carrying the batch to a bare SQLite object that
			// stores it (no key check, no validation, no hash, no timers).
			const body = (await request.json()) as { events: ClientEvent[] };
			const accepted = await env.RAW.getByName(`ingest:${raw[1]}`).appendEvents(body.events, crypto.randomUUID());
			return Response.json({ accepted }, { status: 202 });
		}
		if (!url.pathname.startsWith("/bench/")) return app.fetch(request, env, ctx);
		const name = url.searchParams.get("name") ?? crypto.randomUUID();
		const count = positive(url.searchParams.get("count"), 1000);
		const batch = positive(url.searchParams.get("batch"), 1);
		try {
			const param = (key: string, fallback: number) => positive(url.searchParams.get(key), fallback);
			if (url.pathname === "/bench/wake") return Response.json(await wakeCase(env, name, count, param("wakes", 3), param("append", 1000)));
			if (url.pathname === "/bench/counter")
				return Response.json(await counterCase(env, name, count, url.searchParams.get("target") === "agent" ? "agent" : "roost"));
			if (url.pathname === "/bench/storage") return Response.json(await storageCase(env, name, count));
			if (url.pathname === "/bench/fanout") {
				const target = url.searchParams.get("target") === "party" ? "party" : "roost";
				return Response.json(await fanoutCase(env, name, param("sockets", 10), count, target));
			}
			const org = { id: url.searchParams.get("org") ?? "", apiKey: request.headers.get("x-bench-key") ?? "" };
			if (url.pathname === "/bench/rows/ingest") return Response.json(await ingestRowsCase(env, ctx, org, name, batch, count));
			if (url.pathname === "/bench/rows/org-rpc")
				return Response.json(await orgRpcCase(env, ctx, org, name, param("sessions", 100), param("requests", 10), batch));
			if (url.pathname === "/bench/rows/visit-end") return Response.json(await visitEndCase(env, org, name, count, param("requests", 10)));
			if (url.pathname === "/bench/rows/chat") {
				const mode = url.searchParams.get("mode") === "paced" ? "paced" : "burst";
				setTestModel(() => mockModel(param("tokens", 2000), mode), `bench ${mode}`);
				return Response.json(await chatRowsCase(env, ctx, org, name));
			}
			if (url.pathname === "/bench/rows/camera") return Response.json(await cameraRowsCase(env, ctx, org, name, count));
			if (url.pathname === "/bench/search/fill")
				return Response.json(await searchFill(env, name, Number(url.searchParams.get("from") ?? 0), count));
			if (url.pathname === "/bench/search/query") {
				const query = JSON.parse(url.searchParams.get("query") ?? "{}");
				return Response.json(await env.BENCH_ORG.getByName(`${name}:${name}`).searchInteractions(query));
			}
			if (url.pathname === "/bench/session/evict") {
				await evict(env, `bench:${name}`);
				return Response.json({ evicted: true });
			}
			if (url.pathname === "/bench/session/probe")
				return Response.json({ version: await env.BENCH_SESSION.getByName(`bench:${name}`).probe() });
			if (url.pathname === "/bench/rpc") return Response.json(await rpcCase(env, name, count));
			if (url.pathname === "/bench/raw") return Response.json(await rawCase(env, name, count, batch));
			if (url.pathname === "/bench/kernel") return Response.json(await kernelCase(env, name, count, batch));
			if (url.pathname === "/bench/route") {
				return Response.json(await routeCase(env, ctx, name, count, batch, org));
			}
		} catch (error) {
			return Response.json({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, { status: 500 });
		}
		return new Response("unknown bench case", { status: 404 });
	},
} satisfies ExportedHandler<BenchEnv>;
