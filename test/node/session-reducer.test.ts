import { describe, expect, it } from "vitest";
import { DERIVED_ID_PREFIX, type RecordedEvent } from "../../src/events/envelope.ts";
import {
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
	decideInactivityEnd,
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
	overVisitBudget,
	type SessionState,
	sessionDefinition,
	summarize,
	type Visit,
} from "../../src/reducers/session.ts";

let seq = 0;
const recorded = (type: string, data: unknown, ts = 1000 + seq): RecordedEvent => ({
	seq: ++seq,
	id: `e${seq}`,
	type,
	v: 1,
	ts,
	data,
	meta: {},
});
const started = (visit = 1, ts?: number) => recorded("session.started", { visit }, ts);
const viewed = (path: string, ts?: number) => recorded("session.page_viewed", { url: `https://x${path}`, path }, ts);

/** Given these events, the state is their fold. */
const given = (...events: RecordedEvent[]): SessionState => fold(sessionDefinition, events);
const client = (id: string, type: string, ts: number): ClientSessionEvent => ({ id, type, ts, data: {} });

describe("decide", () => {
	it("the first events of a session open a visit, with an id derived from the first event", () => {
		const events = decideSession({ kind: "record", events: [client("a", "session.clicked", 5)] }, given());
		expect(events.map((e) => [e.id, e.type, e.ts])).toEqual([
			["~a:started", "session.started", 5],
			["a", "session.clicked", 5],
		]);
		expect(events[0]?.data).toEqual({ visit: 1 });
	});

	it("events during an open visit pass through unchanged", () => {
		const events = decideSession({ kind: "record", events: [client("b", "session.clicked", 9)] }, given(started()));
		expect(events.map((e) => e.id)).toEqual(["b"]);
	});

	it("events after the visit ended start the next visit", () => {
		const state: SessionState = { ...given(started(), viewed("/a")), status: "ended" };
		const events = decideSession({ kind: "record", events: [client("c", "session.clicked", 9)] }, state);
		expect(events[0]).toMatchObject({ type: "session.started", data: { visit: 2 } });
	});

	it("nothing to record decides nothing", () => {
		expect(decideSession({ kind: "record", events: [] }, given())).toEqual([]);
	});
});

