/**
 * What a web session's events mean. Pure: no clock, no randomness, no I/O; time and ids come in
 * on the events. State is plain JSON so it snapshots as it is.
 */

import type { FieldError } from "../events/catalog.ts";
import { derivedId, type ProposedEvent, type RecordedEvent } from "../events/envelope.ts";
import { sessionCatalog, type VisitSummary } from "../events/session.ts";
import type { ActorDefinition } from "./definition.ts";

export interface Visit {
	number: number;
	startedAt: number;
	lastEventAt: number;
	events: number;
	pageViews: number;
	clicks: number;
	/** Distinct paths in the order first seen: the first MAX_VISIT_PAGES, within MAX_VISIT_PAGE_CHARS. */
	pages: string[];
	/** Characters of the paths in `pages`. */
	pagesChars: number;
	/** Counts per custom event name, for the first MAX_CUSTOM_NAMES names. */
	customEvents: Record<string, number>;
	/** Clicks per CSS target, the MAX_CLICK_TARGETS most clicked. */
	clickTargets: Record<string, number>;
	errors: number;
	/** Characters of event data (as JSON) the visit's client events carried; bounded by MAX_VISIT_DATA_CHARS. */
	dataChars: number;
	/** Whether a page, custom name or click target was left out of the lists for being over a cap (counts still count). */
	truncated: boolean;
}

/**
 * What one visit may keep and take. The lists are capped so state, snapshots and the visit's summary stay
 * bounded whatever one key sends (and folding stays linear: no map copied per event grows past its cap);
 * events past a cap still count in `events`, `pageViews`, `clicks`. The event and data budgets refuse
 * batches (422 naming each event over it) until the visit ends.
 */
export const MAX_CLICK_TARGETS = 50;
export const MAX_VISIT_PAGES = 100;
export const MAX_VISIT_PAGE_CHARS = 16_384;
export const MAX_CUSTOM_NAMES = 100;
/** Traits a session keeps: keys, and characters of the traits as JSON; traits that do not fit are dropped. */
export const MAX_TRAITS = 50;
export const MAX_TRAITS_CHARS = 8_192;
export const MAX_VISIT_EVENTS = 10_000;
export const MAX_VISIT_DATA_CHARS = 8_000_000;
/** What a visit may take; the session actor reads it from SESSION_MAX_VISIT_EVENTS / _DATA_CHARS (load tests raise it). */
export interface VisitBudget {
	events: number;
	dataChars: number;
}
/** Ended visits kept in state, newest last; `visitsEnded` counts them all. */
export const MAX_ENDED_VISITS = 20;
/** A summary longer than this (JSON characters) drops list entries and says `truncated` (an event holds 1,000,000). */
export const MAX_SUMMARY_CHARS = 200_000;

export interface SessionState {
	status: "new" | "active" | "ended";
	visit: Visit | null;
	currentPage: string | null;
	userId: string | null;
	traits: Record<string, unknown>;
	lastEvent: { type: string; ts: number; seq: number } | null;
	/** The last MAX_ENDED_VISITS visits that ended, oldest first. */
	endedVisits: VisitSummary[];
	visitsEnded: number;
}

export const initialSessionState = (): SessionState => ({
	status: "new",
	visit: null,
	currentPage: null,
	userId: null,
	traits: {},
	lastEvent: null,
	endedVisits: [],
	visitsEnded: 0,
});

/** A client event as the SDK sends it. */
export interface ClientSessionEvent {
	id: string;
	type: string;
	ts: number;
	v?: number;
	data: unknown;
	at?: string;
}

export type SessionCommand = { kind: "record"; events: ClientSessionEvent[] };

/** Turns a command into events. Events arriving when no visit is open start one first. */
export function decideSession(command: SessionCommand, state: SessionState): ProposedEvent[] {
	const [first] = command.events;
	if (!first) return [];
	const events: ProposedEvent[] = command.events.map((e) => ({ id: e.id, type: e.type, ts: e.ts, v: e.v, data: e.data, at: e.at }));
	if (state.status === "active") return events;
	const visit = (state.visit?.number ?? 0) + 1;
	// Derived from the first new event's id, so a retried batch yields the same id and dedupes; `~` keeps it out of client ids.
	return [{ id: derivedId(`${first.id}:started`), type: "session.started", ts: first.ts, data: { visit } }, ...events];
}

