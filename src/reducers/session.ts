/**
 * What a web session's events mean. Pure: no clock, no randomness, no I/O; time and ids come in
 * on the events. State is plain JSON so it snapshots as it is.
 */

import type { EventOf, FieldError, ProposalOf } from "../events/catalog.ts";
import { derivedId, type ProposedEvent } from "../events/envelope.ts";
import {
	backfillTimeErrors,
	type ClientSessionType,
	eventTimeErrors,
	isClientSessionType,
	sessionCatalog,
	type VisitSummary,
} from "../events/session.ts";
import type { ActorDefinition, DecideContext, Refusal } from "./definition.ts";

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
	/** How long the visit may be idle before it ends, as its start recorded it; null: the deployment's default. */
	inactivityMs: number | null;
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

/** A client event as the SDK sends it (the batch input, with where it sat in the batch). */
export interface ClientSessionEvent {
	id: string;
	type: string;
	ts: number;
	v?: number;
	data: unknown;
	at?: string;
}

export type SessionEvent = EventOf<typeof sessionCatalog>;
/** A client's event proposed as it was sent: the kernel validates its data against the catalog when it stages the batch. */
export type ClientProposal = ProposedEvent<ClientSessionType, unknown>;
/** What the session decides: its own events (typed by the catalog) and the client's events it lets through. */
export type SessionProposal = ProposalOf<typeof sessionCatalog> | ClientProposal;

export type SessionCommand =
	/**
	 * A client batch. `stored`: those of its ids already in the log (the actor looks them up when `needsStoredIds`).
	 * `backfill`: past events (POST /v1/orgs/{org}/backfill), whose times must be in the past 400 days instead.
	 */
	| { kind: "record"; events: readonly ClientSessionEvent[]; stored: ReadonlySet<string>; backfill?: boolean }
	/** The inactivity timer fired for the instant `at`. */
	| { kind: "end_inactive"; at: number };

export interface SessionContext extends DecideContext {
	/** What the open visit may take (the actor reads SESSION_MAX_VISIT_EVENTS / _DATA_CHARS). */
	budget: VisitBudget;
	/** The idle time a visit opened now records: the org's setting, read by the actor (absent: none recorded). */
	inactivityMs?: number;
}

export const DEFAULT_VISIT_BUDGET: VisitBudget = { events: MAX_VISIT_EVENTS, dataChars: MAX_VISIT_DATA_CHARS };

/**
 * With no visit open, the first new event starts one, so the batch's stored ids must be known first. In an open
 * visit the kernel's own duplicate check at commit is enough (and costs no lookup).
 */
export const needsStoredIds = (state: SessionState): boolean => state.status !== "active";

/** The session's decisions: a client batch, or the end of a visit by inactivity. */
export function decideSession(command: SessionCommand, state: SessionState, context: SessionContext): SessionProposal[] | Refusal {
	switch (command.kind) {
		case "record":
			return decideBatch(command, state, context);
		case "end_inactive":
			return decideInactivityEnd(state, command.at);
	}
}

/**
 * A client batch: times must fall in the window around the server's clock (invalid), repeated and stored ids are
 * dropped, the open visit must have room for the rest (rejected), and events arriving when no visit is open start one.
 */
function decideBatch(
	{ events, stored, backfill }: Extract<SessionCommand, { kind: "record" }>,
	state: SessionState,
	context: SessionContext,
): SessionProposal[] | Refusal {
	const late = backfill ? backfillTimeErrors(events, context.now) : eventTimeErrors(events, context.now);
	if (late.length > 0)
		return {
			kind: "invalid",
			detail: backfill ? "Backfilled events must be in the past 400 days." : "Event times must be near the server's clock.",
			errors: late,
		};
	const internal = notClientTypes(events);
	if (internal.length > 0) return { kind: "invalid", detail: "Only client event types may be sent.", errors: internal };
	const seen = new Set(stored);
	const fresh = events
		.map((event, i) => ({ ...event, at: `events[${i}]` }))
		.filter((event) => {
			if (seen.has(event.id)) return false;
			seen.add(event.id);
			return true;
		});
	const over = overVisitBudget(fresh, state, context.budget);
	if (over.length > 0) return { kind: "rejected", detail: "The open visit has no room for these events.", errors: over };
	const [first] = fresh;
	if (!first) return [];
	const proposed: SessionProposal[] = fresh.flatMap((e) =>
		isClientSessionType(e.type) ? [{ id: e.id, type: e.type, ts: e.ts, v: e.v, data: e.data, at: e.at }] : [],
	);
	if (state.status === "active") return proposed;
	const visit = (state.visit?.number ?? 0) + 1;
	// Derived from the first new event's id, so a retried batch yields the same id and dedupes; `~` keeps it out of client ids.
	const inactivity = context.inactivityMs === undefined ? {} : { inactivityMs: context.inactivityMs };
	return [{ id: derivedId(`${first.id}:started`), type: "session.started", ts: first.ts, data: { visit, ...inactivity } }, ...proposed];
}

/** Events whose type a client may not send (the batch input's schema already refuses them; this keeps the decision total). */
function notClientTypes(events: readonly ClientSessionEvent[]): FieldError[] {
	return events.flatMap((event, i) =>
		isClientSessionType(event.type) ? [] : [{ path: `events[${i}].type`, message: `"${event.type}" is not a client session event type` }],
	);
}

/**
 * Events of a batch beyond what the open visit may still take (its event and data budgets), one error per event,
 * so the SDK drops those and keeps the rest. A new visit starts empty: one batch always fits.
 */
