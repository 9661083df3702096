/**
 * What a web session's events mean. Pure: no clock, no randomness, no I/O; time and ids come in
 * on the events. State is plain JSON so it snapshots as it is.
 */

import type { ProposedEvent, RecordedEvent } from "../events/envelope.ts";
import { sessionCatalog, type VisitSummary } from "../events/session.ts";
import type { ActorDefinition } from "./definition.ts";

export interface Visit {
	number: number;
	startedAt: number;
	lastEventAt: number;
	events: number;
	pageViews: number;
	clicks: number;
	/** Distinct paths in the order first seen. */
	pages: string[];
	customEvents: Record<string, number>;
	/** Clicks per CSS target, the MAX_CLICK_TARGETS most clicked. */
	clickTargets: Record<string, number>;
	errors: number;
}

/** A visit keeps counts for this many click targets; clicks on others still count in `clicks`. */
export const MAX_CLICK_TARGETS = 50;

export interface SessionState {
	status: "new" | "active" | "ended";
	visit: Visit | null;
	currentPage: string | null;
	userId: string | null;
	traits: Record<string, unknown>;
	lastEvent: { type: string; ts: number; seq: number } | null;
	/** Visits that ended, oldest first. */
	endedVisits: VisitSummary[];
}

export const initialSessionState = (): SessionState => ({
	status: "new",
	visit: null,
	currentPage: null,
	userId: null,
	traits: {},
	lastEvent: null,
	endedVisits: [],
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
	// Derived from the first new event's id, so a retried batch yields the same id and dedupes.
	return [{ id: `${first.id}:started`, type: "session.started", ts: first.ts, data: { visit } }, ...events];
}

/** When a visit's inactivity timer fires at `at`: the end of the open visit, or nothing if none is open. */
export function decideInactivityEnd(state: SessionState, at: number): ProposedEvent[] {
	if (state.status !== "active" || !state.visit) return [];
	return [
		{
			// One end per visit: a timer that fires twice still ends the visit once.
			id: `visit-${state.visit.number}:ended`,
			type: "session.ended",
			ts: at,
			data: { reason: "inactivity", summary: summarize(state.visit, state.userId) },
		},
	];
}

export function summarize(visit: Visit, userId: string | null): VisitSummary {
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
				customEvents: {},
				clickTargets: {},
				errors: 0,
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
			endedVisits: [...state.endedVisits, summary],
		};
	}

	const touched: Visit = { ...visit, events: visit.events + 1, lastEventAt: Math.max(visit.lastEventAt, event.ts) };
	const next: SessionState = { ...state, visit: touched, lastEvent: { type: event.type, ts: event.ts, seq: event.seq } };
	switch (event.type) {
		case "session.page_viewed": {
			const { path } = event.data as Data<{ path: string }>;
			touched.pageViews++;
			if (!touched.pages.includes(path)) touched.pages = [...touched.pages, path];
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
			}
			return next;
		}
		case "session.custom": {
			const { name } = event.data as Data<{ name: string }>;
			touched.customEvents = { ...touched.customEvents, [name]: countOf(touched.customEvents, name) + 1 };
			return next;
		}
		case "session.identified": {
			const { userId, traits } = event.data as Data<{ userId: string; traits?: Record<string, unknown> }>;
			next.userId = userId;
			next.traits = traits ? { ...state.traits, ...traits } : state.traits;
			return next;
		}
		case "session.error":
			touched.errors++;
			return next;
		default:
			throw new Error(`session has no reducer for ${event.type}`);
	}
}

export const sessionDefinition: ActorDefinition<SessionState> = {
	kind: "session",
	catalog: sessionCatalog,
	// 2: visits count clicks per target.
	reducerVersion: 2,
	initialState: initialSessionState,
	evolve: evolveSession,
};
