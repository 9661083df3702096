/**
 * The actor's SQLite schema. drizzle-kit turns changes here into migrations in migrations/,
 * which every actor applies when it starts.
 */
import { sql } from "drizzle-orm";
import { blob, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { TYPE_INDEX_WHERE } from "./type-index.ts";

/**
 * The append-only log: one row per event, seq gap-free from 1, each row hashed onto the previous. Two indexes: the
 * unique id (a retried event is a duplicate) and the type index for reads by type, partial: it leaves out the
 * catalogs' `unindexed` types (src/actors/type-index.ts).
 */
export const events = sqliteTable(
	"events",
	{
		seq: integer("seq").primaryKey(),
		id: text("id").notNull().unique(),
		type: text("type").notNull(),
		/** Schema version the data was written with; upcasters lift it on read. */
		v: integer("v").notNull(),
		ts: integer("ts").notNull(),
		data: text("data").notNull(),
		meta: text("meta").notNull(),
		hash: text("hash").notNull(),
	},
	(t) => [index("events_type_seq").on(t.type, t.seq).where(sql.raw(TYPE_INDEX_WHERE))],
);

/** A snapshot of state after `version` events, written by reducer `reducerVersion`. */
export const snapshots = sqliteTable("snapshots", {
	version: integer("version").primaryKey(),
	reducerVersion: text("reducer_version").notNull(),
	parts: integer("parts").notNull(),
	bytes: integer("bytes").notNull(),
	/** SHA-256 of the whole serialized state: a snapshot that does not match is not trusted. */
	checksum: text("checksum").notNull(),
});

/** Serialized state split into parts, because one SQLite row holds at most 2 MB. */
export const snapshotParts = sqliteTable(
	"snapshot_parts",
	{
		version: integer("version").notNull(),
		part: integer("part").notNull(),
		chunk: blob("chunk", { mode: "buffer" }).notNull(),
	},
	(t) => [primaryKey({ columns: [t.version, t.part] })],
);

/** The first result of each client action id, returned again on a retry. */
export const clientActions = sqliteTable("client_actions", {
	id: text("id").primaryKey(),
	result: text("result").notNull(),
	version: integer("version").notNull(),
});

/** Small facts about the actor itself, such as its identity (kind, org, id). */
export const actorMeta = sqliteTable("actor_meta", {
	key: text("key").primaryKey(),
	value: text("value").notNull(),
});

/** Named timers multiplexed onto the object's one alarm. */
export const timers = sqliteTable(
	"timers",
	{
		name: text("name").primaryKey(),
		/** once | every | cron */
		kind: text("kind").notNull(),
		/** once: the instant (ms); every: the interval (ms); cron: the expression (UTC). */
		spec: text("spec").notNull(),
		/** The instant this firing is for; handlers derive event ids and timestamps from it. */
		scheduledAt: integer("scheduled_at").notNull(),
		/** When to try next: scheduledAt, or later after failures (backoff). */
		dueAt: integer("due_at").notNull(),
		payload: text("payload").notNull(),
		attempts: integer("attempts").notNull().default(0),
		lastError: text("last_error"),
		/** When a failure that retrying cannot fix parked it (null: live); a parked timer never fires until set again. */
		parkedAt: integer("parked_at"),
	},
	(t) => [index("timers_due").on(t.dueAt)],
);

/** Effects recorded with the events that caused them, delivered after commit until acknowledged. */
export const outbox = sqliteTable(
	"outbox",
	{
		/** Stable per effect: receivers dedupe by it. */
		id: text("id").primaryKey(),
		/** JSON: { actor: ActorRef } or { queue: binding name }. */
		target: text("target").notNull(),
		type: text("type").notNull(),
		data: text("data").notNull(),
		meta: text("meta").notNull(),
		createdAt: integer("created_at").notNull(),
		attempts: integer("attempts").notNull().default(0),
		nextAttemptAt: integer("next_attempt_at").notNull(),
		lastError: text("last_error"),
		/** When it was parked after too many failed deliveries (null: live); a parked message is not sent until retried. */
		parkedAt: integer("parked_at"),
	},
	(t) => [index("outbox_next_attempt").on(t.nextAttemptAt)],
);

/**
 * The org's list of parked work across its actors, kept in the transaction of the org's own
 * `kernel.parked_reported`/`kernel.parked_cleared` events (docs/operations.md). Other actors leave it empty.
 */
export const parkedIndex = sqliteTable(
	"parked_index",
	{
		/** `<kind>.<actor id>.<seq of the actor's kernel.work_parked event>`: unique across the org. */
		id: text("id").primaryKey(),
		/** The org log's seq that reported it: the paging cursor. */
		notedSeq: integer("noted_seq").notNull(),
		actorKind: text("actor_kind").notNull(),
		actorId: text("actor_id").notNull(),
		/** outbox | timer */
		work: text("work").notNull(),
		name: text("name").notNull(),
		reason: text("reason").notNull(),
		attempts: integer("attempts").notNull(),
		lastError: text("last_error").notNull(),
		parkedAt: integer("parked_at").notNull(),
	},
	(t) => [index("parked_index_noted").on(t.notedSeq)],
);
