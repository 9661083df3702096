/**
 * Crashes during an erasure: the org (delivering an `erase`, shredding keys on its timer, appending a step) or the
 * erased session (after deleting its R2 objects, after clearing its storage) aborts as in a crash at a random point. After the restarts the erasure still finishes: nothing of the user is left (session
 * storage, archive, readable user id in the org's records), a bystander's records are untouched, and every chain
 * verifies.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { armFault, disarmFault, type FaultPoint } from "../../src/actors/faults.ts";
import { actorName } from "../../src/core/identity.ts";
import { visitInteractionId } from "../../src/events/interaction.ts";
import { archiveKey } from "../../src/queue.ts";
import { keyFor, pageView, uniqueId } from "./helpers.ts";
import { clockAt, expectIntact, figure, propertyOptions, runs, settleActor } from "./reliability-support.ts";

const ORG = "acme-erasure-faults";
const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own.
const T0 = Date.UTC(2033, 6, 1, 8, 0);

clockAt(T0);

const org = () => env.ORG.getByName(actorName(ORG, ORG));
const session = (id: string) => env.SESSION.getByName(actorName(ORG, id));

/** A visit by `userId`, ended and handed to the org and the archive, with no fault armed. */
async function endedVisit(id: string, userId: string): Promise<void> {
	const events = [
		pageView("/a", T0),
		{ id: uniqueId("e"), type: "session.identified", ts: T0 + 1, data: { userId, traits: { email: `${userId}@x.test` } } },
	];
	expect((await session(id).recordBatch({ events })).ok).toBe(true);
	vi.setSystemTime(T0 + HOUR + 1);
	await settleActor(() => session(id));
	vi.useRealTimers();
	for (let i = 0; i < 120 && !(await env.ARCHIVE.head(archiveKey(ORG, visitInteractionId(id, 1)))); i++) {
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	vi.useFakeTimers({ toFake: ["Date"] });
	expect(await env.ARCHIVE.head(archiveKey(ORG, visitInteractionId(id, 1)))).not.toBeNull();
}

const POINTS: FaultPoint[] = [
	"outbox.before-delivery",
	"outbox.after-delivery",
	"erase.after-objects",
	"erase.after-storage",
	"append.before-commit",
	"timer.before-handler",
	"timer.after-handler",
];

describe("a crash during an erasure", () => {
	const numRuns = runs(100);
	it(`still finishes with nothing of the user left and nothing else lost (${numRuns} random aborts)`, async () => {
		await keyFor(ORG);
		const bystander = uniqueId("s");
		const bystanderUser = uniqueId("keep");
		await endedVisit(bystander, bystanderUser);
		const tally = { runs: 0, fired: 0, byPoint: {} as Record<string, number>, failedAlarms: 0, leftovers: 0 };
		await fc.assert(
			fc.asyncProperty(fc.record({ point: fc.constantFrom(...POINTS), after: fc.nat(1), inOrg: fc.boolean() }), async (sc) => {
				vi.setSystemTime(T0);
				const userId = uniqueId("user");
				const id = uniqueId("s");
				await endedVisit(id, userId);
				const requested = await org().requestErasure({ userId });
				if (!requested.ok) throw new Error(requested.error.detail);
				// The org delivers and shreds (outbox, timer points), the session clears itself (erase points), both append.
				const inOrg = sc.point.startsWith("erase.") ? false : sc.point === "append.before-commit" ? sc.inOrg : true;
				// Only the org's appends are reached twice (the key step and the session's step); the rest once per erasure.
				const after = sc.point === "append.before-commit" && inOrg ? sc.after : 0;
				armFault({ point: sc.point, object: actorName(ORG, inOrg ? ORG : id), after, mode: "abort" });
				const settled = await settleActor(org);
				const report = disarmFault();
				tally.runs++;
				tally.failedAlarms += settled.failed;
				if (report.fired) {
					tally.fired++;
					tally.byPoint[sc.point] = (tally.byPoint[sc.point] ?? 0) + 1;
				}
				await abortAllDurableObjects();

				const erasure = await org().erasure(requested.value.id);
				expect(erasure).toMatchObject({
					ok: true,
					value: { status: "done", counts: { actors: 1, actorsErased: 1, keys: 1, keysShredded: 1 } },
				});
				const left = [
					(await session(id).describe()).version,
					(await env.ARCHIVE.list({ prefix: `interactions/${ORG}/${encodeURIComponent(`session:${id}:`)}` })).objects.length,
					(await org().searchSessions({ userId })).sessions.length,
					JSON.stringify(await org().interactions({ limit: 1000 })).includes(userId) ? 1 : 0,
				];
				if (left.some((n) => n > 0)) tally.leftovers++;
				expect(left).toEqual([0, 0, 0, 0]);
				// Nothing else lost: the bystander's session, archive and readable user id.
				expect((await session(bystander).describe()).version).toBeGreaterThan(0);
				expect(await env.ARCHIVE.head(archiveKey(ORG, visitInteractionId(bystander, 1)))).not.toBeNull();
				expect((await org().searchSessions({ userId: bystanderUser })).sessions.map((s) => s.session)).toEqual([bystander]);
			}),
			propertyOptions(numRuns),
		);
		await expectIntact(org());
		await expectIntact(session(bystander));
		figure("erasure aborts", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.8));
	}, 600_000);
});
