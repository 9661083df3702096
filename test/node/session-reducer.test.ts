import { describe, expect, expectTypeOf, it } from "vitest";
import type { DataOf } from "../../src/events/catalog.ts";
import { DERIVED_ID_PREFIX, type ProposedEvent } from "../../src/events/envelope.ts";
import {
	type ClientSessionType,
	EVENT_ID_PATTERN,
	eventTimeErrors,
	MAX_EVENT_TS_AHEAD_MS,
	MIN_EVENT_TS,
	sessionCatalog,
	type VisitSummary,
} from "../../src/events/session.ts";
import { fold } from "../../src/reducers/definition.ts";
import {
	type ClientSessionEvent,
	DEFAULT_VISIT_BUDGET,
	decideSession,
	MAX_CUSTOM_NAMES,
	MAX_ENDED_VISITS,
	MAX_SUMMARY_CHARS,
	MAX_TRAITS,
	MAX_TRAITS_CHARS,
	MAX_VISIT_DATA_CHARS,
	MAX_VISIT_EVENTS,
	MAX_VISIT_PAGE_CHARS,
	MAX_VISIT_PAGES,
	type SessionCommand,
	type SessionProposal,
	sessionDefinition,
	summarize,
	type Visit,
} from "../../src/reducers/session.ts";
import type { ClientEventType, SessionEventData } from "../../src/sdk/events.ts";
import { deciderSpec, recorded } from "../support/decider-spec.ts";

/** The server's clock in these specs; client events fall just after it, inside the accepted window. */
const T0 = Date.UTC(2030, 0, 1);
const session = deciderSpec(sessionDefinition, decideSession, { now: T0, budget: DEFAULT_VISIT_BUDGET });

let n = 0;
const event = (type: string, data: unknown, ts = T0 + n): ProposedEvent => ({ id: `e${++n}`, type, ts, data });
const started = (visit = 1, ts?: number) => event("session.started", { visit }, ts);
const viewed = (path: string, ts?: number) => event("session.page_viewed", { url: `https://x${path}`, path }, ts);
const clicked = (target = "a.buy", ts?: number) => event("session.clicked", { target }, ts);
const summaryOf = (visit: number): VisitSummary => ({
	visit,
	startedAt: T0,
	lastEventAt: T0,
	durationMs: 0,
	events: 1,
	pageViews: 1,
	clicks: 0,
	pages: ["/a"],
	customEvents: {},
	errors: 0,
	userId: null,
});
const ended = (visit = 1, ts?: number) => event("session.ended", { reason: "inactivity", summary: summaryOf(visit) }, ts);

const client = (id: string, ts: number, data: unknown = { target: "a.buy" }): ClientSessionEvent => ({
	id,
	type: "session.clicked",
	ts,
	data,
});
const record = (...events: ClientSessionEvent[]): SessionCommand => ({ kind: "record", events, stored: new Set() });
/** A client event as the decider passes it on. */
const through = (e: ClientSessionEvent): ProposedEvent => ({ id: e.id, type: e.type, ts: e.ts, data: e.data });
const refusalOf = (decided: { refusal: unknown } | { events: SessionProposal[] }) => ("refusal" in decided ? decided.refusal : null);

describe("decide", () => {
	it("the first events of a session open a visit, with an id derived from the first event", () => {
		const a = client("a", T0 + 5);
		session
			.given()
			.when(record(a))
			.thenDecides([{ id: "~a:started", type: "session.started", ts: T0 + 5, data: { visit: 1 } }, through(a)]);
	});

	it("events during an open visit pass through unchanged", () => {
		const b = client("b", T0 + 9);
		session
			.given(started())
			.when(record(b))
			.thenDecides([through(b)]);
	});

	it("events after the visit ended start the next visit", () => {
		const c = client("c", T0 + 9);
		session
			.given(started(), viewed("/a"), ended())
			.when(record(c))
			.thenDecides([{ id: "~c:started", type: "session.started", ts: T0 + 9, data: { visit: 2 } }, through(c)]);
	});

	it("nothing to record decides nothing", () => {
		session.given().when(record()).thenDecides([]);
	});

	it("ids repeated in the batch or already stored are left out, and the first new one names the visit's start", () => {
		const [a, b] = [client("a", T0 + 1), client("b", T0 + 2)];
		session
			.given()
			.when({ kind: "record", events: [b, a, a], stored: new Set(["b"]) })
			.thenDecides([{ id: "~a:started", type: "session.started", ts: T0 + 1, data: { visit: 1 } }, through(a)]);
	});

	it("an event type only the actor may emit is refused, naming the field", () => {
		const forged = { ...client("f", T0 + 1), type: "session.started", data: { visit: 7 } };
		const refusal = refusalOf(session.given().when(record(forged)).decided());
		expect(refusal).toMatchObject({ kind: "invalid", errors: [{ path: "events[0].type" }] });
	});

	it("the end of an inactive visit is decided only while a visit is open", () => {
		session.given().when({ kind: "end_inactive", at: T0 }).thenDecides([]);
		session.given(started(), viewed("/a"), ended()).when({ kind: "end_inactive", at: T0 }).thenDecides([]);
		const { events } = session
			.given(started(1, T0), viewed("/a", T0 + 1))
			.when({ kind: "end_inactive", at: T0 + 60_000 })
			.decided() as {
			events: SessionProposal[];
		};
		expect(events).toMatchObject([
			{ id: "~visit-1:ended", type: "session.ended", ts: T0 + 60_000, data: { reason: "inactivity", summary: { visit: 1, pageViews: 1 } } },
		]);
	});
});