/**
 * Events of a batch beyond what the open visit may still take (MAX_VISIT_EVENTS, MAX_VISIT_DATA_CHARS), one
 * error per event, so the SDK drops those and keeps the rest. A new visit starts empty: one batch always fits.
 */
export function overVisitBudget(
	events: readonly ClientSessionEvent[],
	state: SessionState,
	budget: VisitBudget = { events: MAX_VISIT_EVENTS, dataChars: MAX_VISIT_DATA_CHARS },
): FieldError[] {
	const visit = state.status === "active" ? state.visit : null;
	let count = visit?.events ?? 0;
	let chars = visit?.dataChars ?? 0;
	const errors: FieldError[] = [];
	events.forEach((event, i) => {
		count++;
		chars += dataChars(event.data);
		if (count > budget.events)
			errors.push({
				path: event.at ?? `events[${i}]`,
				message: `the visit already holds ${budget.events} events; it takes more after it ends`,
			});
		else if (chars > budget.dataChars)
			errors.push({
				path: event.at ?? `events[${i}]`,
				message: `the visit already holds ${budget.dataChars} characters of event data; it takes more after it ends`,
			});
	});
	return errors;
}

const dataChars = (data: unknown): number => JSON.stringify(data ?? null).length;

/** When a visit's inactivity timer fires at `at`: the end of the open visit, or nothing if none is open. */
export function decideInactivityEnd(state: SessionState, at: number): ProposedEvent[] {
	if (state.status !== "active" || !state.visit) return [];
	return [
		{
			// One end per visit: a timer that fires twice still ends the visit once. No client id can take it (`~`).
			id: derivedId(`visit-${state.visit.number}:ended`),
			type: "session.ended",
			ts: at,
			data: { reason: "inactivity", summary: summarize(state.visit, state.userId) },
		},
	];
}

/** The visit's summary, cut to MAX_SUMMARY_CHARS (pages first, then names and targets) so the end always fits an event. */
export function summarize(visit: Visit, userId: string | null): VisitSummary {
	const summary = fullSummary(visit, userId);
	if (JSON.stringify(summary).length <= MAX_SUMMARY_CHARS) return summary;
	const cut: VisitSummary = { ...summary, pages: [], customEvents: {}, clickTargets: {}, truncated: true };
	let room = MAX_SUMMARY_CHARS - JSON.stringify(cut).length;
	const fits = (chars: number): boolean => {
		if (chars > room) return false;
		room -= chars;
		return true;
	};
	for (const page of summary.pages) if (fits(JSON.stringify(page).length + 1)) cut.pages.push(page);
	for (const [name, n] of Object.entries(summary.customEvents))
		if (fits(JSON.stringify(name).length + String(n).length + 2)) Object.defineProperty(cut.customEvents, name, ownValue(n));
	for (const [target, n] of Object.entries(summary.clickTargets ?? {}))
		if (fits(JSON.stringify(target).length + String(n).length + 2)) Object.defineProperty(cut.clickTargets, target, ownValue(n));
	return cut;
}

const ownValue = (value: number): PropertyDescriptor => ({ value, enumerable: true, writable: true, configurable: true });

function fullSummary(visit: Visit, userId: string | null): VisitSummary {
	return {
		visit: visit.number,
		startedAt: visit.startedAt,
		lastEventAt: visit.lastEventAt,
		durationMs: Math.max(0, visit.lastEventAt - visit.startedAt),
		events: visit.events,
		pageViews: visit.pageViews,
		clicks: visit.clicks,
		pages: visit.pages,
		customEvents: visit.customEvents,
		clickTargets: visit.clickTargets,
		errors: visit.errors,
		userId,
		...(visit.truncated ? { truncated: true } : {}),
	};
}

type Data<T> = T & Record<string, unknown>;

/** A count kept under a client-chosen key; never one inherited from Object.prototype (`counts.constructor`). */
const countOf = (counts: Record<string, number>, key: string): number => (Object.hasOwn(counts, key) ? (counts[key] ?? 0) : 0);

