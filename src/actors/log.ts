/**
 * The event log of one actor: append-only rows in SQLite, read in seq order.
 * Statements are written by hand against the drizzle schema's tables because this is the hot path
 * and DO SQLite is synchronous: one prepared string per shape, no query building per call.
 */

import { chainHash, GENESIS_HASH } from "../core/hash.ts";
import type { StoredRow } from "../events/stored.ts";
import { MAX_PARAMS, paramChunks } from "./sql-params.ts";
import { isIndexedType, TYPE_INDEX_WHERE } from "./type-index.ts";

/** A row of the events table: the stored fields (data and meta as JSON text, as hashed) and the chain hash. */
export type StoredEvent = StoredRow & { hash: string };

const COLUMNS = 8;
const ROWS_PER_INSERT = Math.floor(MAX_PARAMS / COLUMNS);
const SELECT_COLUMNS = "seq, id, type, v, ts, data, meta, hash";

const insertSql = (rows: number) =>
	`INSERT INTO events (${SELECT_COLUMNS}) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`;
const insertStatements = Array.from({ length: ROWS_PER_INSERT + 1 }, (_, n) => insertSql(Math.max(n, 1)));

/**
 * The WHERE a read by these types needs: with the type index's own term when every type is in it, so SQLite uses
 * the partial index; without it for an unindexed type, which SQLite then answers by scanning in seq order.
 */
export const typeFilter = (types: readonly string[]) =>
	`type IN (${types.map(() => "?").join(", ")})${types.every(isIndexedType) ? ` AND ${TYPE_INDEX_WHERE}` : ""}`;

/** `brokenAt` is the first seq whose row does not match the chain (or is missing). */
export type ChainCheck = { ok: true; checked: number } | { ok: false; checked: number; brokenAt: number; reason: string };

