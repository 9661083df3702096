/**
 * Faults in what outlives a request: an outbox delivery and a timer firing fail (throw, or the object aborts as in
 * a crash) at a random point, over a web session's whole life (its start announced to the org, its end by the
 * inactivity timer handed to the org and the interactions queue). After the restart the timer and the messages
 * are still there, and once their backoff has passed they complete: the visit ends once, the org records the start
 * and the interaction once each, the queue archives it, and every chain verifies.
 */
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { armFault, disarmFault, type FaultPoint } from "../../src/actors/faults.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { visitInteractionId } from "../../src/events/interaction.ts";
import { archiveKey } from "../../src/queue.ts";
import { keyFor, pageView, visitStartsRecorded } from "./helpers.ts";
import { clockAt, expectIntact, figure, propertyOptions, runs, settle } from "./reliability-support.ts";

const ORG = "acme-effects";
const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own.
const T0 = Date.UTC(2033, 4, 1, 8, 0);

clockAt(T0);

const session = (id: string) => env.SESSION.getByName(actorName(ORG, id));
const org = () => env.ORG.getByName(actorName(ORG, ORG));

/**
 * Runs the session's alarm until it owes nothing (or nothing due before `before`), moving the clock to each retry; a
 * fault is a failed run.
 */
async function settleSession(id: string, before = Number.POSITIVE_INFINITY): Promise<{ alarms: number; failed: number }> {
	let alarms = 0;
	let failed = 0;
	for (; alarms < 40; alarms++) {
		const { outbox, timers } = await session(id).kernelStatus();
		if (outbox.pending === 0 && timers.length === 0) return { alarms, failed };
		const due = Math.min(...[outbox.nextAttemptAt, ...timers.map((t) => t.dueAt)].filter((at): at is number => at !== null));
		if (due >= before) return { alarms, failed };
		vi.setSystemTime(Math.max(Date.now(), due));
		const ran = await settle(runDurableObjectAlarm(session(id)));
		if (!ran.ok) {
			failed++;
			// The crash: memory gone, storage left; the alarm is retried on the restarted object.
			await abortAllDurableObjects();
		}
	}
	throw new Error(`session ${id} still owes work after ${alarms} alarms: ${JSON.stringify(await session(id).kernelStatus())}`);
}

async function archived(key: string): Promise<boolean> {
	for (let i = 0; i < 120; i++) {
		if (await env.ARCHIVE.head(key)) return true;
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	return false;
}

const POINTS: FaultPoint[] = [
	"outbox.before-delivery",
	"outbox.after-delivery",
	"timer.before-handler",
	"timer.after-handler",
	"append.before-commit",
];

describe("a fault in an outbox delivery or a timer firing", () => {
	const numRuns = runs(100);
	it(`leaves the timer and messages in place, and they complete once after the restart (${numRuns} random faults)`, async () => {
		await keyFor(ORG);
		const queued: string[] = [];
		const tally = {
			runs: 0,
			fired: 0,
			byPoint: {} as Record<string, number>,
			aborts: 0,
			alarms: 0,
			failedAlarms: 0,
			lostMessages: 0,
			lostEnds: 0,
		};
		await fc.assert(
			fc.asyncProperty(
				fc.record({
					point: fc.constantFrom(...POINTS),
					after: fc.nat(2),
					mode: fc.constantFrom("throw" as const, "abort" as const),
					events: fc.integer({ min: 1, max: 30 }),
				}),
				async (sc) => {
					vi.setSystemTime(T0);
					const id = `life-${crypto.randomUUID()}`;
					const events = Array.from({ length: sc.events }, (_, i) => pageView(`/life/${i}`, T0 + i));
					expect((await session(id).recordBatch({ events })).ok).toBe(true);
					// The point fails in the session: its deliveries (the start, then the interaction twice) or its timer firing.
					const after = sc.point.startsWith("outbox") ? sc.after : 0;
					armFault({ point: sc.point, object: actorName(ORG, id), after, mode: sc.mode });
					// The start's delivery, with its retries (the visit's inactivity timer is an hour on). It reaches the org
					// through the org intake queue (src/intake.ts) within the queue's batch timeout: waited for, so the visit's
					// end (delivered straight to the org) does not overtake it.
					const started = await settleSession(id, T0 + HOUR);
					await visitStartsRecorded(ORG, [id]);
					vi.setSystemTime(T0 + HOUR + 1);
					const ended = await settleSession(id);
					const report = disarmFault();
					tally.runs++;
					tally.alarms += started.alarms + ended.alarms;
					tally.failedAlarms += started.failed + ended.failed;
					if (report.fired) {
						tally.fired++;
						tally.byPoint[sc.point] = (tally.byPoint[sc.point] ?? 0) + 1;
						if (sc.mode === "abort") tally.aborts++;
					}
					await abortAllDurableObjects();

					const interaction = visitInteractionId(id, 1);
					const visitEnd = (await session(id).eventById("~visit-1:ended")) as EventEnvelope | null;
					if (!visitEnd) tally.lostEnds++;
					expect(visitEnd?.type).toBe("session.ended");
					const recorded = [
						await org().eventById(`${interaction}:started`),
						await org().eventById(interaction),
					] as (EventEnvelope | null)[];
					tally.lostMessages += recorded.filter((e) => !e).length;
					expect(recorded.map((e) => e?.type)).toEqual(["org.visit_started", "org.interaction_recorded"]);
					queued.push(archiveKey(ORG, interaction));
					expect(await session(id).kernelStatus()).toMatchObject({ outbox: { pending: 0 }, timers: [] });
					await expectIntact(session(id));
				},
			),
			propertyOptions(numRuns),
		);
		await expectIntact(org());
		// The interactions queue archived every ended visit (batches of up to a second, so checked once at the end).
		const missing: string[] = [];
		for (const key of queued) if (!(await archived(key))) missing.push(key);
		tally.lostMessages += missing.length;
		expect(missing).toEqual([]);
		figure("outbox and timer faults", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.8));
	}, 600_000);
});