describe("evolve", () => {
	it("counts page views, distinct pages, clicks, custom events and errors of the visit", () => {
		const { state } = session.given(
			started(1, T0 + 100),
			viewed("/", T0 + 110),
			viewed("/shoes", T0 + 120),
			viewed("/", T0 + 130),
			event("session.clicked", { target: "a.buy" }, T0 + 140),
			event("session.custom", { name: "add_to_cart" }, T0 + 150),
			event("session.custom", { name: "add_to_cart" }, T0 + 160),
			event("session.error", { message: "boom" }, T0 + 170),
			event("session.identified", { userId: "u1", traits: { plan: "pro" } }, T0 + 180),
		);
		expect(state).toMatchObject({
			status: "active",
			currentPage: "/",
			userId: "u1",
			traits: { plan: "pro" },
			visit: {
				number: 1,
				startedAt: T0 + 100,
				lastEventAt: T0 + 180,
				events: 8,
				pageViews: 3,
				clicks: 1,
				pages: ["/", "/shoes"],
				errors: 1,
			},
		});
		expect(state.visit?.customEvents).toEqual({ add_to_cart: 2 });
	});

	it("an event before any visit opened is refused", () => {
		expect(() => session.given(viewed("/a"))).toThrow(/needs an open visit/);
	});

	it("a second start while a visit is open is refused", () => {
		expect(() => session.given(started(), started(2))).toThrow(/already open/);
	});

	it("does not modify the state it is given", () => {
		const before = session.given(started(), viewed("/a")).state;
		const frozen = structuredClone(before);
		fold(sessionDefinition, recorded(sessionCatalog, [viewed("/b")], 3), before);
		expect(before).toEqual(frozen);
	});

	it("the same events always fold to the same state", () => {
		const events = [started(1, T0 + 1), viewed("/a", T0 + 2), clicked("x", T0 + 3)];
		const state = session.given(...events).state;
		expect(session.given(...events).state).toEqual(state);
		expect(JSON.parse(JSON.stringify(state))).toEqual(state);
	});
});

describe("catalog", () => {
	it("lifts a version 1 page view to version 2 by deriving its path", () => {
		expect(sessionCatalog.upcast("session.page_viewed", 1, { url: "https://x.example/a/b?q=1#top" })).toEqual({
			v: 2,
			data: { url: "https://x.example/a/b?q=1#top", path: "/a/b" },
		});
	});

	it("validation errors name the field under where the event sits", () => {
		const result = sessionCatalog.validate("session.clicked", { target: 5 }, undefined, "events[4]");
		expect(result).toEqual({ ok: false, errors: [{ path: "events[4].data.target", message: expect.any(String) }] });
	});
});

describe("the SDK's mirror of the client events (src/sdk/events.ts, which cannot import zod)", () => {
	type Catalog<T extends ClientSessionType> = DataOf<typeof sessionCatalog, T>;
	it("has the catalog's client types and, for each, the catalog's data shape (checked by tsc)", () => {
		expectTypeOf<ClientEventType>().toEqualTypeOf<ClientSessionType>();
		expectTypeOf<SessionEventData["session.page_viewed"]>().toEqualTypeOf<Catalog<"session.page_viewed">>();
		expectTypeOf<SessionEventData["session.clicked"]>().toEqualTypeOf<Catalog<"session.clicked">>();
		expectTypeOf<SessionEventData["session.custom"]>().toEqualTypeOf<Catalog<"session.custom">>();
		expectTypeOf<SessionEventData["session.identified"]>().toEqualTypeOf<Catalog<"session.identified">>();
		expectTypeOf<SessionEventData["session.error"]>().toEqualTypeOf<Catalog<"session.error">>();
	});
});

