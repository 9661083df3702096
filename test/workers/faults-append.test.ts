/**
 * Faults in the middle of an append and of a snapshot write: an object that fails (throws, or is aborted as in a
 * crash) at a random point of a random batch comes back with the batch all there or not there at all, its chain
 * whole, its state equal to a fresh fold of its log, and every snapshot readable; the retried batch lands once.
 * The points are the kernel's fault seams (src/actors/faults.ts).
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EventPage } from "../../src/actors/actor.ts";
import { armFault, disarmFault, type FaultPoint } from "../../src/actors/faults.ts";
import type { BatchResult, SessionActor } from "../../src/actors/session.ts";
import { actorName } from "../../src/core/identity.ts";
import type { Outcome } from "../../src/core/outcome.ts";
import { type ClientEvent, call } from "./helpers.ts";
import { expectIntact, figure, propertyOptions, runs, settle } from "./reliability-support.ts";

const ORG = "acme-faults";
const SNAPSHOT_EVERY = 10;

let serial = 0;
/** Client events of a session: page views, clicks and custom events, ids unique in the file. */
function clientEvents(count: number, kinds: number[]): ClientEvent[] {
	return Array.from({ length: count }, (_, i) => {
		const n = serial++;
		const ts = 1_700_000_000_000 + n;
		const id = `f${n}`;
		switch ((kinds[i] ?? 0) % 3) {
			case 0:
				return { id, type: "session.page_viewed", ts, data: { url: `https://shop.example/p/${n % 7}`, path: `/p/${n % 7}` } };
			case 1:
				return { id, type: "session.clicked", ts, data: { target: `button#b${n % 5}` } };
			default:
				return { id, type: "session.custom", ts, data: { name: `n${n % 4}`, props: { n } } };
		}
	});
}

type SessionStub = DurableObjectStub<SessionActor>;
const session = (id: string): SessionStub => env.SESSION.getByName(actorName(ORG, id));

async function ids(stub: SessionStub): Promise<string[]> {
	const out: string[] = [];
	for (let after = 0; ; ) {
		const page = (await stub.readEvents({ after, limit: 1000 })) as unknown as EventPage;
		out.push(...page.events.map((e) => e.id));
		if (page.next === null) return out;
		after = page.next;
	}
}

/** Every stored snapshot reads back (parts, byte count and checksum all match). */
async function expectSnapshotsReadable(stub: SessionStub): Promise<number> {
	const { snapshots } = await stub.describe();
	for (const s of snapshots) expect(await stub.snapshotAt(s.version), `snapshot ${s.version}`).not.toBeNull();
	return snapshots.length;
}

/** Sends a batch over RPC or HTTP; a fault makes either fail (a rejected call, or a 500 problem). */
async function sendBatch(via: "rpc" | "http", id: string, events: ClientEvent[]): Promise<{ ok: boolean; accepted?: number }> {
	if (via === "rpc") {
		const result = await settle<Outcome<BatchResult>>(session(id).recordBatch({ events }));
		if (!result.ok) return { ok: false };
		expect(result.value.ok).toBe(true);
		return { ok: true, accepted: result.value.ok ? result.value.value.accepted : undefined };
	}
	const res = await call(`/v1/orgs/${ORG}/sessions/${id}/events`, { method: "POST", body: JSON.stringify({ events }) });
	if (res.status === 202) return { ok: true, accepted: (await res.json<{ accepted: number }>()).accepted };
	expect(res.status).toBe(500);
	expect(res.headers.get("content-type")).toContain("application/problem+json");
	expect(res.headers.get("x-request-id")).toBeTruthy();
	return { ok: false };
}

const APPEND_POINTS: FaultPoint[] = ["append.before-commit", "append.after-rows", "append.before-snapshot", "append.after-snapshot"];