function overVisitBudget(events: readonly ClientSessionEvent[], state: SessionState, budget: VisitBudget): FieldError[] {
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

/**
 * What an event's data weighs against the visit's budget: the characters of its strings and keys, 8 per number or
 * other scalar. A walk, not JSON.stringify: evolve runs it for every event of every replay, and serializing data
 * that was just parsed made replay half as fast.
 */
function dataChars(data: unknown): number {
	if (typeof data === "string") return data.length;
	if (data === null || typeof data !== "object") return 8;
	let chars = 0;
	if (Array.isArray(data)) {
		for (const item of data) chars += dataChars(item);
		return chars;
	}
	for (const key in data) {
		if (Object.hasOwn(data, key)) chars += key.length + dataChars((data as Record<string, unknown>)[key]);
	}
	return chars;
}

/** When a visit's inactivity timer fires at `at`: the end of the open visit, or nothing if none is open. */
function decideInactivityEnd(state: SessionState, at: number): SessionProposal[] {
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

/** A count kept under a client-chosen key; never one inherited from Object.prototype (`counts.constructor`). */
const countOf = (counts: Record<string, number>, key: string): number => (Object.hasOwn(counts, key) ? (counts[key] ?? 0) : 0);

export function evolveSession(state: SessionState, event: SessionEvent): SessionState {
	switch (event.type) {
		case "session.started":
			if (state.status === "active") throw new Error("a visit is already open");
			return {
				...state,
				status: "active",
				visit: newVisit(event.data.visit, event.ts, event.data.inactivityMs ?? null),
				currentPage: null,
				lastEvent: lastEventOf(event),
			};
		case "session.ended":
			openVisit(state, event);
			return {
				...state,
				status: "ended",
				currentPage: null,
				lastEvent: lastEventOf(event),
				endedVisits: [...state.endedVisits, event.data.summary].slice(-MAX_ENDED_VISITS),
				visitsEnded: state.visitsEnded + 1,
			};
		case "session.page_viewed": {
			const { next, visit } = touch(state, event);
			const { path } = event.data;
			visit.pageViews++;
			if (!visit.pages.includes(path)) {
				if (visit.pages.length < MAX_VISIT_PAGES && visit.pagesChars + path.length <= MAX_VISIT_PAGE_CHARS) {
					visit.pages = [...visit.pages, path];
					visit.pagesChars += path.length;
				} else visit.truncated = true;
			}
			next.currentPage = path;
			return next;
		}
		case "session.clicked": {
			const { next, visit } = touch(state, event);
			const { target } = event.data;
			visit.clicks++;
			// Own keys only: a target named like an Object.prototype member ("constructor") is a target like any other.
			const known = Object.hasOwn(visit.clickTargets, target);
			if (known || Object.keys(visit.clickTargets).length < MAX_CLICK_TARGETS) {
				visit.clickTargets = { ...visit.clickTargets, [target]: countOf(visit.clickTargets, target) + 1 };
			} else visit.truncated = true;
			return next;
		}
		case "session.custom": {
			const { next, visit } = touch(state, event);
			const { name } = event.data;
			if (Object.hasOwn(visit.customEvents, name) || Object.keys(visit.customEvents).length < MAX_CUSTOM_NAMES) {
				visit.customEvents = { ...visit.customEvents, [name]: countOf(visit.customEvents, name) + 1 };
			} else visit.truncated = true;
			return next;
		}
		case "session.identified": {
			const { next } = touch(state, event);
			const { userId, traits } = event.data;
			next.userId = userId;
			next.traits = traits ? mergeTraits(state.traits, traits) : state.traits;
			return next;
		}
		case "session.error": {
			const { next, visit } = touch(state, event);
			visit.errors++;
			return next;
		}
		default:
			return unknownEvent(event);
	}
}

function unknownEvent(event: never): never {
	throw new Error(`session has no reducer for ${(event as SessionEvent).type}`);
}

const lastEventOf = (event: SessionEvent): SessionState["lastEvent"] => ({ type: event.type, ts: event.ts, seq: event.seq });

function newVisit(number: number, at: number, inactivityMs: number | null): Visit {
	return {
		number,
		startedAt: at,
		lastEventAt: at,
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
		inactivityMs,
	};
}

/** The open visit; every event but the start needs one. */
function openVisit(state: SessionState, event: SessionEvent): Visit {
	if (state.status !== "active" || !state.visit) throw new Error(`${event.type} needs an open visit (session is ${state.status})`);
	return state.visit;
}

/** A client event's share of the open visit: counted, its time and data added. `visit` is the next state's own copy to update. */
function touch(state: SessionState, event: SessionEvent): { next: SessionState; visit: Visit } {
	const open = openVisit(state, event);
	const visit: Visit = {
		...open,
		events: open.events + 1,
		lastEventAt: Math.max(open.lastEventAt, event.ts),
		dataChars: open.dataChars + dataChars(event.data),
	};
	return { next: { ...state, visit, lastEvent: lastEventOf(event) }, visit };
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

export const sessionDefinition: ActorDefinition<SessionState, SessionEvent> = {
	kind: "session",
	catalog: sessionCatalog,
	// 2: visits count clicks per target. 3: visits cap pages, custom names and traits, count data, keep 20 ended visits.
	// 4: a visit keeps the inactivity its start recorded.
	reducerVersion: 4,
	initialState: initialSessionState,
	evolve: evolveSession,
};
