/**
 * Snapshots stay bounded: an actor keeps the newest SNAPSHOTS_KEPT plus a ladder of at most SNAPSHOT_RUNGS older ones,
 * reads below the newest fold from a nearby rung (not from the start), and every read still equals the fold of the log.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { foldRange, foldToVersion } from "../../src/actors/kernel/fold.ts";
import { rungSpacing, SNAPSHOT_RUNGS, SNAPSHOTS_KEPT } from "../../src/actors/snapshots.ts";
import { actorName } from "../../src/core/identity.ts";
import type { SessionActor } from "../../src/index.ts";
import { sessionDefinition } from "../../src/reducers/session.ts";
import { keyFor, pageView, uniqueId } from "./helpers.ts";
import { expectIntact } from "./reliability-support.ts";

const ORG = "acme-snapshots";
/** SNAPSHOT_EVERY in the tests (vitest.config.ts). */
const EVERY = 10;

/** The kernel's stores on a live instance (protected members, reached in the test only). */
type Stores = { log: Parameters<typeof foldRange>[1]; snapshots: Parameters<typeof foldToVersion>[2] };

describe("bounded snapshots", () => {
	it("a short log keeps every rung; state at an early version reads the same as when it was new", async () => {
		await keyFor(ORG);
		const stub = env.SESSION.getByName(actorName(ORG, uniqueId("s")));
		const now = Date.now();
		let earlyBefore: unknown;
		for (let batch = 0; batch < 15; batch++) {
			const events = Array.from({ length: 10 }, (_, i) => pageView(`/p/${batch}/${i}`, now + batch * 10 + i));
			expect((await stub.recordBatch({ events })).ok).toBe(true);
			if (batch === 1) earlyBefore = await stub.readState(7);
		}
		const { snapshots } = await stub.describe();
		// 15 snapshots (one per batch), each in a rung of its own at this length (spacing 10): all kept.
		expect(rungSpacing(snapshots.at(-1)?.version ?? 0, EVERY)).toBe(EVERY);
		expect(snapshots).toHaveLength(15);
		expect(await stub.readState(7)).toEqual(earlyBefore);
		await expectIntact(stub);
	});

	it("a long log keeps the newest K plus a bounded ladder, and an old state-at read folds from a nearby rung", async () => {
		await keyFor(ORG);
		const stub = env.SESSION.getByName(actorName(ORG, uniqueId("s")));
		const now = Date.now();
		// Batches of 10 with SNAPSHOT_EVERY 10: every batch writes one snapshot, 300 in all.
		const batches = 300;
		let early: unknown;
		for (let batch = 0; batch < batches; batch++) {
			const events = Array.from({ length: 10 }, (_, i) => pageView(`/p/${batch % 7}/${i}`, now + batch * 10 + i));
			expect((await stub.recordBatch({ events })).ok).toBe(true);
			if (batch === 40) early = await stub.readState(333);
		}
		const { version, snapshots } = await stub.describe();
		// The newest K are all there...
		const versions = snapshots.map((s) => s.version);
		expect(versions.slice(-SNAPSHOTS_KEPT)).toEqual(
			Array.from({ length: SNAPSHOTS_KEPT }, (_, i) => version - (SNAPSHOTS_KEPT - 1 - i) * EVERY),
		);
		// ...and below them at most one per rung of the current spacing, never more than SNAPSHOT_RUNGS.
		const spacing = rungSpacing(version, EVERY);
		const ladder = versions.slice(0, -SNAPSHOTS_KEPT);
		expect(ladder.length).toBeLessThanOrEqual(SNAPSHOT_RUNGS);
		expect(new Set(ladder.map((v) => Math.floor(v / spacing))).size).toBe(ladder.length);
		expect(spacing).toBeGreaterThan(EVERY);
		expect(snapshots.length).toBeLessThanOrEqual(SNAPSHOTS_KEPT + SNAPSHOT_RUNGS);
		expect(snapshots.length).toBeLessThan(batches / 2);

		// An old read: state at 333 folds from a rung at most a spacing (plus one interval) below it, not from seq 0.
		const at = 333;
		const folded = await runInDurableObject(stub, (instance: SessionActor) => {
			const { log, snapshots: store } = instance as unknown as Stores;
			const { state, from } = foldToVersion(sessionDefinition, log, store, at);
			const fromStart = foldRange(sessionDefinition, log, sessionDefinition.initialState(), 0, at);
			return { from, same: JSON.stringify(state) === JSON.stringify(fromStart) };
		});
		expect(folded.from).toBeGreaterThan(0);
		expect(at - folded.from).toBeLessThanOrEqual(spacing + EVERY);
		expect(folded.same).toBe(true);
		expect(await stub.readState(at)).toEqual(early);
		await expectIntact(stub);
	});
});