export class EventLog {
	/**
	 * Where the stored log starts: the checkpoint of the last compaction (src/actors/kernel/compaction.ts), seq 0 and
	 * the genesis hash when nothing was compacted. Rows at or below `start.seq` are in R2 segments; their ids stay in
	 * `compacted_ids`, so they are still duplicates.
	 */
	start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };

	constructor(private readonly sql: SqlStorage) {}

	get compacted(): boolean {
		return this.start.seq > 0;
	}

	/** Highest seq and its hash, or 0 and the genesis hash for an empty log. */
	head(): { version: number; hash: string } {
		const row = this.sql.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").toArray()[0];
		return row ? { version: row.seq, hash: row.hash } : { version: 0, hash: GENESIS_HASH };
	}

	/** Inserts rows that already carry seq and hash. Call inside a storage transaction. `afterStatement` is a fault-injection seam. */
	insert(rows: readonly StoredEvent[], afterStatement?: () => void): void {
		for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
			const chunk = rows.slice(start, start + ROWS_PER_INSERT);
			const params: (string | number)[] = [];
			for (const r of chunk) params.push(r.seq, r.id, r.type, r.v, r.ts, r.data, r.meta, r.hash);
			this.sql.exec(insertStatements[chunk.length] as string, ...params);
			afterStatement?.();
		}
	}

	/** Which of these ids are already in the log. */
	existingIds(ids: readonly string[]): Set<string> {
		const found = new Set<string>();
		for (const { chunk, marks } of paramChunks(ids)) {
			for (const row of this.sql.exec<{ id: string }>(`SELECT id FROM events WHERE id IN (${marks})`, ...chunk)) {
				found.add(row.id);
			}
			if (!this.compacted) continue;
			for (const row of this.sql.exec<{ id: string }>(`SELECT id FROM compacted_ids WHERE id IN (${marks})`, ...chunk)) {
				found.add(row.id);
			}
		}
		return found;
	}

	/** Events after `after`, in seq order, at most `limit`, optionally of one type. */
	page(after: number, limit: number, type?: string): StoredEvent[] {
		if (type) {
			return this.sql
				.exec<StoredEvent>(
					`SELECT ${SELECT_COLUMNS} FROM events WHERE ${typeFilter([type])} AND seq > ? ORDER BY seq LIMIT ?`,
					type,
					after,
					limit,
				)
				.toArray();
		}
		return this.sql.exec<StoredEvent>(`SELECT ${SELECT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit).toArray();
	}

	/** Lazily iterates events in (after, upTo] without loading them all at once. */
	*range(after: number, upTo: number = Number.MAX_SAFE_INTEGER): Generator<StoredEvent> {
		yield* this.sql.exec<StoredEvent>(`SELECT ${SELECT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq`, after, upTo);
	}

	/** How many events are stored with seq at most `upTo`. */
	count(upTo: number): number {
		return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE seq <= ?", upTo).one().n;
	}

	/** The meta text of the event at `seq`, or undefined when it is not stored (compacted, or never written). */
	metaAt(seq: number): string | undefined {
		return this.sql.exec<{ meta: string }>("SELECT meta FROM events WHERE seq = ?", seq).toArray()[0]?.meta;
	}

	byId(id: string): StoredEvent | undefined {
		return this.sql.exec<StoredEvent>(`SELECT ${SELECT_COLUMNS} FROM events WHERE id = ?`, id).toArray()[0];
	}

	/** Events of one type with seq below `before`, newest first, at most `limit`, read lazily. */
	*reverseByType(type: string, limit: number, before = Number.MAX_SAFE_INTEGER): Generator<StoredEvent> {
		yield* this.sql.exec<StoredEvent>(
			`SELECT ${SELECT_COLUMNS} FROM events WHERE ${typeFilter([type])} AND seq < ? ORDER BY seq DESC LIMIT ?`,
			type,
			before,
			limit,
		);
	}

	/** Events of any of `types` with seq below `before`, newest first, at most `limit`. */
	reverseByTypes(types: readonly string[], limit: number, before = Number.MAX_SAFE_INTEGER): StoredEvent[] {
		if (types.length === 0) return [];
		return [
			...this.sql.exec<StoredEvent>(
				`SELECT ${SELECT_COLUMNS} FROM events WHERE ${typeFilter(types)} AND seq < ? ORDER BY seq DESC LIMIT ?`,
				...types,
				before,
				limit,
			),
		];
	}

	/** Keeps the ids of the rows in (after, upTo] in compacted_ids and deletes the rows. Inside a transaction. */
	compactRange(after: number, upTo: number): number {
		this.sql.exec("CREATE TABLE IF NOT EXISTS compacted_ids (id TEXT PRIMARY KEY) WITHOUT ROWID");
		this.sql.exec("INSERT OR IGNORE INTO compacted_ids (id) SELECT id FROM events WHERE seq > ? AND seq <= ?", after, upTo);
		this.sql.exec("DELETE FROM events WHERE seq > ? AND seq <= ?", after, upTo);
		return upTo - after;
	}

	/** The last seq of the prefix after `after` whose events are all older than `before`, at most `max` of them and below `below`. */
	prefixBefore(after: number, before: number, max: number, below: number): number {
		const stop = this.sql
			.exec<{ seq: number | null }>("SELECT min(seq) AS seq FROM events WHERE seq > ? AND ts >= ?", after, before)
			.one().seq;
		return Math.min(stop === null ? below : stop - 1, after + max, below);
	}

	/** Recomputes the chain from the start (the checkpoint, if compacted) and reports the first row that does not match. */
	verify(): ChainCheck {
		let prev = this.start.hash;
		let expectedSeq = this.start.seq + 1;
		for (const row of this.range(this.start.seq)) {
			if (row.seq !== expectedSeq) {
				return { ok: false, checked: expectedSeq - 1, brokenAt: expectedSeq, reason: `seq ${expectedSeq} is missing` };
			}
			const hash = chainHash(prev, row);
			if (hash !== row.hash) {
				return { ok: false, checked: row.seq - 1, brokenAt: row.seq, reason: `hash of seq ${row.seq} does not match its contents` };
			}
			prev = hash;
			expectedSeq++;
		}
		return { ok: true, checked: expectedSeq - 1 };
	}
}
