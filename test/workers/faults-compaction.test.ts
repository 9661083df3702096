/**
 * Crashes during log compaction (src/actors/kernel/compaction.ts): the org's log grows by interactions and hourly
 * rollups, and each run compacts a further prefix while the org aborts (or throws) at a random point: after the
 * segment is in R2, inside the transaction after the rows are deleted, or after the checkpoint committed. The retry
 * (with the same cutoff or a later one, as the next retention run would) finishes it, and after each run: the
 * checkpoint is where the cutoff says, the chain verifies from it, the segments in R2 plus the rows left hold every
 * event exactly once with its hash, reads before the checkpoint answer 410, the state (rollups included) is as it
 * was before, in memory and after a wake, and a compacted event id is still a duplicate.
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { EventPage, ReplayReport } from "../../src/actors/actor.ts";
import { armFault, disarmFault, type FaultPoint } from "../../src/actors/faults.ts";
import type { ActorMessage } from "../../src/actors/outbox.ts";
import { actorName } from "../../src/core/identity.ts";
import { INTERACTION_MESSAGE, visitInteractionId } from "../../src/events/interaction.ts";
import { call, keyFor, uniqueId } from "./helpers.ts";
import { clockAt, figure, propertyOptions, runs, settle } from "./reliability-support.ts";

const ORG = "acme-compaction-faults";
const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own.
const T0 = Date.UTC(2033, 9, 1, 0, 5);

clockAt(T0);

const org = () => env.ORG.getByName(actorName(ORG, ORG));
const POINTS: FaultPoint[] = ["compact.after-segment", "compact.after-delete", "compact.after-commit"];

type Row = { seq: number; id: string; ts: number; hash: string };

/** An ended visit's interaction, delivered to the org as a session's outbox delivers it. */
function interaction(session: string, at: number): ActorMessage {
	const id = visitInteractionId(session, 1);
	return {
		id: `${id}:${uniqueId("m")}`,
		from: { kind: "session", org: ORG, id: session },
		type: INTERACTION_MESSAGE,
		data: { id, source: "web", actor: { kind: "session", id: session }, startedAt: at - 60_000, endedAt: at, summary: { pages: 2 } },
		meta: {},
	};
}

/** Every stored row after `after`, as stored (raw). */
async function rowsAfter(after: number): Promise<Row[]> {
	const out: Row[] = [];
	for (let cursor = after; ; ) {
		const page: EventPage = await org().readEvents({ after: cursor, limit: 1000, raw: true });
		out.push(...page.events.map(({ seq, id, ts, hash }) => ({ seq, id, ts, hash: hash as string })));
		if (page.next === null) return out;
		cursor = page.next;
	}
}

/** The org's segments in R2 (read once each: a key is always written with the same events), and their rows. */
const segmentCache = new Map<string, Row[]>();
async function segmentRows(): Promise<{ keys: string[]; rows: Row[] }> {
	const listed = await env.ARCHIVE.list({ prefix: `segments/${ORG}/${encodeURIComponent(`org:${ORG}`)}:` });
	expect(listed.truncated).toBe(false);
	const rows: Row[] = [];
	for (const { key } of listed.objects) {
		let parsed = segmentCache.get(key);
		if (!parsed) {
			const text = (await (await env.ARCHIVE.get(key))?.text()) ?? "";
			parsed = text
				.trim()
				.split("\n")
				.slice(1)
				.map((line) => JSON.parse(line) as Row)
				.map(({ seq, id, ts, hash }) => ({ seq, id, ts, hash }));
			segmentCache.set(key, parsed);
		}
		rows.push(...parsed);
	}
	return { keys: listed.objects.map((o) => o.key), rows };
}

/** Compacts before `before` until a call answers with nothing more to do; a failed call is a crash (or a throw). */
async function compactUntilDone(before: number): Promise<{ seq: number; failed: number }> {
	let failed = 0;
	for (let tries = 0; tries < 5; tries++) {
		const report = await settle(org().compactLog({ before }));
		if (report.ok) {
			const outcome = report.value as { ok: true; value: { checkpoint: { seq: number }; more: boolean } } | { ok: false };
			if (outcome.ok && !outcome.value.more) return { seq: outcome.value.checkpoint.seq, failed };
		}
		failed++;
		await abortAllDurableObjects();
	}
	throw new Error(`compaction before ${before} did not finish`);
}

