/**
 * State snapshots: the reducer's state after some version, serialized as JSON and split into
 * parts so that a state larger than one SQLite row (2 MB) still snapshots. Each snapshot is tagged
 * with the reducer version that wrote it and checksummed (SHA-256, natively); a snapshot that does not match either
 * is passed over, never trusted.
 */
import { and, desc, eq, lte } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { nativeSha256Hex } from "./native-hash.ts";
import { snapshots } from "./schema.ts";

/** Well under the 2 MB row limit, leaving room for the row's other columns. */
export const SNAPSHOT_PART_BYTES = 1_000_000;

export interface SnapshotInfo {
	version: number;
	reducerVersion: string;
	parts: number;
	bytes: number;
}

export type LoadedSnapshot<S> = { version: number; state: S };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Snapshots an actor keeps, so storage stays bounded however long the log: the newest SNAPSHOTS_KEPT (of any reducer
 * version), plus a ladder of older ones by the current reducer version, at most one per rung of `rungSpacing` events
 * (the oldest in each rung), and at most SNAPSHOT_RUNGS rungs: when the log outgrows them the spacing doubles and
 * every other rung goes. A state-at-version read anywhere in the log then folds at most about one rung's spacing of
 * events (docs/architecture.md, "Snapshots").
 */
export const SNAPSHOTS_KEPT = 10;
/** Most rungs of the ladder of older snapshots. */
export const SNAPSHOT_RUNGS = 128;

/**
 * The ladder's spacing at log version `version`: the snapshot interval times the smallest power of two that keeps
 * `version` within SNAPSHOT_RUNGS rungs (200 events up to 25,600; 12,800 at a million events with the default 200).
 */
export function rungSpacing(version: number, every: number): number {
	let spacing = Math.max(1, every);
	while (Math.floor(version / spacing) >= SNAPSHOT_RUNGS) spacing *= 2;
	return spacing;
}

export class SnapshotStore {
	constructor(
		private readonly db: DrizzleSqliteDODatabase,
		private readonly sql: SqlStorage,
		/** The actor's snapshot interval (SNAPSHOT_EVERY): the ladder's narrowest rung. */
		readonly every: number,
	) {}

	/** Writes the state at `version`. Call inside a storage transaction. */
	write(version: number, reducerVersion: string, state: unknown): SnapshotInfo {
		const bytes = encoder.encode(JSON.stringify(state));
		const parts = Math.max(1, Math.ceil(bytes.length / SNAPSHOT_PART_BYTES));
		this.sql.exec("DELETE FROM snapshot_parts WHERE version = ?", version);
		for (let part = 0; part < parts; part++) {
			const chunk = bytes.subarray(part * SNAPSHOT_PART_BYTES, (part + 1) * SNAPSHOT_PART_BYTES);
			this.sql.exec("INSERT INTO snapshot_parts (version, part, chunk) VALUES (?, ?, ?)", version, part, chunk);
		}
		// On the append path every SNAPSHOT_EVERY events: plain SQL, not a query built each time.
		this.sql.exec(
			`INSERT INTO snapshots (version, reducer_version, parts, bytes, checksum) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT(version) DO UPDATE SET reducer_version = excluded.reducer_version, parts = excluded.parts,
			 bytes = excluded.bytes, checksum = excluded.checksum`,
			version,
			reducerVersion,
			parts,
			bytes.length,
			nativeSha256Hex(bytes),
		);
		this.#prune(reducerVersion);
		return { version, reducerVersion, parts, bytes: bytes.length };
	}

	/**
	 * Below the newest SNAPSHOTS_KEPT, keeps only the ladder: the oldest snapshot of `reducerVersion` in each rung of
	 * the current spacing. Inside the write's transaction; it reads at most the kept rows plus the one just written.
	 */
	#prune(reducerVersion: string): void {
		const newest = this.sql.exec<{ version: number }>("SELECT max(version) AS version FROM snapshots").one().version;
		const cut = this.sql
			.exec<{ version: number }>("SELECT version FROM snapshots ORDER BY version DESC LIMIT 1 OFFSET ?", SNAPSHOTS_KEPT - 1)
			.toArray()[0]?.version;
		if (cut === undefined) return;
		const spacing = rungSpacing(newest, this.every);
		this.sql.exec(
			`DELETE FROM snapshots WHERE version < ?1 AND NOT (reducer_version = ?2 AND version IN (
				SELECT min(version) FROM snapshots WHERE version < ?1 AND reducer_version = ?2 GROUP BY version / CAST(?3 AS INTEGER)))`,
			cut,
			reducerVersion,
			spacing,
		);
		this.sql.exec("DELETE FROM snapshot_parts WHERE version < ? AND version NOT IN (SELECT version FROM snapshots)", cut);
	}

	list(): SnapshotInfo[] {
		return this.db
			.select({ version: snapshots.version, reducerVersion: snapshots.reducerVersion, parts: snapshots.parts, bytes: snapshots.bytes })
			.from(snapshots)
			.orderBy(snapshots.version)
			.all();
	}

	/** Reads and checks one snapshot; undefined if any part is missing or the checksum fails. */
	read<S>(version: number): S | undefined {
		const head = this.db.select().from(snapshots).where(eq(snapshots.version, version)).get();
		if (!head) return undefined;
		const bytes = new Uint8Array(head.bytes);
		let offset = 0;
		let seen = 0;
		for (const row of this.sql.exec<{ part: number; chunk: ArrayBuffer }>(
			"SELECT part, chunk FROM snapshot_parts WHERE version = ? ORDER BY part",
			version,
		)) {
			if (row.part !== seen) return undefined;
			const chunk = new Uint8Array(row.chunk);
			if (offset + chunk.length > bytes.length) return undefined;
			bytes.set(chunk, offset);
			offset += chunk.length;
			seen++;
		}
		if (seen !== head.parts || offset !== head.bytes || nativeSha256Hex(bytes) !== head.checksum) return undefined;
		try {
			return JSON.parse(decoder.decode(bytes)) as S;
		} catch {
			return undefined;
		}
	}

	/**
	 * The newest readable snapshot by this reducer version at or below `atOrBelow`. Reads one
	 * candidate at a time, newest first, so a wake costs the same however many snapshots a long log has.
	 */
	latest<S>(reducerVersion: string, atOrBelow: number): LoadedSnapshot<S> | undefined {
		let below = atOrBelow;
		for (;;) {
			const candidate = this.db
				.select({ version: snapshots.version })
				.from(snapshots)
				.where(and(eq(snapshots.reducerVersion, reducerVersion), lte(snapshots.version, below)))
				.orderBy(desc(snapshots.version))
				.limit(1)
				.get();
			if (!candidate) return undefined;
			const state = this.read<S>(candidate.version);
			if (state !== undefined) return { version: candidate.version, state };
			below = candidate.version - 1;
		}
	}
}
