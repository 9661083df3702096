/**
 * The org's index of its actors (`org_actors`, a table outside the log, like `subject_keys`): every session, camera
 * and chat that reported to the org, when it last did, and up to when retention already erased it. Retention reads
 * it for what is past its time, deleting the org reads it for everything. Created with what the log already holds.
 */
import { TYPE_INDEX_WHERE } from "./type-index.ts";

export interface IndexedActor {
	kind: "session" | "camera" | "chat";
	id: string;
	lastAt: number;
}

const KINDS = ["session", "camera", "chat"] as const;

export class OrgActorIndex {
	constructor(private readonly sql: SqlStorage) {
		const exists = sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'org_actors'").one().n > 0;
		if (exists) return;
		sql.exec(
			"CREATE TABLE org_actors (kind TEXT NOT NULL, id TEXT NOT NULL, last_at INTEGER NOT NULL, retained_through INTEGER, PRIMARY KEY (kind, id))",
		);
		sql.exec("CREATE INDEX org_actors_last ON org_actors (kind, last_at)");
		const hasLog = sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'events'").one().n > 0;
		if (!hasLog) return;
		// An org from before the index: its interactions, visit starts and camera changes name its actors. The type
		// index's own term lets SQLite read these through it (src/actors/type-index.ts).
		sql.exec(`INSERT OR REPLACE INTO org_actors (kind, id, last_at)
			SELECT json_extract(data, '$.actor.kind'), json_extract(data, '$.actor.id'), max(ts) FROM events
			WHERE type = 'org.interaction_recorded' AND ${TYPE_INDEX_WHERE} GROUP BY 1, 2`);
		sql.exec(`INSERT OR IGNORE INTO org_actors (kind, id, last_at)
			SELECT 'session', json_extract(data, '$.session'), max(ts) FROM events WHERE type = 'org.visit_started' AND ${TYPE_INDEX_WHERE} GROUP BY 2`);
		sql.exec(`INSERT OR IGNORE INTO org_actors (kind, id, last_at)
			SELECT 'camera', json_extract(data, '$.camera'), max(ts) FROM events WHERE type = 'org.camera_status' AND ${TYPE_INDEX_WHERE} GROUP BY 2`);
	}

	/** An actor reported at `at`: it is known, and its time starts again from there. */
	touch(kind: string, id: string, at: number): void {
		if (!(KINDS as readonly string[]).includes(kind)) return;
		this.sql.exec(
			"INSERT INTO org_actors (kind, id, last_at) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
			kind,
			id,
			at,
		);
	}

	/** Actors of `kind` last heard of before `cutoff` and not erased by retention since, oldest first, at most `limit`. */
	expired(kind: IndexedActor["kind"], cutoff: number, limit: number): IndexedActor[] {
		return this.sql
			.exec<{ id: string; last_at: number }>(
				"SELECT id, last_at FROM org_actors WHERE kind = ? AND last_at < ? AND (retained_through IS NULL OR last_at > retained_through) ORDER BY last_at LIMIT ?",
				kind,
				cutoff,
				limit,
			)
			.toArray()
			.map((row) => ({ kind, id: row.id, lastAt: row.last_at }));
	}

	/** Retention erased these actors as they were at `lastAt`: they come up again only if they report after it. */
	markRetained(actors: readonly IndexedActor[]): void {
		for (const a of actors) this.sql.exec("UPDATE org_actors SET retained_through = ? WHERE kind = ? AND id = ?", a.lastAt, a.kind, a.id);
	}

	/** Every actor of `kind` the org knows of, by id. */
	ids(kind: IndexedActor["kind"]): string[] {
		return this.sql
			.exec<{ id: string }>("SELECT id FROM org_actors WHERE kind = ? ORDER BY id", kind)
			.toArray()
			.map((r) => r.id);
	}
}
