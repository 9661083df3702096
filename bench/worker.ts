/**
 * The kernel benchmark's Worker: the real app and actor classes, plus a bare SQLite Durable Object
 * (`RawInsertBench`) that inserts rows of the `events` table's shape with no kernel around it.
 * Each `/bench/*` endpoint runs one timed case inside this Worker, calling its Durable Object over
 * RPC exactly as the HTTP route does, and answers with the time the appends took.
 */
import { DurableObject } from "cloudflare:workers";
import type { SessionActor } from "../src/actors/session.ts";
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

// The same table and indexes as migrations/0000_init.sql, so SQLite does the same index upkeep per row.
const EVENTS_DDL = [
	"CREATE TABLE IF NOT EXISTS events (seq integer PRIMARY KEY NOT NULL, id text NOT NULL, type text NOT NULL, v integer NOT NULL, " +
		"ts integer NOT NULL, data text NOT NULL, meta text NOT NULL, hash text NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS events_id_unique ON events (id)",
	"CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq)",
];

// DO SQLite binds at most 100 parameters per statement, so 12 rows of 8 columns per INSERT, as EventLog does.
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

	/** Lets the caller wake the object (and create its table) before timing starts. */
	count(): number {
		return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n;
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

/** A realistic SDK event: page views over a few pages, clicks and custom events, about 150 bytes of data. */
export function clientEvent(prefix: string, i: number): ClientEvent {
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

/** The row the kernel would store for that event: same text columns, a fixed 64-hex hash instead of computing one. */
function rawRow(event: ClientEvent, seq: number, requestId: string): RawRow {
	const meta = JSON.stringify({ correlationId: requestId, requestId });
	return { seq, id: event.id, type: event.type, v: 1, ts: event.ts, data: JSON.stringify(event.data), meta, hash: FAKE_HASH };
}

interface CaseResult {
	events: number;
	calls: number;
	ms: number;
	version: number;
}

/** Appends `count` events in calls of `batch` to a fresh SessionActor over RPC; the visit is opened before timing. */
async function kernelCase(env: BenchEnv, name: string, count: number, batch: number): Promise<CaseResult> {
	const stub = env.SESSION.getByName(`bench:${name}`) as DurableObjectStub<SessionActor>;
	const opened = await stub.recordBatch({ events: [clientEvent(name, 0)] }, { requestId: `${name}-open` });
	if (!opened.ok) throw new Error(`open ${name}: ${JSON.stringify(opened.error)}`);
	const startVersion = opened.value.version;
	let version = startVersion;
	let calls = 0;
	const t0 = performance.now();
	for (let i = 1; i <= count; i += batch) {
		const events = Array.from({ length: Math.min(batch, count - i + 1) }, (_, k) => clientEvent(name, i + k));
		const requestId = `${name}-${calls}`;
		const outcome = await stub.recordBatch({ events }, { requestId, correlationId: requestId });
		if (!outcome.ok) throw new Error(`append ${name}: ${JSON.stringify(outcome.error)}`);
		if (outcome.value.accepted !== events.length) throw new Error(`append ${name}: accepted ${outcome.value.accepted} of ${events.length}`);
		version = outcome.value.version;
		calls++;
	}
	const ms = performance.now() - t0;
	if (version - startVersion !== count) throw new Error(`${name}: version moved by ${version - startVersion}, expected ${count}`);
	return { events: count, calls, ms, version };
}

/** Inserts the same events as rows into a fresh RawInsertBench over RPC, in calls of `batch`. */
async function rawCase(env: BenchEnv, name: string, count: number, batch: number): Promise<CaseResult> {
	const stub = env.RAW.getByName(`bench:${name}`);
	await stub.count();
	let calls = 0;
	const t0 = performance.now();
	for (let i = 1; i <= count; i += batch) {
		const requestId = `${name}-${calls}`;
		const rows = Array.from({ length: Math.min(batch, count - i + 1) }, (_, k) => rawRow(clientEvent(name, i + k), i + k, requestId));
		await stub.insert(rows);
		calls++;
	}
	const ms = performance.now() - t0;
	const version = await stub.count();
	if (version !== count) throw new Error(`${name}: ${version} rows, expected ${count}`);
	return { events: count, calls, ms, version };
}

function positive(value: string | null, fallback: number): number {
	const n = Number(value ?? fallback);
	if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${value}`);
	return n;
}

export default {
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		if (!url.pathname.startsWith("/bench/")) return app.fetch(request, env, ctx);
		const name = url.searchParams.get("name") ?? crypto.randomUUID();
		const count = positive(url.searchParams.get("count"), 1000);
		const batch = positive(url.searchParams.get("batch"), 1);
		try {
			if (url.pathname === "/bench/raw") return Response.json(await rawCase(env, name, count, batch));
			if (url.pathname === "/bench/kernel") return Response.json(await kernelCase(env, name, count, batch));
		} catch (error) {
			return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 500 });
		}
		return new Response("unknown bench case", { status: 404 });
	},
} satisfies ExportedHandler<BenchEnv>;