describe("what one visit keeps and takes (security review: one key growing a session without bound)", () => {
	const many = <T>(n: number, item: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => item(i));
	const longPath = (i: number) => `/${String(i).padStart(6, "0")}${"p".repeat(2000)}`;
	const given = (...events: ProposedEvent[]) => session.given(...events).state;

	it("a visit keeps its first distinct pages within the count and character caps, and still counts every view", () => {
		const short = given(started(), ...many(MAX_VISIT_PAGES + 30, (i) => viewed(`/p${i}`)));
		expect(short.visit?.pages).toHaveLength(MAX_VISIT_PAGES);
		expect(short.visit).toMatchObject({ pageViews: MAX_VISIT_PAGES + 30, truncated: true });
		const long = given(started(), ...many(40, (i) => viewed(longPath(i))));
		expect(long.visit?.pages.join("").length).toBeLessThanOrEqual(MAX_VISIT_PAGE_CHARS);
		expect(long.visit).toMatchObject({ pageViews: 40, truncated: true });
	});

	it("a visit counts the first custom event names and no more, and still counts every event", () => {
		const state = given(started(), ...many(MAX_CUSTOM_NAMES + 50, (i) => event("session.custom", { name: `n${i}` })));
		expect(Object.keys(state.visit?.customEvents ?? {})).toHaveLength(MAX_CUSTOM_NAMES);
		expect(state.visit).toMatchObject({ events: MAX_CUSTOM_NAMES + 50, truncated: true });
		expect(given(started(), event("session.custom", { name: "a" })).visit?.truncated).toBe(false);
	});

	it("traits are kept within their key and character caps; later values of kept keys still replace them", () => {
		const wide = Object.fromEntries(many(MAX_TRAITS + 20, (i) => i).map((i) => [`t${i}`, i]));
		const state = given(started(), event("session.identified", { userId: "u", traits: wide }));
		expect(Object.keys(state.traits)).toHaveLength(MAX_TRAITS);
		const big = given(
			started(),
			event("session.identified", { userId: "u", traits: { plan: "pro" } }),
			event("session.identified", { userId: "u", traits: { blob: "x".repeat(MAX_TRAITS_CHARS), plan: "team" } }),
		);
		expect(big.traits).toEqual({ plan: "team" });
		expect(JSON.stringify(big.traits).length).toBeLessThanOrEqual(MAX_TRAITS_CHARS);
	});

	it("the visit's summary stays within its limit, and says when lists were cut", () => {
		const decided = session
			.given(
				started(),
				...many(300, (i) => viewed(longPath(i))),
				...many(300, (i) => event("session.custom", { name: `${"c".repeat(100)}${i}` })),
				...many(80, (i) => clicked(`${"t".repeat(1000)}${i}`)),
			)
			.when({ kind: "end_inactive", at: T0 + 5_000 })
			.decided();
		const [end] = "events" in decided ? decided.events : [];
		if (end?.type !== "session.ended") throw new Error("the visit did not end");
		const { summary } = end.data;
		expect(JSON.stringify(summary).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
		expect(summary).toMatchObject({ events: 680, pageViews: 300, clicks: 80, truncated: true });
		expect(sessionCatalog.validate("session.ended", end.data).ok).toBe(true);
	});

	it("a summary over its limit (a state from before the caps) is cut to fit, keeping the counts", () => {
		const visit = given(started(), viewed("/a")).visit as Visit;
		const summary = summarize({ ...visit, pages: many(600, (i) => i).map(longPath) }, null);
		expect(JSON.stringify(summary).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
		expect(summary).toMatchObject({ truncated: true, pageViews: 1 });
		expect(summary.pages.length).toBeGreaterThan(0);
	});

	it("the visit budget is MAX_VISIT_EVENTS events and MAX_VISIT_DATA_CHARS characters unless the actor is told otherwise", () => {
		expect(DEFAULT_VISIT_BUDGET).toEqual({ events: MAX_VISIT_EVENTS, dataChars: MAX_VISIT_DATA_CHARS });
	});

	it("a batch over the visit's event budget is refused, naming each event over it", () => {
		// The open visit holds two events of a budget of three: one more fits.
		const budget = { events: 3, dataChars: MAX_VISIT_DATA_CHARS };
		const batch = record(client("x1", T0 + 5), client("x2", T0 + 6), client("x3", T0 + 7));
		const refusal = refusalOf(session.given(started(), clicked(), clicked()).when(batch, { budget }).decided());
		expect(refusal).toMatchObject({ kind: "rejected" });
		expect((refusal as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["events[1]", "events[2]"]);
		expect(refusalOf(session.given(started()).when(batch, { budget }).decided())).toBeNull();
		// A visit that ended leaves the next one its whole budget.
		expect(refusalOf(session.given(started(), clicked(), clicked(), ended()).when(batch, { budget }).decided())).toBeNull();
	});

	it("a batch over the visit's data budget is refused, naming the event that crosses it", () => {
		// The open visit carries 14 characters of data ({"name":"abc"}): 10 more fit.
		const budget = { events: MAX_VISIT_EVENTS, dataChars: 14 + 10 };
		const batch = record({ id: "y1", type: "session.custom", ts: T0 + 5, data: { name: "a".repeat(50) } });
		const refusal = refusalOf(
			session
				.given(started(), event("session.custom", { name: "abc" }))
				.when(batch, { budget })
				.decided(),
		);
		expect(refusal).toEqual({
			kind: "rejected",
			detail: expect.any(String),
			errors: [{ path: "events[0]", message: expect.stringContaining("characters of event data") }],
		});
	});

	it("the visit counts the data its events carry", () => {
		const state = given(started(), event("session.custom", { name: "abc", props: { n: 1, ok: true } }));
		// Strings and keys by their length, 8 per other scalar: "name" + "abc" + "props" + "n" + 8 + "ok" + 8.
		expect(state.visit?.dataChars).toBe(4 + 3 + 5 + 1 + 8 + 2 + 8);
	});

	it("a session keeps its last ended visits and counts them all", () => {
		const events: ProposedEvent[] = [];
		for (let visit = 1; visit <= MAX_ENDED_VISITS + 5; visit++) events.push(started(visit), viewed("/a"), ended(visit));
		const state = given(...events);
		expect(state.endedVisits).toHaveLength(MAX_ENDED_VISITS);
		expect(state.visitsEnded).toBe(MAX_ENDED_VISITS + 5);
		expect(state.endedVisits.at(-1)).toMatchObject({ visit: MAX_ENDED_VISITS + 5 });
	});
});

describe("ids the actor derives (security review: client ids colliding with derived ids)", () => {
	it("the start and the end of a visit take ids no client may use", () => {
		const opened = session
			.given()
			.when(record(client("visit-1", T0 + 5)))
			.decided();
		const closed = session
			.given(started(), viewed("/a"))
			.when({ kind: "end_inactive", at: T0 + 9 })
			.decided();
		const [start] = "events" in opened ? opened.events : [];
		const [end] = "events" in closed ? closed.events : [];
		for (const id of [start?.id, end?.id]) {
			expect(id?.startsWith(DERIVED_ID_PREFIX)).toBe(true);
			expect(EVENT_ID_PATTERN.test(id ?? "")).toBe(false);
		}
		expect(end?.id).toBe("~visit-1:ended");
		expect(EVENT_ID_PATTERN.test("visit-1:ended")).toBe(true);
	});
});

describe("event times (security review: unbounded session ts)", () => {
	const now = Date.UTC(2030, 0, 1);
	it("a ts more than an hour ahead of the server, or before 2000, is refused naming the field", () => {
		const events = [
			{ ts: 9e15, at: "events[0]" },
			{ ts: now + MAX_EVENT_TS_AHEAD_MS, at: "events[1]" },
			{ ts: now + MAX_EVENT_TS_AHEAD_MS + 1, at: "events[2]" },
			{ ts: MIN_EVENT_TS - 1, at: "events[3]" },
			{ ts: MIN_EVENT_TS, at: "events[4]" },
		];
		expect(eventTimeErrors(events, now).map((e) => e.path)).toEqual(["events[0].ts", "events[2].ts", "events[3].ts"]);
	});

	it("a batch with an event outside the window is refused whole, before anything is decided", () => {
		const batch = record(client("ok", now + 1), client("ahead", now + MAX_EVENT_TS_AHEAD_MS + 1));
		const refusal = refusalOf(session.given(started()).when(batch, { now }).decided());
		expect(refusal).toMatchObject({ kind: "invalid", errors: [{ path: "events[1].ts" }] });
	});
});
