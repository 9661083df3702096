/**
 * The kernel benchmark's Worker (run by bench/run.mjs): the real app and actor classes, plus a bare
 * SQLite Durable Object (`RawInsertBench`) that inserts rows of the `events` table's shape with no
 * kernel around it. Each `/bench/*` endpoint runs one timed case inside this Worker, calling its
 * Durable Object over RPC exactly as the HTTP route does, and answers with the time the appends took.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env.ts";
import app from "../src/index.ts";

export { CameraActor, ChatActor, OrgActor, RegistryActor, SessionActor } from "../src/index.ts";

interface BenchEnv extends Env {
	RAW: DurableObjectNamespace<RawInsertBench>;
}

/** A row as the kernel stores it (src/actors/log.ts `StoredEvent`). */
export interface RawRow {
	seq: number;
	id: string;
	type: string;
	v: number;
	ts: number;
	data: string;
	meta: string;
	hash: string;
}

/** One event as the SDK sends it. */
interface ClientEvent {
	id: string;
	type: string;
	ts: number;
	data: Record<string, unknown>;
}

/** What every case answers: how many events went in, in how many calls, and how long the timed part took. */
export interface CaseResult {
	events: number;
	calls: number;
	ms: number;
}

// The same table and indexes as migrations/0000_init.sql, so SQLite does the same index upkeep per row.
const EVENTS_DDL = [
	"CREATE TABLE IF NOT EXISTS events (seq integer PRIMARY KEY NOT NULL, id text NOT NULL, type text NOT NULL, v integer NOT NULL, " +
		"ts integer NOT NULL, data text NOT NULL, meta text NOT NULL, hash text NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS events_id_unique ON events (id)",
	"CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq)",
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

const BASE_TS = 1_800_000_000_000;
const FAKE_HASH = "ab".repeat(32);

/** A realistic SDK event: page views over a dozen pages, clicks and custom events, 80 to 110 bytes of data. */
function clientEvent(prefix: string, i: number): ClientEvent {
	const id = `${prefix}-${i}`;
	const ts = BASE_TS + i * 250;
	const page = `/products/${i % 12}`;
	switch (i % 3) {
		case 0:
			return { id, type: "session.page_viewed", ts, data: { url: `https://shop.example${page}?ref=bench`, path: page, title: "Product" } };
		case 1:
			return { id, type: "session.clicked", ts, data: { target: "main > div.product > button.add", text: "Add to cart", x: 412, y: 630 } };
		default:
			return { id, type: "session.custom", ts, data: { name: "add_to_cart", props: { sku: `SKU-${i % 40}`, qty: 1 } } };
	}
}

/** The row the kernel would store for that event: the same text columns, a fixed 64-hex hash instead of a computed one. */
function rawRow(event: ClientEvent, seq: number, requestId: string): RawRow {
	const meta = JSON.stringify({ correlationId: requestId, requestId });
	return { seq, id: event.id, type: event.type, v: 1, ts: event.ts, data: JSON.stringify(event.data), meta, hash: FAKE_HASH };
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

/** The org the route cases post to, and one of its API keys. */
interface Org {
	id: string;
	apiKey: string;
}

function positive(value: string | null, fallback: number): number {
	const n = Number(value ?? fallback);
	if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${value}`);
	return n;
}

export default {
	...app,
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		if (!url.pathname.startsWith("/bench/")) return app.fetch(request, env, ctx);
		const name = url.searchParams.get("name") ?? crypto.randomUUID();
		const count = positive(url.searchParams.get("count"), 1000);
		const batch = positive(url.searchParams.get("batch"), 1);
		try {
			if (url.pathname === "/bench/rpc") return Response.json(await rpcCase(env, name, count));
			if (url.pathname === "/bench/raw") return Response.json(await rawCase(env, name, count, batch));
			if (url.pathname === "/bench/kernel") return Response.json(await kernelCase(env, name, count, batch));
			if (url.pathname === "/bench/route") {
				const org = { id: url.searchParams.get("org") ?? "", apiKey: request.headers.get("x-bench-key") ?? "" };
				return Response.json(await routeCase(env, ctx, name, count, batch, org));
			}
		} catch (error) {
			return Response.json({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, { status: 500 });
		}
		return new Response("unknown bench case", { status: 404 });
	},
} satisfies ExportedHandler<BenchEnv>;
