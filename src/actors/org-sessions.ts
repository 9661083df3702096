/**
 * The org's directory of web sessions, read from its state (active visits) and backwards from its log (ended
 * visits, as `org.interaction_recorded` rows, upcast through the catalog like every other read of a stored event).
 */
import type { EventCatalog } from "../events/catalog.ts";
import type { Interaction, Summary } from "../events/interaction.ts";
import { orgCatalog } from "../events/org.ts";
import { type StoredRow, storedEventOf } from "../events/stored.ts";
import type { ActiveSessions } from "../reducers/org.ts";

export interface SessionListQuery {
	status?: "active" | "ended" | "all";
	from?: number;
	to?: number;
	limit?: number;
	cursor?: string;
}

export interface SessionListing {
	session: string;
	status: "active" | "ended";
	visit: number;
	startedAt: number;
	endedAt: number | null;
	summary: Summary | null;
}

export interface SessionList {
	sessions: SessionListing[];
	/** How many sessions are active now (within the time filter). */
	active: number;
	/** Pass back to get the next page; null on the last. A page may hold fewer than `limit` and still have a cursor. */
	cursor: string | null;
}

/** Filters for searching ended web visits; every given one must match. */
export interface SessionSearch {
	userId?: string;
	/** A path the visit viewed, exactly (`/shoes`). */
	page?: string;
	/** Ended at or after / before (ms). */
	from?: number;
	to?: number;
	limit?: number;
}

export interface SessionHit {
	session: string;
	interactionId: string;
	seq: number;
	startedAt: number;
	endedAt: number;
	summary: Summary;
}

/** How far back a search reads, so one query's cost stays bounded however long the org's history. */
export const MAX_SEARCH_SCAN = 5000;

function matches(interaction: Interaction, query: SessionSearch): boolean {
	const summary = interaction.summary as { userId?: string | null; pages?: string[] };
	if (query.userId !== undefined && summary.userId !== query.userId) return false;
	if (query.page !== undefined && !summary.pages?.includes(query.page)) return false;
	if (query.from !== undefined && interaction.endedAt < query.from) return false;
	if (query.to !== undefined && interaction.endedAt >= query.to) return false;
	return true;
}

function parseCursor(cursor: string | undefined): { phase: "active" | "ended"; at: number } {
	const match = /^([ae])(\d{1,15})$/.exec(cursor ?? "");
	if (!match) return { phase: "active", at: 0 };
	return { phase: match[1] === "e" ? "ended" : "active", at: Number(match[2]) };
}

/** Stored `org.interaction_recorded` rows as interactions at the catalog's current version, with their seq. */
export function* storedInteractions(
	rows: Iterable<StoredRow>,
	catalog: EventCatalog = orgCatalog,
): Generator<{ seq: number; interaction: Interaction }> {
	// The catalog is a parameter so a test can read the same rows through a catalog that has a newer version.
	const typed = catalog as typeof orgCatalog;
	for (const row of rows) yield { seq: row.seq, interaction: storedEventOf(row, typed, "org.interaction_recorded").data };
}

/** The chats among recorded interactions (newest first): each chat's id once, at most `limit` of them. */
export function recentChats(rows: Iterable<{ interaction: Interaction }>, limit: number): string[] {
	const chats = new Set<string>();
	for (const { interaction } of rows) {
		if (chats.size >= limit) break;
		if (interaction.source === "chat" && interaction.actor.kind === "chat") chats.add(interaction.actor.id);
	}
	return [...chats];
}

/**
 * Web visits that ended, newest first, matching every given filter: a user id, a page path the
 * visit included, or a window on when it ended. Reads the org's log of interactions backwards.
 */
export function searchSessions(
	rows: Iterable<{ seq: number; interaction: Interaction }>,
	query: SessionSearch = {},
): { sessions: SessionHit[]; scanned: number } {
	const limit = Math.min(Math.max(1, query.limit ?? 20), 200);
	const sessions: SessionHit[] = [];
	let scanned = 0;
	for (const { seq, interaction } of rows) {
		scanned++;
		if (interaction.source !== "web" || !matches(interaction, query)) continue;
		sessions.push({
			session: interaction.actor.id,
			interactionId: interaction.id,
			seq,
			startedAt: interaction.startedAt,
			endedAt: interaction.endedAt,
			summary: interaction.summary as Summary,
		});
		if (sessions.length >= limit) break;
	}
	return { sessions, scanned };
}

/**
 * The org's web sessions: `active` ones (a visit open now, newest first, from the directory),
 * `ended` visits (newest first, from the interactions), or both. Time filters apply to when the
 * visit started (active) or ended (ended); `cursor` pages on from where the last page stopped.
 */
export function listSessions(
	activeSessions: ActiveSessions,
	endedBefore: (before: number) => Iterable<{ seq: number; interaction: Interaction }>,
	query: SessionListQuery = {},
): SessionList {
	const status = query.status ?? "all";
	const limit = Math.min(Math.max(1, query.limit ?? 50), 200);
	const inWindow = (at: number) => (query.from === undefined || at >= query.from) && (query.to === undefined || at < query.to);
	const active: SessionListing[] =
		status === "ended"
			? []
			: Object.entries(activeSessions)
					.filter(([, s]) => inWindow(s.startedAt))
					.sort(([a, x], [b, y]) => y.startedAt - x.startedAt || a.localeCompare(b))
					.map(([session, s]) => ({ session, status: "active", visit: s.visit, startedAt: s.startedAt, endedAt: null, summary: null }));
	// The cursor is `a<offset>` while active sessions are listed, then `e<seq>`: ended visits before that seq of the log (`e0`: from the newest).
	const cursor = parseCursor(query.cursor);
	const page: SessionListing[] = [];
	if (cursor.phase === "active") page.push(...active.slice(cursor.at, cursor.at + limit));
	if (cursor.phase === "active" && cursor.at + limit < active.length) {
		return { sessions: page, active: active.length, cursor: `a${cursor.at + limit}` };
	}
	if (status === "active") return { sessions: page, active: active.length, cursor: null };
	// A page the active sessions filled continues with the ended ones, from the newest (`e0`).
	if (page.length >= limit) return { sessions: page, active: active.length, cursor: "e0" };
	let before = cursor.phase === "ended" && cursor.at > 0 ? cursor.at : Number.MAX_SAFE_INTEGER;
	let scanned = 0;
	for (const { seq, interaction } of endedBefore(before)) {
		scanned++;
		before = seq;
		if (interaction.source !== "web" || !inWindow(interaction.endedAt)) continue;
		const summary = interaction.summary as Summary;
		page.push({
			session: interaction.actor.id,
			status: "ended",
			visit: typeof summary.visit === "number" ? summary.visit : 1,
			startedAt: interaction.startedAt,
			endedAt: interaction.endedAt,
			summary,
		});
		if (page.length >= limit) break;
	}
	// A full page, or a scan that used its budget, continues from where it stopped; a short scan reached the start of the log.
	const more = page.length >= limit || scanned >= MAX_SEARCH_SCAN;
	return { sessions: page, active: active.length, cursor: more && before > 1 ? `e${before}` : null };
}
