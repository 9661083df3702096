/**
 * Searching the org's interactions through its `interactions` projection (src/reducers/org-projections.ts): by user id,
 * page path, source and when they ended, newest first (by end time, then seq), in pages of at most MAX_SEARCH_LIMIT
 * with a cursor. Each filter combination reads one index in its order: the page table for a page, the subject index for
 * a user, the source index for a source, else the end-time index; the other filters are checked on the rows it yields
 * (`+col` keeps SQLite from using their indexes instead, which would need a sort of everything matching). The
 * interactions themselves come from the log by seq, upcast like every read, with user ids opened (null once erased),
 * the page's subject keys read in one statement (SubjectKeys.opener) rather than one per row.
 */
import { fail, type Outcome, ok } from "../core/outcome.ts";
import type { INTERACTION_SOURCES, Summary } from "../events/interaction.ts";

type InteractionSource = (typeof INTERACTION_SOURCES)[number];

import { orgCatalog } from "../events/org.ts";
import { type StoredRow, storedEventOf } from "../events/stored.ts";
import { INTERACTIONS_PROJECTION } from "../reducers/org-projections.ts";
import { projectionLive } from "./kernel/projections.ts";
import { opened } from "./org-erasures.ts";
import type { RecordedInteraction } from "./org-views.ts";
import { lookupHash, type SubjectKeys } from "./subject-keys.ts";

export const MAX_SEARCH_LIMIT = 200;
export const DEFAULT_SEARCH_LIMIT = 50;

/** Every given filter must match. `from`/`to` bound when the interaction ended: from ≤ endedAt < to. */
export interface InteractionSearch {
	userId?: string;
	/** A path the interaction viewed, exactly (`/shoes`). */
	page?: string;
	source?: InteractionSource;
	from?: number;
	to?: number;
	/** From the previous page's `cursor`. */
	cursor?: string;
	limit?: number;
}

export interface InteractionSearchPage {
	interactions: RecordedInteraction[];
	/** Pass back for the next page; null on the last. */
	cursor: string | null;
}

type Bind = string | number;

/** `<endedAt>.<seq>` of the last interaction a page gave. */
const CURSOR = /^(\d{1,16})\.(\d{1,16})$/;

export function parseSearchCursor(cursor: string | undefined): { endedAt: number; seq: number } | null {
	const match = CURSOR.exec(cursor ?? "");
	return match ? { endedAt: Number(match[1]), seq: Number(match[2]) } : null;
}

/** The query that finds one page's seqs (and end times), newest first. */
function hitsQuery(query: InteractionSearch, limit: number): { sql: string; binds: Bind[] } {
	const driver = query.page !== undefined ? "page" : query.userId !== undefined ? "user" : query.source !== undefined ? "source" : "time";
	const where: string[] = [];
	const binds: Bind[] = [];
	const plus = (own: typeof driver) => (driver === own ? "" : "+");
	let from = "proj_interactions i";
	let at = "i";
	if (query.page !== undefined) {
		from = "proj_interaction_pages p CROSS JOIN proj_interactions i ON i.seq = p.seq";
		at = "p";
		where.push("p.path = ?");
		binds.push(query.page);
	}
	if (query.userId !== undefined) {
		const p = plus("user");
		where.push(`(${p}i.subject IN (SELECT subject FROM subject_keys WHERE user_hash = ?) OR ${p}i.user_clear = ?)`);
		binds.push(lookupHash(query.userId), query.userId);
	}
	if (query.source !== undefined) {
		where.push(`${plus("source")}i.source = ?`);
		binds.push(query.source);
	}
	if (query.from !== undefined) {
		where.push(`${at}.ended_at >= ?`);
		binds.push(query.from);
	}
	if (query.to !== undefined) {
		where.push(`${at}.ended_at < ?`);
		binds.push(query.to);
	}
	const cursor = parseSearchCursor(query.cursor);
	if (cursor) {
		where.push(`${at}.ended_at <= ? AND (${at}.ended_at < ? OR ${at}.seq < ?)`);
		binds.push(cursor.endedAt, cursor.endedAt, cursor.seq);
	}
	const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
	const sql = `SELECT ${at}.seq AS seq, ${at}.ended_at AS ended_at FROM ${from} ${filter} ORDER BY ${at}.ended_at DESC, ${at}.seq DESC LIMIT ?`;
	return { sql, binds: [...binds, limit] };
}

/** One page of interactions matching `query`; unavailable while the projection rebuilds. */
export function searchInteractions(sql: SqlStorage, subjects: SubjectKeys, query: InteractionSearch): Outcome<InteractionSearchPage> {
	if (!projectionLive(sql, INTERACTIONS_PROJECTION)) {
		return fail({ kind: "unavailable", detail: `the ${INTERACTIONS_PROJECTION} projection is rebuilding from the log; ask again shortly` });
	}
	const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_SEARCH_LIMIT), MAX_SEARCH_LIMIT);
	const hits = hitsQuery(query, limit + 1);
	// The page's seqs first (LIMIT inside), then their events from the log in the same order.
	const rows = sql
		.exec<StoredRow & { ended_at: number }>(
			`SELECT e.seq, e.id, e.type, e.v, e.ts, e.data, e.meta, hit.ended_at FROM (${hits.sql}) AS hit CROSS JOIN events e ON e.seq = hit.seq ORDER BY hit.ended_at DESC, hit.seq DESC`,
			...hits.binds,
		)
		.toArray();
	const page = rows.slice(0, limit);
	const events = page.map((row) => storedEventOf(row, orgCatalog, "org.interaction_recorded"));
	// Every user id of the page opened with keys read together (a statement per 100 subjects), not one read a row.
	const keys = subjects.opener(events.map((event) => event.data.summary.userId));
	const interactions = events.map((event) => {
		const interaction = opened(event.data, keys);
		return { ...interaction, summary: interaction.summary as Summary, seq: event.seq, recordedAt: event.ts };
	});
	const last = page.at(-1);
	return ok({ interactions, cursor: rows.length > limit && last ? `${last.ended_at}.${last.seq}` : null });
}

/**
 * Drops the projection's rows of interactions at or below `seq`: after the org's log is compacted to that checkpoint
 * (retention's `interactionsDays`), a rebuild from the log would not have them either.
 */
export function pruneInteractionsThrough(sql: SqlStorage, seq: number): void {
	if (seq <= 0) return;
	sql.exec("DELETE FROM proj_interaction_pages WHERE seq <= ?", seq);
	sql.exec("DELETE FROM proj_interactions WHERE seq <= ?", seq);
}
