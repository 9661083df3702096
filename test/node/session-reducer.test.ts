import { describe, expect, it } from "vitest";
import type { RecordedEvent } from "../../src/events/envelope.ts";
import { sessionCatalog } from "../../src/events/session.ts";
import { fold } from "../../src/reducers/definition.ts";
import { type ClientSessionEvent, decideSession, type SessionState, sessionDefinition } from "../../src/reducers/session.ts";

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
			["a:started", "session.started", 5],
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