describe("a fault in the middle of a batch append", () => {
	const numRuns = runs(120);
	it(`leaves the batch all or nothing, the chain whole and state equal to the fold of the log (${numRuns} random faults)`, async () => {
		const tally = { runs: 0, fired: 0, byPoint: {} as Record<string, number>, aborts: 0, lostEvents: 0, partialBatches: 0, duplicated: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.record({
					history: fc.array(fc.integer({ min: 1, max: 14 }), { maxLength: 4 }),
					size: fc.integer({ min: 1, max: 60 }),
					kinds: fc.array(fc.nat(2), { minLength: 60, maxLength: 60 }),
					repeats: fc.integer({ min: 0, max: 4 }),
					point: fc.constantFrom(...APPEND_POINTS),
					after: fc.nat(4),
					mode: fc.constantFrom("throw" as const, "abort" as const),
					via: fc.constantFrom("rpc" as const, "http" as const),
				}),
				async (sc) => {
					const id = `crash-${crypto.randomUUID()}`;
					// Stubs do not outlive abortAllDurableObjects(): each use takes a fresh one.
					const stub = () => session(id);
					for (const n of sc.history) expect((await stub().recordBatch({ events: clientEvents(n, sc.kinds) })).ok).toBe(true);
					const before = await ids(stub());
					const version = before.length;
					// A snapshot fault needs a batch that crosses a snapshot boundary.
					const snapshotPoint = sc.point.includes("snapshot");
					const size = snapshotPoint ? Math.max(sc.size, SNAPSHOT_EVERY) : sc.size;
					const fresh = clientEvents(size, sc.kinds);
					const repeated = before.filter((e) => e.startsWith("f")).slice(0, sc.repeats);
					const batch = [...fresh, ...repeated.map((e) => ({ ...fresh[0], id: e }) as ClientEvent)];

					// After-rows fails after a random statement of the batch's rows (12 rows each).
					const skip = sc.point === "append.after-rows" ? sc.after % Math.ceil(size / 12) : 0;
					armFault({ point: sc.point, object: actorName(ORG, id), after: skip, mode: sc.mode });
					const sent = await sendBatch(sc.via, id, batch);
					const report = disarmFault();
					tally.runs++;
					if (report.fired) {
						tally.fired++;
						tally.byPoint[sc.point] = (tally.byPoint[sc.point] ?? 0) + 1;
						if (sc.mode === "abort") tally.aborts++;
					}
					expect(sent.ok).toBe(!report.fired);
					// The restart after the crash: memory is gone, only storage is left.
					await abortAllDurableObjects();

					const after = await ids(stub());
					const landed = fresh.filter((e) => after.includes(e.id)).length;
					if (landed !== 0 && landed !== fresh.length) tally.partialBatches++;
					expect(landed === 0 || landed === fresh.length, `${landed} of ${fresh.length} events landed`).toBe(true);
					expect(after.slice(0, version)).toEqual(before);
					expect(landed).toBe(report.fired ? 0 : fresh.length);
					await expectIntact(stub());
					await expectSnapshotsReadable(stub());

					// The client retries: what did not land lands now, exactly once.
					const retried = await stub().recordBatch({ events: batch });
					expect(retried.ok).toBe(true);
					if (retried.ok) expect(retried.value.accepted).toBe(report.fired ? fresh.length : 0);
					const final = await ids(stub());
					const missing = fresh.filter((e) => !final.includes(e.id)).length;
					tally.lostEvents += missing;
					tally.duplicated += final.length - new Set(final).size;
					expect(missing).toBe(0);
					await expectIntact(stub());
				},
			),
			propertyOptions(numRuns),
		);
		figure("append faults", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.8));
	}, 600_000);
});

describe("a fault while a snapshot is written", () => {
	const numRuns = runs(120);
	it(`never leaves a snapshot that is trusted but wrong, and the object wakes with the right state (${numRuns} random faults)`, async () => {
		const tally = { runs: 0, fired: 0, byPoint: {} as Record<string, number>, snapshotsChecked: 0, lostEvents: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.record({
					batches: fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 5 }),
					kinds: fc.array(fc.nat(2), { minLength: 25, maxLength: 25 }),
					point: fc.constantFrom<FaultPoint>("append.before-snapshot", "append.after-snapshot", "wake.snapshot"),
					at: fc.nat(4),
					mode: fc.constantFrom("throw" as const, "abort" as const),
				}),
				async (sc) => {
					const id = `snap-${crypto.randomUUID()}`;
					const name = actorName(ORG, id);
					const stub = () => session(id);
					const sent: string[] = [];
					tally.runs++;
					let fired = false;
					if (sc.point === "wake.snapshot") {
						// A log longer than the interval with its snapshots lost: the wake replays it and writes one.
						for (const n of [...sc.batches, SNAPSHOT_EVERY]) {
							const events = clientEvents(n, sc.kinds);
							expect((await stub().recordBatch({ events })).ok).toBe(true);
							sent.push(...events.map((e) => e.id));
						}
						await runInDurableObject(stub(), (_instance, state) => {
							state.storage.sql.exec("DELETE FROM snapshot_parts");
							state.storage.sql.exec("DELETE FROM snapshots");
						});
						await abortAllDurableObjects();
						armFault({ point: sc.point, object: name, mode: sc.mode });
						const woke = await settle(stub().describe());
						fired = disarmFault().fired;
						expect(woke.ok).toBe(!fired);
					} else {
						// The fault hits the `at`-th batch that writes a snapshot (if there are that many).
						armFault({ point: sc.point, object: name, after: sc.at % 2, mode: sc.mode });
						for (const n of sc.batches) {
							const events = clientEvents(n, sc.kinds);
							const result = await settle(stub().recordBatch({ events }));
							if (result.ok) sent.push(...events.map((e) => e.id));
							else {
								fired = true;
								await abortAllDurableObjects();
								// The client retries the batch that failed.
								expect((await stub().recordBatch({ events })).ok).toBe(true);
								sent.push(...events.map((e) => e.id));
							}
						}
						expect(disarmFault().fired).toBe(fired);
					}
					if (fired) {
						tally.fired++;
						tally.byPoint[sc.point] = (tally.byPoint[sc.point] ?? 0) + 1;
					}
					await abortAllDurableObjects();
					const stored = await ids(stub());
					const missing = sent.filter((e) => !stored.includes(e)).length;
					tally.lostEvents += missing;
					expect(missing).toBe(0);
					await expectIntact(stub());
					tally.snapshotsChecked += await expectSnapshotsReadable(stub());
					// The object woke from its newest snapshot plus the tail, shorter than the interval.
					const { version, snapshots } = await stub().describe();
					if (version >= SNAPSHOT_EVERY) expect(version - (snapshots.at(-1)?.version ?? 0)).toBeLessThan(SNAPSHOT_EVERY);
				},
			),
			propertyOptions(numRuns),
		);
		figure("snapshot faults", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.5));
	}, 600_000);
});