export function evolveSession(state: SessionState, event: RecordedEvent): SessionState {
	if (event.type === "session.started") {
		if (state.status === "active") throw new Error("a visit is already open");
		const { visit: number } = event.data as Data<{ visit: number }>;
		return {
			...state,
			status: "active",
			visit: {
				number,
				startedAt: event.ts,
				lastEventAt: event.ts,
				events: 0,
				pageViews: 0,
				clicks: 0,
				pages: [],
				pagesChars: 0,
				customEvents: {},
				clickTargets: {},
				errors: 0,
				dataChars: 0,
				truncated: false,
			},
			currentPage: null,
			lastEvent: { type: event.type, ts: event.ts, seq: event.seq },
		};
	}
	const visit = state.visit;
	if (state.status !== "active" || !visit) throw new Error(`${event.type} needs an open visit (session is ${state.status})`);
	if (event.type === "session.ended") {
		const { summary } = event.data as Data<{ summary: VisitSummary }>;
		return {
			...state,
			status: "ended",
			currentPage: null,
			lastEvent: { type: event.type, ts: event.ts, seq: event.seq },
			endedVisits: [...state.endedVisits, summary].slice(-MAX_ENDED_VISITS),
			visitsEnded: state.visitsEnded + 1,
		};
	}

	const touched: Visit = {
		...visit,
		events: visit.events + 1,
		lastEventAt: Math.max(visit.lastEventAt, event.ts),
		dataChars: visit.dataChars + dataChars(event.data),
	};
	const next: SessionState = { ...state, visit: touched, lastEvent: { type: event.type, ts: event.ts, seq: event.seq } };
	switch (event.type) {
		case "session.page_viewed": {
			const { path } = event.data as Data<{ path: string }>;
			touched.pageViews++;
			if (!touched.pages.includes(path)) {
				if (touched.pages.length < MAX_VISIT_PAGES && touched.pagesChars + path.length <= MAX_VISIT_PAGE_CHARS) {
					touched.pages = [...touched.pages, path];
					touched.pagesChars += path.length;
				} else touched.truncated = true;
			}
			next.currentPage = path;
			return next;
		}
		case "session.clicked": {
			const { target } = event.data as Data<{ target: string }>;
			touched.clicks++;
			// Own keys only: a target named like an Object.prototype member ("constructor") is a target like any other.
			const known = Object.hasOwn(touched.clickTargets, target);
			if (known || Object.keys(touched.clickTargets).length < MAX_CLICK_TARGETS) {
				touched.clickTargets = { ...touched.clickTargets, [target]: countOf(touched.clickTargets, target) + 1 };
			} else touched.truncated = true;
			return next;
		}
		case "session.custom": {
			const { name } = event.data as Data<{ name: string }>;
			if (Object.hasOwn(touched.customEvents, name) || Object.keys(touched.customEvents).length < MAX_CUSTOM_NAMES) {
				touched.customEvents = { ...touched.customEvents, [name]: countOf(touched.customEvents, name) + 1 };
			} else touched.truncated = true;
			return next;
		}
		case "session.identified": {
			const { userId, traits } = event.data as Data<{ userId: string; traits?: Record<string, unknown> }>;
			next.userId = userId;
			next.traits = traits ? mergeTraits(state.traits, traits) : state.traits;
			return next;
		}
		case "session.error":
			touched.errors++;
			return next;
		default:
			throw new Error(`session has no reducer for ${event.type}`);
	}
}

/** Traits merged over the previous ones, each kept only if the whole stays within MAX_TRAITS and MAX_TRAITS_CHARS. */
function mergeTraits(previous: Record<string, unknown>, traits: Record<string, unknown>): Record<string, unknown> {
	const merged = { ...previous };
	let keys = Object.keys(merged).length;
	let chars = JSON.stringify(merged).length;
	for (const [key, value] of Object.entries(traits)) {
		const had = Object.hasOwn(merged, key);
		const before = had ? JSON.stringify(key).length + JSON.stringify(merged[key]).length + 2 : 0;
		const after = JSON.stringify(key).length + JSON.stringify(value ?? null).length + 2;
		if ((!had && keys >= MAX_TRAITS) || chars - before + after > MAX_TRAITS_CHARS) continue;
		Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
		if (!had) keys++;
		chars += after - before;
	}
	return merged;
}

export const sessionDefinition: ActorDefinition<SessionState> = {
	kind: "session",
	catalog: sessionCatalog,
	// 2: visits count clicks per target. 3: visits cap pages, custom names and traits, count data, keep 20 ended visits.
	reducerVersion: 3,
	initialState: initialSessionState,
	evolve: evolveSession,
};
