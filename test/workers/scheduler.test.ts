import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { probeStub } from "./support/probe-worker.ts";

// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2031, 0, 1, 0, 0, 0);
const HOUR = 3_600_000;

const probe = (name: string = crypto.randomUUID()) => probeStub(env, name);
const firings = async (stub: ReturnType<typeof probe>) =>
	(await stub.readEvents({ limit: 1000 })).events
		.filter((e) => e.type === "probe.fired")
		.map((e) => ({
			timer: (e.data as { timer: string }).timer,
			at: e.ts,
		}));

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("scheduler", () => {
	it("a one-off timer fires when due and not before, recorded as the event its handler produced", async () => {
		const stub = probe();
		await stub.setTimers([{ name: "ping", spec: { once: T0 + HOUR }, payload: { n: 1 } }]);
		expect(await stub.alarmAt()).toBe(T0 + HOUR);

		vi.setSystemTime(T0 + HOUR - 1);
		await runDurableObjectAlarm(stub);
		expect(await firings(stub)).toEqual([]);

		vi.setSystemTime(T0 + HOUR);
		await runDurableObjectAlarm(stub);
		expect(await firings(stub)).toEqual([{ timer: "ping", at: T0 + HOUR }]);
		expect(await stub.timer("ping")).toBeUndefined();
		expect(await stub.alarmAt()).toBeNull();
	});

	it("an interval timer fires every interval, and firings missed while down collapse into one", async () => {
		const stub = probe();
		await stub.setTimers([{ name: "tick", spec: { every: 60_000 } }]);
		vi.setSystemTime(T0 + 60_000);
		await runDurableObjectAlarm(stub);
		// Down for ten minutes: one firing now, the next on the interval grid after now.
		vi.setSystemTime(T0 + 11 * 60_000 + 5_000);
		await runDurableObjectAlarm(stub);
		expect(await firings(stub)).toEqual([
			{ timer: "tick", at: T0 + 60_000 },
			{ timer: "tick", at: T0 + 120_000 },
		]);
		expect((await stub.timer("tick"))?.scheduledAt).toBe(T0 + 12 * 60_000);
	});

	it("cron timers fire at their UTC instants across month, year and leap-day ends", async () => {
		vi.setSystemTime(Date.UTC(2031, 11, 31, 3, 0, 0));
		const stub = probe();
		await stub.setTimers([
			{ name: "monthly", spec: { cron: "0 4 1 * *" } },
			{ name: "yearly", spec: { cron: "0 5 1 1 *" } },
		]);
		expect((await stub.timer("monthly"))?.scheduledAt).toBe(Date.UTC(2032, 0, 1, 4));
		vi.setSystemTime(Date.UTC(2032, 0, 1, 6));
		await runDurableObjectAlarm(stub);
		expect(await firings(stub)).toEqual([
			{ timer: "monthly", at: Date.UTC(2032, 0, 1, 4) },
			{ timer: "yearly", at: Date.UTC(2032, 0, 1, 5) },
		]);
		expect((await stub.timer("monthly"))?.scheduledAt).toBe(Date.UTC(2032, 1, 1, 4));
		expect((await stub.timer("yearly"))?.scheduledAt).toBe(Date.UTC(2033, 0, 1, 5));

		const leap = probe();
		vi.setSystemTime(Date.UTC(2032, 1, 28, 12));
		await leap.setTimers([{ name: "daily", spec: { cron: "0 2 * * *" } }]);
		expect((await leap.timer("daily"))?.scheduledAt).toBe(Date.UTC(2032, 1, 29, 2));
		vi.setSystemTime(Date.UTC(2032, 1, 29, 2));
		await runDurableObjectAlarm(leap);
		expect((await leap.timer("daily"))?.scheduledAt).toBe(Date.UTC(2032, 2, 1, 2));
	});

	it("an invalid cron expression is refused and schedules nothing", async () => {
		const stub = probe();
		const outcome = await stub.setTimers([{ name: "bad", spec: { cron: "61 * * * *" } }]);
		expect(outcome).toMatchObject({
			ok: false,
			error: { kind: "invalid", errors: [{ path: "timers[0].spec", message: expect.stringMatching(/minute/) }] },
		});
		expect(await stub.timer("bad")).toBeUndefined();
	});

	it("a handler that throws keeps its timer and is retried with growing backoff", async () => {
		const stub = probe();
		await stub.setTimers([{ name: "flaky", spec: { once: T0 + 1_000 } }]);
		await stub.failNext(2);
		vi.setSystemTime(T0 + 1_000);
		await runDurableObjectAlarm(stub);
		const first = await stub.timer("flaky");
		expect(first).toMatchObject({ attempts: 1, scheduledAt: T0 + 1_000, lastError: expect.stringContaining("probe failure") });
		expect(first?.dueAt).toBeGreaterThan(T0 + 1_000);

		vi.setSystemTime(first?.dueAt ?? 0);
		await runDurableObjectAlarm(stub);
		const second = await stub.timer("flaky");
		expect(second?.attempts).toBe(2);
		expect((second?.dueAt ?? 0) - (first?.dueAt ?? 0)).toBeGreaterThan((first?.dueAt ?? 0) - (T0 + 1_000));

		vi.setSystemTime(second?.dueAt ?? 0);
		await runDurableObjectAlarm(stub);
		// The firing keeps the instant it was scheduled for, however late it succeeds.
		expect(await firings(stub)).toEqual([{ timer: "flaky", at: T0 + 1_000 }]);
		expect(await stub.timer("flaky")).toBeUndefined();
	});

	it("a timer whose plan is always invalid is parked after its first failure, not retried forever", async () => {
		const stub = probe();
		await stub.setTimers([
			{ name: "doomed", spec: { once: T0 + 1_000 } },
			{ name: "other", spec: { once: T0 + 60_000 } },
		]);
		await stub.planInvalid(true);
		vi.setSystemTime(T0 + 1_000);
		await runDurableObjectAlarm(stub);
		const parked = await stub.timer("doomed");
		expect(parked).toMatchObject({ attempts: 1, parkedAt: T0 + 1_000, lastError: expect.stringContaining("scheduledAt") });
		// The kernel status shows it, and the alarm is armed for the live timer only: the parked one never fires again.
		expect((await stub.kernel()).timers).toContainEqual(expect.objectContaining({ name: "doomed", attempts: 1, parkedAt: T0 + 1_000 }));
		expect(await stub.alarmAt()).toBe(T0 + 60_000);
		await stub.planInvalid(false);
		vi.setSystemTime(T0 + 30 * 60_000);
		await runDurableObjectAlarm(stub);
		expect(await stub.timer("doomed")).toMatchObject({ attempts: 1, parkedAt: T0 + 1_000 });
		expect(await firings(stub)).toEqual([{ timer: "other", at: T0 + 60_000 }]);
		// Parking is recorded in the actor's own log (docs/operations.md).
		const recorded = (await stub.readEvents({ limit: 1000 })).events.filter((e) => e.type === "kernel.work_parked");
		expect(recorded.map((e) => e.data)).toEqual([
			expect.objectContaining({ work: "timer", name: "doomed", reason: "invalid", attempts: 1 }),
		]);
		// Setting it again unparks it.
		await stub.setTimers([{ name: "doomed", spec: { once: T0 + 40 * 60_000 } }]);
		expect(await stub.timer("doomed")).toMatchObject({ attempts: 0, parkedAt: null, lastError: null });
	});

	it("rescheduling and cancelling are idempotent", async () => {
		const stub = probe();
		await stub.setTimers([{ name: "t", spec: { once: T0 + 5_000 } }]);
		await stub.setTimers([{ name: "t", spec: { once: T0 + 9_000 } }]);
		await stub.setTimers([{ name: "t", spec: { once: T0 + 9_000 } }]);
		expect(await stub.timer("t")).toMatchObject({ scheduledAt: T0 + 9_000, attempts: 0 });
		await stub.setTimers([{ name: "t", cancel: true }]);
		await stub.setTimers([{ name: "t", cancel: true }]);
		expect(await stub.timer("t")).toBeUndefined();
		expect(await stub.alarmAt()).toBeNull();
	});

	it("timers survive a restart, and ones that came due while down fire on wake", async () => {
		const name = crypto.randomUUID();
		await probe(name).setTimers([
			{ name: "a", spec: { once: T0 + 1_000 } },
			{ name: "b", spec: { once: T0 + 2_000 } },
		]);
		await abortAllDurableObjects();
		const stub = probe(name);
		vi.setSystemTime(T0 + 5_000);
		// The woken object re-arms from its timers table: both are overdue, so the alarm is due now.
		expect(await stub.alarmAt()).toBeLessThanOrEqual(T0 + 5_000);
		await runDurableObjectAlarm(stub);
		expect(await firings(stub)).toEqual([
			{ timer: "a", at: T0 + 1_000 },
			{ timer: "b", at: T0 + 2_000 },
		]);
	});

	it("10,000 timers in one actor fire in due order", async () => {
		const stub = probe();
		const count = 10_000;
		// A scrambled order of due instants, with ties broken by name.
		const due = Array.from({ length: count }, (_, i) => ({
			name: `t${String(i).padStart(5, "0")}`,
			at: T0 + 1_000 + ((i * 7919) % 3000) * 10,
		}));
		for (let i = 0; i < count; i += 500) {
			await stub.setTimers(due.slice(i, i + 500).map((d) => ({ name: d.name, spec: { once: d.at } })));
		}
		vi.setSystemTime(T0 + 1_000 + 3000 * 10);
		while (await runDurableObjectAlarm(stub)) {
			if ((await stub.describe()).version >= count) break;
		}
		const events: EventEnvelope[] = [];
		for (let after = 0; ; ) {
			const page = await stub.readEvents({ after, limit: 1000 });
			events.push(...page.events);
			if (page.next === null) break;
			after = page.next;
		}
		const expected = [...due].sort((x, y) => x.at - y.at || x.name.localeCompare(y.name)).map((d) => d.name);
		expect(events.map((e) => (e.data as { timer: string }).timer)).toEqual(expected);
	}, 120_000);
});