describe("evolve", () => {
	it("counts page views, distinct pages, clicks, custom events and errors of the visit", () => {
		const state = given(
			started(1, 100),
			viewed("/", 110),
			viewed("/shoes", 120),
			viewed("/", 130),
			recorded("session.clicked", { target: "a.buy" }, 140),
			recorded("session.custom", { name: "add_to_cart" }, 150),
			recorded("session.custom", { name: "add_to_cart" }, 160),
			recorded("session.error", { message: "boom" }, 170),
			recorded("session.identified", { userId: "u1", traits: { plan: "pro" } }, 180),
		);
		expect(state).toMatchObject({
			status: "active",
			currentPage: "/",
			userId: "u1",
			traits: { plan: "pro" },
			visit: { number: 1, startedAt: 100, lastEventAt: 180, events: 8, pageViews: 3, clicks: 1, pages: ["/", "/shoes"], errors: 1 },
		});
		expect(state.visit?.customEvents).toEqual({ add_to_cart: 2 });
	});

	it("an event before any visit opened is refused", () => {
		expect(() => given(viewed("/a"))).toThrow(/needs an open visit/);
	});

	it("a second start while a visit is open is refused", () => {
		expect(() => given(started(), started(2))).toThrow(/already open/);
	});

	it("does not modify the state it is given", () => {
		const before = given(started(), viewed("/a"));
		const frozen = structuredClone(before);
		sessionDefinition.evolve(before, viewed("/b"));
		expect(before).toEqual(frozen);
	});

	it("the same events always fold to the same state", () => {
		const events = [started(1, 1), viewed("/a", 2), recorded("session.clicked", { target: "x" }, 3)];
		expect(given(...events)).toEqual(given(...events));
		expect(JSON.parse(JSON.stringify(given(...events)))).toEqual(given(...events));
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

describe("what one visit keeps and takes (security review: one key growing a session without bound)", () => {
	const many = <T>(n: number, item: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => item(i));
	const longPath = (i: number) => `/${String(i).padStart(6, "0")}${"p".repeat(2000)}`;

	it("a visit keeps its first distinct pages within the count and character caps, and still counts every view", () => {
		const short = given(started(), ...many(MAX_VISIT_PAGES + 30, (i) => viewed(`/p${i}`)));
		expect(short.visit?.pages).toHaveLength(MAX_VISIT_PAGES);
		expect(short.visit).toMatchObject({ pageViews: MAX_VISIT_PAGES + 30, truncated: true });
		const long = given(started(), ...many(40, (i) => viewed(longPath(i))));
		expect(long.visit?.pages.join("").length).toBeLessThanOrEqual(MAX_VISIT_PAGE_CHARS);
		expect(long.visit).toMatchObject({ pageViews: 40, truncated: true });
	});

	it("a visit counts the first custom event names and no more, and still counts every event", () => {
		const state = given(started(), ...many(MAX_CUSTOM_NAMES + 50, (i) => recorded("session.custom", { name: `n${i}` })));
		expect(Object.keys(state.visit?.customEvents ?? {})).toHaveLength(MAX_CUSTOM_NAMES);
		expect(state.visit).toMatchObject({ events: MAX_CUSTOM_NAMES + 50, truncated: true });
		expect(given(started(), recorded("session.custom", { name: "a" })).visit?.truncated).toBe(false);
	});

	it("traits are kept within their key and character caps; later values of kept keys still replace them", () => {
		const wide = Object.fromEntries(many(MAX_TRAITS + 20, (i) => i).map((i) => [`t${i}`, i]));
		const state = given(started(), recorded("session.identified", { userId: "u", traits: wide }));
		expect(Object.keys(state.traits)).toHaveLength(MAX_TRAITS);
		const big = given(
			started(),
			recorded("session.identified", { userId: "u", traits: { plan: "pro" } }),
			recorded("session.identified", { userId: "u", traits: { blob: "x".repeat(MAX_TRAITS_CHARS), plan: "team" } }),
		);
		expect(big.traits).toEqual({ plan: "team" });
		expect(JSON.stringify(big.traits).length).toBeLessThanOrEqual(MAX_TRAITS_CHARS);
	});

	it("the visit's summary stays within its limit, and says when lists were cut", () => {
		const state = given(
			started(),
			...many(300, (i) => viewed(longPath(i))),
			...many(300, (i) => recorded("session.custom", { name: `${"c".repeat(100)}${i}` })),
			...many(80, (i) => recorded("session.clicked", { target: `${"t".repeat(1000)}${i}` })),
		);
		const [end] = decideInactivityEnd(state, 5_000);
		const summary = (end?.data as { summary: VisitSummary } | undefined)?.summary;
		expect(JSON.stringify(summary).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
		expect(summary).toMatchObject({ events: 680, pageViews: 300, clicks: 80, truncated: true });
		expect(sessionCatalog.validate("session.ended", end?.data).ok).toBe(true);
	});

	it("a summary over its limit (a state from before the caps) is cut to fit, keeping the counts", () => {
		const visit = given(started(), viewed("/a")).visit as Visit;
		const summary = summarize({ ...visit, pages: many(600, (i) => i).map(longPath) }, null);
		expect(JSON.stringify(summary).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
		expect(summary).toMatchObject({ truncated: true, pageViews: 1 });
		expect(summary.pages.length).toBeGreaterThan(0);
	});

	it("a batch over the visit's event budget is refused, naming each event over it", () => {
		const state = given(started());
		const full: SessionState = { ...state, visit: { ...(state.visit as Visit), events: MAX_VISIT_EVENTS - 1 } };
		const batch = [client("x1", "session.clicked", 5), client("x2", "session.clicked", 6), client("x3", "session.clicked", 7)];
		expect(overVisitBudget(batch, full).map((e) => e.path)).toEqual(["events[1]", "events[2]"]);
		expect(overVisitBudget(batch, state)).toEqual([]);
		// A visit that ended leaves the next one its whole budget.
		expect(overVisitBudget(batch, { ...full, status: "ended" })).toEqual([]);
	});

	it("a batch over the visit's data budget is refused, naming the event that crosses it", () => {
		const state = given(started());
		const nearly: SessionState = { ...state, visit: { ...(state.visit as Visit), dataChars: MAX_VISIT_DATA_CHARS - 10 } };
		const batch = [{ ...client("y1", "session.custom", 5), data: { name: "a".repeat(50) }, at: "events[0]" }];
		expect(overVisitBudget(batch, nearly)).toEqual([{ path: "events[0]", message: expect.stringContaining("characters of event data") }]);
	});

	it("the visit counts the data its events carry", () => {
		const state = given(started(), recorded("session.custom", { name: "abc" }));
		expect(state.visit?.dataChars).toBe(JSON.stringify({ name: "abc" }).length);
	});

	it("a session keeps its last ended visits and counts them all", () => {
		const events: RecordedEvent[] = [];
		for (let visit = 1; visit <= MAX_ENDED_VISITS + 5; visit++) {
			events.push(started(visit), viewed("/a"));
			events.push(recorded("session.ended", { reason: "inactivity", summary: { visit } }));
		}
		const state = given(...events);
		expect(state.endedVisits).toHaveLength(MAX_ENDED_VISITS);
		expect(state.visitsEnded).toBe(MAX_ENDED_VISITS + 5);
		expect(state.endedVisits.at(-1)).toMatchObject({ visit: MAX_ENDED_VISITS + 5 });
	});
});

describe("ids the actor derives (security review: client ids colliding with derived ids)", () => {
	it("the start and the end of a visit take ids no client may use", () => {
		const [start] = decideSession({ kind: "record", events: [client("visit-1", "session.clicked", 5)] }, given());
		const [end] = decideInactivityEnd(given(started(), viewed("/a")), 9);
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
});