describe("a crash during log compaction", () => {
	const numRuns = runs(100);
	it(`still finishes with every event archived or stored exactly once and the state unchanged (${numRuns} random faults)`, async () => {
		await keyFor(ORG);
		/** Every event the org ever stored, by seq, as first read. */
		const chain = new Map<number, Row>();
		let checkpoint = 0;
		let hour = 0;
		const tally = { runs: 0, fired: 0, byPoint: {} as Record<string, number>, failedCalls: 0, compacted: 0, segments: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.record({
					point: fc.constantFrom(...POINTS),
					mode: fc.constantFrom("abort" as const, "throw" as const),
					visits: fc.integer({ min: 1, max: 3 }),
					lagHours: fc.integer({ min: 0, max: 1 }),
					laterHours: fc.integer({ min: 0, max: 1 }),
				}),
				async (sc) => {
					hour++;
					const now = T0 + hour * HOUR;
					vi.setSystemTime(now);
					for (let v = 0; v < sc.visits; v++) expect((await org().receive(interaction(uniqueId("s"), now))).ok).toBe(true);
					// The hourly rollup (and any other due timer) appends too.
					await runDurableObjectAlarm(org());
					for (const row of await rowsAfter(checkpoint)) if (!chain.has(row.seq)) chain.set(row.seq, row);
					const before = await org().readState();
					if (!before.ok) throw new Error("no state");
					const version = before.value.version;

					const cutoff = now - sc.lagHours * HOUR + 1;
					armFault({ point: sc.point, object: actorName(ORG, ORG), mode: sc.mode });
					const first = await settle(org().compactLog({ before: cutoff }));
					const report = disarmFault();
					if (!first.ok || !(first.value as { ok: boolean }).ok) tally.failedCalls++;
					// An aborted object is gone; one that threw goes on in memory, and the retry runs in it.
					if (sc.mode === "abort") await abortAllDurableObjects();
					// The retry: at once with the same cutoff, or as a later run would, reaching further.
					const retryCutoff = cutoff + sc.laterHours * HOUR;
					const done = await compactUntilDone(retryCutoff);
					tally.runs++;
					tally.failedCalls += done.failed;
					if (report.fired) {
						tally.fired++;
						tally.byPoint[`${sc.point}/${sc.mode}`] = (tally.byPoint[`${sc.point}/${sc.mode}`] ?? 0) + 1;
					}

					// The checkpoint is the last event of the prefix older than the cutoff, keeping the newest event.
					const events = [...chain.values()].sort((a, b) => a.seq - b.seq);
					const firstKept = events.find((e) => e.seq > checkpoint && e.ts >= retryCutoff)?.seq ?? version;
					const expected = Math.max(checkpoint, Math.min(firstKept - 1, version - 1));
					expect(done.seq).toBe(expected);
					tally.compacted += done.seq - checkpoint;
					checkpoint = done.seq;

					// Every event exactly once, in a segment or a row, with the hash it was stored with.
					const kept = await rowsAfter(checkpoint);
					const archived = await segmentRows();
					tally.segments = archived.keys.length;
					const all = [...archived.rows, ...kept].sort((a, b) => a.seq - b.seq);
					expect(all.map((e) => e.seq)).toEqual(Array.from({ length: version }, (_, i) => i + 1));
					expect(all).toEqual(events);
					expect(kept[0]?.seq).toBe(checkpoint + 1);

					// The chain verifies from the checkpoint; state (rollups included) is as before, now and after a wake.
					expect(await org().verifyChain()).toMatchObject({ ok: true, version });
					const replay: ReplayReport = await org().replayCheck();
					expect(replay.mismatches, JSON.stringify(replay.mismatches)).toEqual([]);
					expect(replay).toMatchObject({ ok: true, version, checked: version - checkpoint });
					const inMemory = await org().readState();
					expect(inMemory.ok && inMemory.value.state).toEqual(before.value.state);
					await evictDurableObject(org());
					const woken = await org().readState();
					expect(woken.ok && woken.value.state).toEqual(before.value.state);
					expect(woken.ok && woken.value.version).toBe(version);

					if (checkpoint > 0) {
						const gone = await call(`/v1/orgs/${ORG}/events?after=0`);
						expect(gone.status).toBe(410);
						await gone.body?.cancel();
						// A compacted interaction sent again (another message, so the ledger does not answer) stays a duplicate.
						const compactedInteraction = events.find((e) => e.seq <= checkpoint && e.id.startsWith("session:"));
						if (compactedInteraction) {
							const session = compactedInteraction.id.split(":")[1] as string;
							expect((await org().receive(interaction(session, now))).ok).toBe(true);
							expect((await org().describe()).version).toBe(version);
						}
					}
				},
			),
			propertyOptions(numRuns),
		);
		figure("compaction faults", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.8));
	}, 600_000);
});
