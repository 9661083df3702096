/**
 * Crashes while an org is deleted (`DELETE /v1/orgs/{org}`, docs/privacy.md "Deleting an org"): the org (delivering
 * the `erase` messages, shredding keys, finishing on its timer, appending a step) or one of its sessions (after
 * deleting its R2 objects, after clearing its storage) aborts at a random point. After the restarts the deletion
 * still finishes: the org reads `deleted`, every session is erased, its subject keys are gone and its R2 prefixes
 * are empty; another org's session and objects are untouched.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { armFault, disarmFault, type FaultPoint } from "../../src/actors/faults.ts";
import { actorName } from "../../src/core/identity.ts";
import { adminAuth, call, keyFor, pageView, uniqueId, visitStartsRecorded } from "./helpers.ts";
import { clockAt, expectIntact, figure, LONG, propertyOptions, settleActor } from "./reliability-support.ts";

// Mocked time well after the real clock, so real alarms never fire on their own.
const T0 = Date.UTC(2033, 10, 1, 8, 0);

clockAt(T0);

const orgStub = (org: string) => env.ORG.getByName(actorName(org, org));
const sessionStub = (org: string, id: string) => env.SESSION.getByName(actorName(org, id));

/** One object under each R2 prefix an org owns (a camera's frame nested under its own folder). */
const objectKeys = (org: string, session: string) =>
	[
		[env.ARCHIVE, `interactions/${org}/${encodeURIComponent(`session:${session}:visit-1`)}.json`],
		[env.ARCHIVE, `logs/${org}/${encodeURIComponent(`session:${session}`)}.ndjson`],
		[env.ARCHIVE, `segments/${org}/${encodeURIComponent(`org:${org}`)}:1-2.ndjson`],
		[env.FRAMES, `frames/${org}/cam-1/2033-11-01T08:00:00.000Z-f1.jpg`],
	] as const;

/** Objects left under any prefix the org owns. */
async function objectsLeft(org: string): Promise<number> {
	let n = 0;
	for (const [bucket, area] of [
		[env.ARCHIVE, "interactions"],
		[env.ARCHIVE, "logs"],
		[env.ARCHIVE, "segments"],
		[env.FRAMES, "frames"],
	] as const)
		n += (await bucket.list({ prefix: `${area}/${org}/` })).objects.length;
	return n;
}

/** An org with `sessions` open visits the org knows of, and objects under each of its R2 prefixes. */
async function populatedOrg(sessions: number): Promise<{ org: string; sessions: string[] }> {
	const org = uniqueId("del");
	await keyFor(org);
	const ids = Array.from({ length: sessions }, () => uniqueId("s"));
	for (const id of ids) {
		const events = [pageView("/a", T0), { id: uniqueId("e"), type: "session.identified", ts: T0 + 1, data: { userId: uniqueId("u") } }];
		expect((await sessionStub(org, id).recordBatch({ events })).ok).toBe(true);
		// Delivers `visit_started` to the org (due now); the visit stays open.
		await runDurableObjectAlarm(sessionStub(org, id));
		for (const [bucket, key] of objectKeys(org, id)) await bucket.put(key, "x");
	}
	// The starts reach the org through the org intake queue (src/intake.ts).
	await visitStartsRecorded(org, ids);
	expect(
		Object.keys(
			((await orgStub(org).readState()) as { ok: true; value: { state: { activeSessions: object } } }).value.state.activeSessions,
		),
	).toHaveLength(sessions);
	return { org, sessions: ids };
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

describe("a crash while an org is deleted", () => {
	const numRuns = LONG ? 250 : 25;
	it(`still finishes with every actor erased and the org's R2 prefixes empty (${numRuns} random aborts)`, async () => {
		const bystander = await populatedOrg(1);
		const tally = { runs: 0, fired: 0, byPoint: {} as Record<string, number>, missed: [] as string[], failedAlarms: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.record({ point: fc.constantFrom(...POINTS), after: fc.nat(1), sessions: fc.integer({ min: 1, max: 2 }) }),
				async (sc) => {
					vi.setSystemTime(T0);
					const { org, sessions } = await populatedOrg(sc.sessions);
					const res = await call(`/v1/orgs/${org}`, { method: "DELETE", headers: adminAuth });
					expect(res.status).toBe(202);
					await res.body?.cancel();
					// The org delivers, shreds and finishes (outbox, timer points), the sessions clear themselves (erase points).
					// (A session erased appends nothing: its appends are not a point here.)
					const inOrg = !sc.point.startsWith("erase.");
					const target = inOrg ? org : (sessions[sc.after % sessions.length] as string);
					// Reached more than once: the org's appends (a step per session, the keys, the tombstone) and, with two
					// sessions, its deliveries; every other point once per deletion.
					const repeated = sc.point === "append.before-commit" || (sc.point.startsWith("outbox.") && sc.sessions > 1);
					armFault({ point: sc.point, object: actorName(org, target), after: inOrg && repeated ? sc.after : 0, mode: "abort" });
					const settled = await settleActor(() => orgStub(org));
					const report = disarmFault();
					tally.runs++;
					tally.failedAlarms += settled.failed;
					if (report.fired) {
						tally.fired++;
						tally.byPoint[sc.point] = (tally.byPoint[sc.point] ?? 0) + 1;
					} else tally.missed.push(`${sc.point}${inOrg ? "@org" : "@session"}/${report.reached}`);
					await abortAllDurableObjects();

					const view = (await orgStub(org).view()) as {
						ok: true;
						value: { deletion?: { status: string; counts: Record<string, number> } };
					};
					expect(view.value.deletion).toMatchObject({
						status: "deleted",
						counts: { actors: sc.sessions, actorsErased: sc.sessions, keys: 0, keysShredded: 0 },
					});
					for (const id of sessions) expect((await sessionStub(org, id).describe()).version).toBe(0);
					expect(await objectsLeft(org)).toBe(0);
					const keysLeft = await runInDurableObject(
						orgStub(org),
						(_, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM subject_keys").one().n,
					);
					expect(keysLeft).toBe(0);
					await expectIntact(orgStub(org));
					// Nothing else lost: the other org's session and objects.
					const other = bystander.sessions[0] as string;
					expect((await sessionStub(bystander.org, other).describe()).version).toBe(3);
					for (const [bucket, key] of objectKeys(bystander.org, other)) expect(await bucket.head(key)).not.toBeNull();
				},
			),
			propertyOptions(numRuns),
		);
		figure("org deletion aborts", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.8));
	}, 600_000);
});
