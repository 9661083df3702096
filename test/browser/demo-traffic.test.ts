/**
 * The demo traffic generator (scripts/demo-traffic.mjs, started by `npm start`) against the real Worker:
 * what it sends must be valid, realistic and bounded, or the dashboard on a bare machine shows errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSdk, simulateVisit, startDemoTraffic, type VisitResult } from "../../scripts/demo-traffic.mjs";
import { type LocalRoost, startLocalRoost } from "./local-roost.ts";

let roost: LocalRoost;
let target: { endpoint: string; orgId: string; apiKey: string };

beforeAll(async () => {
	roost = await startLocalRoost();
	const { org, apiKey } = await roost.createOrg("Demo traffic");
	target = { endpoint: roost.url, orgId: org, apiKey };
});

afterAll(async () => {
	await roost?.dispose();
});

describe("demo traffic", () => {
	it("each simulated visit is 3 to 10 events the server accepts, starting with a page view of the shop", async () => {
		const sdk = await loadSdk();
		const visits = await Promise.all(
			Array.from({ length: 12 }, () =>
				simulateVisit({ ...target, sdk, visitMs: 300, flushIntervalMs: 50, onError: (e) => console.error(e) }),
			),
		);
		for (const { sessionId, stats } of visits) {
			expect(stats).toMatchObject({ rejected: 0, dropped: 0, buffered: 0 });
			expect(stats.accepted).toBeGreaterThanOrEqual(3);
			expect(stats.accepted).toBeLessThanOrEqual(10);
			const events = await roost.sessionEvents(target.orgId, target.apiKey, sessionId);
			expect(events).toHaveLength(stats.accepted + 1);
			expect(events[1]?.type).toBe("session.page_viewed");
			expect(String(events[1]?.data.url)).toMatch(/^https:\/\/shop\.example\//);
			for (const event of events.slice(1)) {
				expect(["session.page_viewed", "session.clicked", "session.custom", "session.identified", "session.error"]).toContain(event.type);
			}
		}
		// Realistic: visitors walk the shop, so across visits there are several distinct pages and some clicks.
		const all = (await Promise.all(visits.map((v) => roost.sessionEvents(target.orgId, target.apiKey, v.sessionId)))).flat();
		expect(new Set(all.filter((e) => e.type === "session.page_viewed").map((e) => e.data.path)).size).toBeGreaterThan(2);
		expect(all.some((e) => e.type === "session.clicked")).toBe(true);
	});

	it("visitors keep arriving until stopped, and none arrives after", async () => {
		const done: VisitResult[] = [];
		// 60 visitors a minute and 1-2 minute visits, shrunk 200 times: about 5 arrivals a second, each 0.3-0.6 s long.
		const traffic = await startDemoTraffic({
			...target,
			visitorsPerMinute: 60,
			maxConcurrent: 3,
			timeScale: 1 / 200,
			onVisit: (v) => done.push(v),
		});
		await new Promise((resolve) => setTimeout(resolve, 1500));
		await traffic.stop();
		const finished = done.length;
		expect(finished).toBeGreaterThanOrEqual(2);
		expect(done.every((v) => v.stats.rejected === 0 && v.stats.buffered === 0)).toBe(true);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(done.length).toBe(finished);
	});
});
