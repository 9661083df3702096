import { describe, expect, it } from "vitest";
import type { RecordedEvent } from "../../src/events/envelope.ts";
import type { Interaction } from "../../src/events/interaction.ts";
import { orgCatalog } from "../../src/events/org.ts";
import { detectPatterns, type RollupRecord } from "../../src/patterns/detect.ts";
import { durationQuantile, emptyMetrics, type Metrics, mergeAll, metricsOf } from "../../src/patterns/metrics.ts";
import { PERIODS, type Period, windowAt, windowStart } from "../../src/patterns/windows.ts";
import { fold } from "../../src/reducers/definition.ts";
import { type OrgState, orgDefinition } from "../../src/reducers/org.ts";
import { decideRollups, lastCompleteWindow } from "../../src/reducers/org-rollups.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2031, 10, 20, 0, 0, 0); // a Thursday

/** A small seeded generator (mulberry32), so the data set is the same on every run. */
function random(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

let seq = 0;
const event = (type: string, ts: number, data: unknown, id = `e${++seq}`): RecordedEvent => ({
	seq: ++seq,
	id,
	type,
	v: 1,
	ts,
	data,
	meta: {},
});

function interaction(rand: () => number, endedAt: number, i: number): Interaction {
	const source = rand() < 0.7 ? "web" : rand() < 0.6 ? "cctv" : "chat";
	const summary: Interaction["summary"] =
		source === "web"
			? {
					events: 1 + Math.floor(rand() * 20),
					pageViews: 1 + Math.floor(rand() * 8),
					clicks: Math.floor(rand() * 5),
					errors: rand() < 0.1 ? 1 : 0,
					durationMs: Math.floor(rand() * 900_000),
					pages: ["/", `/p${Math.floor(rand() * 30)}`],
					clickTargets: { "a.buy": 1 },
				}
			: source === "cctv"
				? {
						frames: 10 + Math.floor(rand() * 100),
						motionFrames: Math.floor(rand() * 10),
						motionMs: Math.floor(rand() * 60_000),
						peopleSeen: Math.floor(rand() * 3),
						offlineMs: 0,
					}
				: { messages: 1 + Math.floor(rand() * 6), toolCalls: { get_interactions: 1 } };
	return {
		id: `i${i}`,
		source,
		actor: { kind: source === "web" ? "session" : source === "cctv" ? "camera" : "chat", id: `a${i}` },
		startedAt: endedAt - 1000,
		endedAt,
		summary,
	};
}

/** Applies decided events through the real reducer, firing decisions at every hour until `until`. */
function runSchedule(state: OrgState, from: number, until: number, step = HOUR): { state: OrgState; events: RecordedEvent[] } {
	const all: RecordedEvent[] = [];
	let current = state;
	for (let at = from; at <= until; at += step) {
		for (;;) {
			const decided = decideRollups(current.rollups, at).map((e) => event(e.type, e.ts, e.data, e.id));
			if (decided.length === 0) break;
			current = fold(orgDefinition, decided, current);
			all.push(...decided);
		}
	}
	return { state: current, events: all };
}

const rollupsOf = (events: RecordedEvent[], period: Period) =>
	events
		.filter((e) => e.type === "org.rollup_completed" && (e.data as { period: Period }).period === period)
		.map((e) => e.data as RollupRecord);

const totals = (m: Metrics) => ({
	interactions: m.interactions,
	bySource: m.bySource,
	web: { ...m.web, pages: undefined, clickTargets: undefined },
	cctv: m.cctv,
	chat: { ...m.chat, toolCalls: undefined },
});

describe("windows", () => {
	it("weeks start on Monday, and month and year windows end on the first of the next", () => {
		expect(new Date(windowStart("weekly", Date.UTC(2031, 10, 23, 15))).toISOString()).toBe("2031-11-17T00:00:00.000Z");
		expect(windowAt("monthly", Date.UTC(2032, 1, 1))).toEqual({ start: Date.UTC(2032, 1, 1), end: Date.UTC(2032, 2, 1) });
		expect(windowAt("monthly", Date.UTC(2032, 1, 1)).end - Date.UTC(2032, 1, 1)).toBe(29 * DAY); // leap February
		expect(windowAt("yearly", Date.UTC(2031, 0, 1))).toEqual({ start: Date.UTC(2031, 0, 1), end: Date.UTC(2032, 0, 1) });
		expect(lastCompleteWindow("daily", Date.UTC(2032, 0, 1, 1, 30))).toEqual({ start: Date.UTC(2031, 11, 31), end: Date.UTC(2032, 0, 1) });
	});
});

describe("rollups", () => {
	it("every period's sums equal the sums over the raw interactions in its windows", () => {
		const rand = random(42);
		let state = fold(orgDefinition, [event("org.created", T0, { name: "Acme" })]);
		const raw: Interaction[] = [];
		const end = Date.UTC(2033, 1, 3);
		// Interactions arrive as they end; rollups fire on the hour in between.
		let at = T0;
		let i = 0;
		const events: RecordedEvent[] = [];
		while (at < end) {
			const next = at + HOUR;
			const n = Math.floor(rand() * 4);
			const arrivals = Array.from({ length: n }, () => interaction(rand, at + Math.floor(rand() * HOUR), i++));
			raw.push(...arrivals);
			state = fold(
				orgDefinition,
				arrivals.map((x) => event("org.interaction_recorded", x.endedAt, x, x.id)),
				state,
			);
			const ran = runSchedule(state, next, next);
			state = ran.state;
			events.push(...ran.events);
			at = next;
		}
		const rawIn = (start: number, stop: number) =>
			mergeAll(raw.filter((x) => x.endedAt >= start && x.endedAt < stop).map((x) => metricsOf(x)));
		for (const period of PERIODS) {
			const rollups = rollupsOf(events, period);
			expect(rollups.length, period).toBeGreaterThan(0);
			for (const r of rollups)
				expect(totals(r.metrics), `${period} ${new Date(r.start).toISOString()}`).toEqual(totals(rawIn(r.start, r.end)));
		}
		expect(rollupsOf(events, "yearly").map((r) => new Date(r.start).getUTCFullYear())).toEqual([2031, 2032]);
		const dailies = rollupsOf(events, "daily");
		expect(totals(state.rollups.all)).toEqual(totals(rawIn(T0, dailies.at(-1)?.end ?? 0)));
	}, 60_000);

	it("an ad hoc run and the scheduled run of the same window count it once", () => {
		const rand = random(7);
		let state = fold(orgDefinition, [event("org.created", T0, { name: "Acme" })]);
		const arrivals = Array.from({ length: 50 }, (_, i) => interaction(rand, T0 + i * 20 * 60_000, i));
		state = fold(
			orgDefinition,
			arrivals.map((x) => event("org.interaction_recorded", x.endedAt, x, x.id)),
			state,
		);
		const adHocAt = T0 + DAY + 30 * 60_000; // 00:30, before the daily run at 02:00
		const adHoc = decideRollups(state.rollups, adHocAt, { forceUpTo: "daily" });
		expect(adHoc.filter((e) => (e.data as { period: string }).period === "daily")).toHaveLength(1);
		state = fold(
			orgDefinition,
			adHoc.map((e) => event(e.type, e.ts, e.data, e.id)),
			state,
		);
		const scheduled = decideRollups(state.rollups, T0 + DAY + 2 * HOUR);
		expect(scheduled.filter((e) => e.type === "org.rollup_completed" && (e.data as { period: string }).period === "daily")).toEqual([]);
		const day = state.rollups.recent.daily.at(-1);
		expect(day?.metrics.interactions).toBe(arrivals.filter((x) => x.endedAt < T0 + DAY).length);
	});

	it("an interaction for an hour already rolled up counts in the hour it arrived, once", () => {
		let state = fold(orgDefinition, [event("org.created", T0, { name: "Acme" })]);
		state = runSchedule(state, T0 + HOUR, T0 + 2 * HOUR).state;
		const late = interaction(random(1), T0 + 10 * 60_000, 1);
		state = fold(orgDefinition, [event("org.interaction_recorded", T0 + 2 * HOUR + 5_000, late, late.id)], state);
		const { events } = runSchedule(state, T0 + 3 * HOUR, T0 + 3 * HOUR);
		const hourly = rollupsOf(events, "hourly");
		expect(hourly.map((r) => [r.start, r.metrics.interactions, r.metrics.late])).toEqual([[T0 + 2 * HOUR, 1, 1]]);
	});

	it("decided rollups are valid org events", () => {
		let state = fold(orgDefinition, [event("org.created", T0, { name: "Acme" })]);
		const x = interaction(random(3), T0 + 1000, 1);
		state = fold(orgDefinition, [event("org.interaction_recorded", x.endedAt, x, x.id)], state);
		for (const e of decideRollups(state.rollups, T0 + 8 * DAY)) expect(orgCatalog.validate(e.type, e.data).ok, e.type).toBe(true);
	});
});

describe("patterns", () => {
	const hour = (i: number, interactions: number): RollupRecord => {
		const metrics = emptyMetrics();
		metrics.interactions = interactions;
		return { period: "hourly", start: T0 + i * HOUR, end: T0 + (i + 1) * HOUR, metrics };
	};

	it("a flat series shows nothing", () => {
		const history = Array.from({ length: 24 }, (_, i) => hour(i, 10));
		expect(detectPatterns(hour(24, 10), history)).toEqual([]);
	});

	it("a spike against the trailing baseline is found, with its evidence", () => {
		const rand = random(5);
		const history = Array.from({ length: 24 }, (_, i) => hour(i, 8 + Math.floor(rand() * 5)));
		const [finding, ...rest] = detectPatterns(hour(24, 60), history);
		expect(rest).toEqual([]);
		expect(finding).toMatchObject({
			type: "spike",
			metric: "interactions",
			value: 60,
			period: "hourly",
			window: { start: T0 + 24 * HOUR },
		});
		expect(finding?.confidence).toBeGreaterThan(0.9);
		expect(finding?.baseline.n).toBe(24);
	});

	it("a drop is found, and nothing is claimed from too little history", () => {
		const history = Array.from({ length: 24 }, (_, i) => hour(i, 40));
		expect(detectPatterns(hour(24, 2), history).map((f) => f.type)).toEqual(["drop"]);
		expect(detectPatterns(hour(3, 500), history.slice(0, 3))).toEqual([]);
	});

	it("medians come from the merged duration histogram", () => {
		const m = metricsOf({
			id: "x",
			source: "web",
			actor: { kind: "session", id: "s" },
			startedAt: 0,
			endedAt: 1,
			summary: { durationMs: 45_000 },
		});
		expect(durationQuantile(m.web.durations, 0.5)).toBe(45_000);
	});
});
