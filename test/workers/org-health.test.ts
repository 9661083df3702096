/**
 * Health of an org's actors (docs/operations.md): one actor's own figures, and the org's report per kind, whose
 * status turns amber and then red as an undelivered outbox message ages past the documented thresholds.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { armFault, disarmFault } from "../../src/actors/faults.ts";
import { HEALTH_THRESHOLDS } from "../../src/core/health.ts";
import { actorName } from "../../src/core/identity.ts";
import { call, keyFor, pageView, visitStartsRecorded } from "./helpers.ts";
import { clockAt } from "./reliability-support.ts";

const ORG = "acme-health";
// Mocked time well after the real clock, so real alarms never fire on their own: the session's message waits.
const T0 = Date.UTC(2035, 0, 10, 8, 0);

clockAt(T0);

const get = async <T>(key: string, path: string): Promise<T> => {
	const res = await call(`/v1/orgs/${ORG}${path}`, { headers: { authorization: `Bearer ${key}` } });
	expect(res.status).toBe(200);
	return res.json<T>();
};

interface Report {
	status: string;
	kinds: Record<string, { followed: number; probed: number; outboxPending: number; oldestUndeliveredAgeMs: number | null; status: string }>;
}

describe("health", () => {
	it("reports each actor's figures and, per kind, turns amber then red as an undelivered message ages", async () => {
		const key = await keyFor(ORG);
		const session = "health-s1";
		const sent = await call(`/v1/orgs/${ORG}/sessions/${session}/events`, {
			method: "POST",
			headers: { authorization: `Bearer ${key}` },
			body: JSON.stringify({ events: [{ ...pageView("/a"), ts: T0 }] }),
		});
		expect(sent.status).toBe(202);
		const stub = env.SESSION.getByName(actorName(ORG, session));
		const own = await get<{ storageBytes: number }>(key, `/sessions/${session}/health`);
		expect(own).toMatchObject({
			version: 2,
			outbox: { pending: 1, oldestAgeMs: 0, parked: 0 },
			timers: { live: 1, overdue: 0, parked: 0 },
			sockets: 0,
		});
		expect(own.storageBytes).toBeGreaterThan(0);
		// The org follows the session once the visit's start is delivered (through the org intake queue).
		await runDurableObjectAlarm(stub);
		await visitStartsRecorded(ORG, [session]);
		const fresh = await get<Report>(key, "/health");
		expect(fresh.kinds.session).toMatchObject({ followed: 1, probed: 1, outboxPending: 0, overdueTimers: 0, parked: 0, status: "ok" });
		expect(fresh.kinds.org).toMatchObject({ followed: 1, probed: 1, status: "ok" });
		expect(fresh.status).toBe("ok");

		// The visit ends an hour on; its interaction cannot be delivered (to the org and the queue), and waits.
		const ended = T0 + 60 * 60_000;
		vi.setSystemTime(ended);
		armFault({ point: "outbox.before-delivery", object: actorName(ORG, session), times: 2 });
		await runDurableObjectAlarm(stub);
		expect(disarmFault().failures).toBe(2);
		const { amber, red } = HEALTH_THRESHOLDS.outboxAgeMs;
		vi.setSystemTime(ended + amber);
		const aging = await get<Report>(key, "/health");
		expect(aging.kinds.session).toMatchObject({ outboxPending: 2, oldestUndeliveredAgeMs: amber, status: "amber" });
		expect(aging.status).toBe("amber");
		vi.setSystemTime(ended + red);
		const late = await get<Report>(key, "/health");
		expect(late.kinds.session).toMatchObject({ oldestUndeliveredAgeMs: red, status: "red" });
		// Its retry is long overdue too: the alarm that would deliver it has not run.
		expect(await get(key, `/sessions/${session}/health`)).toMatchObject({ outbox: { pending: 2, oldestAgeMs: red } });
		expect(late.status).toBe("red");
	});
});
