/**
 * The org's directory of web sessions, read from its state (active visits) and from its interactions projection
 * (ended visits, newest first by end time, src/actors/org-search.ts), with no cap on how far back it reaches.
 */

import type { Outcome } from "../core/outcome.ts";
import type { EventCatalog } from "../events/catalog.ts";
import type { Interaction, Summary } from "../events/interaction.ts";
import { orgCatalog } from "../events/org.ts";
import { type StoredRow, storedEventOf } from "../events/stored.ts";
import type { ActiveSessions } from "../reducers/org.ts";
import type { InteractionSearchPage } from "./org-search.ts";

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

/** Filters for searching ended web visits; every given one must match (src/actors/org-search.ts reads them from the projection). */
export interface SessionSearch {
	userId?: string;
	/** A path the visit viewed, exactly (`/shoes`). */
	page?: string;
	/** Ended at or after / before (ms). */
	from?: number;
	to?: number;
	limit?: number;
	cursor?: string;
}

export interface SessionHit {
	session: string;
	interactionId: string;
	seq: number;
	startedAt: number;
	endedAt: number;
	summary: Summary;
}

/** Ended web visits found by a search of the interactions, as session hits; none, and `rebuilding`, while the projection rebuilds. */
export function sessionHits(found: Outcome<InteractionSearchPage>): { sessions: SessionHit[]; cursor: string | null; rebuilding?: true } {
	if (!found.ok) return { sessions: [], cursor: null, rebuilding: true };
	const sessions = found.value.interactions.map(({ seq, startedAt, endedAt, summary, actor, id }) => ({
		session: actor.id,
		interactionId: id,
		seq,
		startedAt,
		endedAt,
		summary,
	}));
	return { sessions, cursor: found.value.cursor };
}

/** A page of ended visits from the interactions projection, and the cursor after it (null: the last page). */
export type EndedPage = { interactions: Interaction[]; cursor: string | null };

/** `a<offset>` while active sessions are listed, then `e0` (ended, from the newest) or `e<endedAt>.<seq>` (the search's cursor). */
export const SESSION_CURSOR = /^(a\d{1,15}|e0|e\d{1,16}\.\d{1,16})$/;

function parseCursor(cursor: string | undefined): { phase: "active"; at: number } | { phase: "ended"; after: string | undefined } {
	if (!cursor || !SESSION_CURSOR.test(cursor)) return { phase: "active", at: 0 };
	if (cursor.startsWith("a")) return { phase: "active", at: Number(cursor.slice(1)) };
	return { phase: "ended", after: cursor === "e0" ? undefined : cursor.slice(1) };
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
 * The org's web sessions: `active` ones (a visit open now, newest first, from the directory),
 * `ended` visits (newest first, from the interactions), or both. Time filters apply to when the
 * visit started (active) or ended (ended); `cursor` pages on from where the last page stopped.
 */
export function listSessions(
	activeSessions: ActiveSessions,
	ended: (query: { from?: number; to?: number; cursor?: string; limit: number }) => EndedPage,
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
	const cursor = parseCursor(query.cursor);
	const page: SessionListing[] = [];
	if (cursor.phase === "active") page.push(...active.slice(cursor.at, cursor.at + limit));
	if (cursor.phase === "active" && cursor.at + limit < active.length) {
		return { sessions: page, active: active.length, cursor: `a${cursor.at + limit}` };
	}
	if (status === "active") return { sessions: page, active: active.length, cursor: null };
	// A page the active sessions filled continues with the ended ones, from the newest (`e0`).
	if (page.length >= limit) return { sessions: page, active: active.length, cursor: "e0" };
	const after = cursor.phase === "ended" ? cursor.after : undefined;
	const found = ended({ from: query.from, to: query.to, cursor: after, limit: limit - page.length });
	for (const interaction of found.interactions) {
		const summary = interaction.summary as Summary;
		page.push({
			session: interaction.actor.id,
			status: "ended",
			visit: typeof summary.visit === "number" ? summary.visit : 1,
			startedAt: interaction.startedAt,
			endedAt: interaction.endedAt,
			summary,
		});
	}
	return { sessions: page, active: active.length, cursor: found.cursor === null ? null : `e${found.cursor}` };
}

/** How many of the newest interactions org health reads for the chats it follows. */
export const RECENT_CHATS_SCAN = 5000;
