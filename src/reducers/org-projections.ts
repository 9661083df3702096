/**
 * The org's inline projections (src/reducers/projection.ts): its recorded interactions as indexed tables, so a
 * search by user, page, source or time reads an index instead of the log, however long the org's history.
 *
 * `interactions`: one row per `org.interaction_recorded` (keyed by its seq in the org's log) in `proj_interactions`,
 * and one per distinct page path of a web visit in `proj_interaction_pages`. A user id is never stored in clear: the
 * log holds it sealed per (user, actor) (src/actors/subject-keys.ts), and the row keeps only the subject the seal
 * names. A search by user finds the user's subjects through the org's `subject_keys`, so once an erasure shreds a
 * user's keys the search finds nothing of them. Rows written per interaction: its row and two index entries, one
 * more for a user id, and one per page (a page table without rowid holds its index in the row).
 */
import type { RecordedEvent } from "../events/envelope.ts";
import { orgCatalog } from "../events/org.ts";
import { sealedSubject } from "../events/sealed.ts";
import { eventOfType } from "../events/stored.ts";
import type { Projection, ProjectionSql } from "./projection.ts";

/** Pages of one interaction the projection indexes (a web visit keeps at most 100; an interaction from elsewhere is cut here). */
export const MAX_PROJECTED_PAGES = 200;
const MAX_PAGE_CHARS = 2048;

export const INTERACTIONS_PROJECTION = "interactions";

const DDL = [
	`CREATE TABLE proj_interactions (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL,
		source TEXT NOT NULL,
		actor_kind TEXT NOT NULL,
		actor_id TEXT NOT NULL,
		subject TEXT,
		user_clear TEXT,
		started_at INTEGER NOT NULL,
		ended_at INTEGER NOT NULL
	)`,
	"CREATE INDEX proj_interactions_ended ON proj_interactions (ended_at, seq)",
	"CREATE INDEX proj_interactions_source ON proj_interactions (source, ended_at, seq)",
	"CREATE INDEX proj_interactions_subject ON proj_interactions (subject, ended_at, seq) WHERE subject IS NOT NULL",
	// An unsealed user id: only events recorded before user ids were sealed (or imported as such) have one.
	"CREATE INDEX proj_interactions_user_clear ON proj_interactions (user_clear, ended_at, seq) WHERE user_clear IS NOT NULL",
	`CREATE TABLE proj_interaction_pages (
		path TEXT NOT NULL,
		ended_at INTEGER NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (path, ended_at, seq)
	) WITHOUT ROWID`,
];

/** The distinct page paths of a summary's `pages`, bounded. */
function pagesOf(summary: Record<string, unknown>): string[] {
	const pages = Array.isArray(summary.pages) ? summary.pages : [];
	const distinct = new Set<string>();
	for (const page of pages) {
		if (typeof page === "string" && page.length > 0 && page.length <= MAX_PAGE_CHARS) distinct.add(page);
		if (distinct.size >= MAX_PROJECTED_PAGES) break;
	}
	return [...distinct];
}

function applyInteraction(event: RecordedEvent, sql: ProjectionSql): void {
	if (event.type !== "org.interaction_recorded") return;
	const { data } = eventOfType(event, orgCatalog, "org.interaction_recorded");
	const userId = data.summary.userId;
	const subject = sealedSubject(userId);
	const clear = subject === null && typeof userId === "string" && userId.length > 0 ? userId : null;
	sql.exec(
		"INSERT INTO proj_interactions (seq, id, source, actor_kind, actor_id, subject, user_clear, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		event.seq,
		data.id,
		data.source,
		data.actor.kind,
		data.actor.id,
		subject,
		clear,
		data.startedAt,
		data.endedAt,
	);
	for (const path of pagesOf(data.summary))
		sql.exec("INSERT INTO proj_interaction_pages (path, ended_at, seq) VALUES (?, ?, ?)", path, data.endedAt, event.seq);
}

export const interactionsProjection: Projection = {
	name: INTERACTIONS_PROJECTION,
	version: 1,
	tables: ["proj_interactions", "proj_interaction_pages"],
	ddl: DDL,
	apply: applyInteraction,
};
