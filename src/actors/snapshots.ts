/**
 * State snapshots: the reducer's state after some version, serialized as JSON and split into
 * parts so that a state larger than one SQLite row (2 MB) still snapshots. Each snapshot is tagged
 * with the reducer version that wrote it and checksummed; a snapshot that does not match either
 * is passed over, never trusted.
 */
import { and, desc, eq, lte } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { sha256Hex } from "../core/hash.ts";
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
 * Snapshots an actor keeps: the newest this many (of any reducer version), so storage stays bounded however long
 * the log. A state-at-version read below the oldest kept one folds from the initial state: slower, never wrong.
 */
export const SNAPSHOTS_KEPT = 10;

export class SnapshotStore {
	constructor(
		private readonly db: DrizzleSqliteDODatabase,
		private readonly sql: SqlStorage,
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
		const row = { version, reducerVersion, parts, bytes: bytes.length, checksum: sha256Hex(bytes) };
		this.db.insert(snapshots).values(row).onConflictDoUpdate({ target: snapshots.version, set: row }).run();
		this.#prune();
		return { version, reducerVersion, parts, bytes: bytes.length };
	}

	/** Deletes every snapshot but the newest SNAPSHOTS_KEPT; inside the write's transaction. */
	#prune(): void {
		const oldest = this.sql
			.exec<{ version: number }>("SELECT version FROM snapshots ORDER BY version DESC LIMIT 1 OFFSET ?", SNAPSHOTS_KEPT - 1)
			.toArray()[0];
		if (!oldest) return;
		this.sql.exec("DELETE FROM snapshot_parts WHERE version < ?", oldest.version);
		this.sql.exec("DELETE FROM snapshots WHERE version < ?", oldest.version);
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
		if (seen !== head.parts || offset !== head.bytes || sha256Hex(bytes) !== head.checksum) return undefined;
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
