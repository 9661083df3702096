/**
 * The demo's generated history (scripts/demo-history.mjs), which `npm start` backfills: deterministic from its seed,
 * valid as SDK batches, shaped like a shop's weeks, with the spike day and the launched product that the patterns
 * should find.
 */
import { describe, expect, it } from "vitest";
import { backfillRequests } from "../../scripts/demo-backfill.mjs";
import { demoHistory, LAUNCH_DAYS_AGO, LAUNCH_PAGE, SPIKE_DAYS_AGO } from "../../scripts/demo-history.mjs";
import { clientSessionEventInput, MAX_BATCH_EVENTS, sessionCatalog } from "../../src/events/session.ts";

const now = Date.UTC(2026, 11, 5, 7, 30);
const history = demoHistory({ now });

describe("the demo history", () => {
	it("is the same for the same seed and instant, and another seed gives another", () => {
		expect(demoHistory({ now })).toEqual(history);
		expect(demoHistory({ now, seed: 7 }).visits[0]).not.toEqual(history.visits[0]);
	});

	it("covers 28 days and today so far, all in the past, with unique session and event ids", () => {
		expect(history.byDay).toHaveLength(29);
		const events = history.visits.flatMap((v) => v.events);
		expect(Math.max(...events.map((e) => e.ts))).toBeLessThan(now - 10 * 60_000);
		expect(Math.min(...events.map((e) => e.ts))).toBeGreaterThanOrEqual(Date.UTC(2026, 10, 7));
		expect(new Set(history.visits.map((v) => v.session)).size).toBe(history.visits.length);
		expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
	});

	it("each visit is a batch the session route accepts: known client types, valid data, at most one batch", () => {
		for (const { events } of history.visits) {
			expect(events.length).toBeGreaterThanOrEqual(1);
			expect(events.length).toBeLessThanOrEqual(MAX_BATCH_EVENTS);
			expect(events[0]?.type).toBe("session.page_viewed");
			for (const event of events) {
				expect(clientSessionEventInput.safeParse(event).success).toBe(true);
				expect(sessionCatalog.validate(event.type, event.data)).toMatchObject({ ok: true });
			}
		}
	});

	it("has a spike day with about four times the visits of an ordinary day, and a busy launch day", () => {
		const days = history.byDay.slice(0, -1);
		const spikeAt = days.length - SPIKE_DAYS_AGO;
		const launchAt = days.length - LAUNCH_DAYS_AGO;
		const spike = days[spikeAt]?.visits ?? 0;
		const ordinary = days.filter((_, i) => i !== spikeAt && i !== launchAt).map((d) => d.visits);
		const median = [...ordinary].sort((a, b) => a - b)[Math.floor(ordinary.length / 2)] ?? 0;
		expect(spike).toBeGreaterThan(3 * median);
		expect(Math.max(...ordinary)).toBeLessThan(spike / 2);
		expect(days[launchAt]?.visits ?? 0).toBeGreaterThan(1.8 * median);
	});

	it("the launched product is on no page before its day, the most visited page of that day and of the last 7 days", () => {
		const days = history.byDay.slice(0, -1);
		const launch = days.length - LAUNCH_DAYS_AGO;
		const ranked = (pages: Record<string, number>) => Object.entries(pages).sort(([, a], [, b]) => b - a);
		for (const day of days.slice(0, launch)) expect(day.pages[LAUNCH_PAGE]).toBeUndefined();
		const first = ranked(days[launch]?.pages ?? {})[0];
		expect(first?.[0]).toBe(LAUNCH_PAGE);
		// new_top_page needs at least 5 visits in the day.
		expect(first?.[1]).toBeGreaterThanOrEqual(5);
		// Over the last 7 days ("this week" to the chat), it is the most visited page.
		const week: Record<string, number> = {};
		for (const day of days.slice(-7)) for (const [path, n] of Object.entries(day.pages)) week[path] = (week[path] ?? 0) + n;
		expect(ranked(week)[0]?.[0]).toBe(LAUNCH_PAGE);
	});

	it("weekends are quieter than weekdays, and nights quieter than days", () => {
		const weekday = (day: string) => (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
		const ordinary = history.byDay.slice(0, -1).filter((_, i, all) => i !== all.length - SPIKE_DAYS_AGO);
		const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
		expect(mean(ordinary.filter((d) => weekday(d.day) >= 5).map((d) => d.visits))).toBeLessThan(
			mean(ordinary.filter((d) => weekday(d.day) < 5).map((d) => d.visits)),
		);
		const hours = history.visits.map((v) => new Date(v.events[0]?.ts ?? 0).getUTCHours());
		expect(hours.filter((h) => h >= 10 && h < 14).length).toBeGreaterThan(3 * hours.filter((h) => h < 4).length);
	});

	it("has camera batches with motion and people in opening hours, and a few past chats, all as backfill requests", () => {
		for (const { batches } of history.cameras) {
			expect(batches.length).toBeGreaterThanOrEqual(28 * 3);
			expect(batches.some((b) => b.motion > 0 && b.people > 0)).toBe(true);
			for (const b of batches) {
				expect(b.end).toBeLessThanOrEqual(now);
				expect(b.motion).toBeGreaterThanOrEqual(0);
				expect(b.motion).toBeLessThanOrEqual(1);
			}
		}
		expect(history.chats.length).toBeGreaterThanOrEqual(3);
		for (const { messages } of history.chats) expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
		const requests = backfillRequests(history);
		expect(requests.filter((r) => r.source === "web")).toHaveLength(history.visits.length);
		// Few enough requests to stay well inside the per-IP budget of 600 a minute with the live demo beside it.
		expect(requests.length).toBeLessThan(250);
	});
});
