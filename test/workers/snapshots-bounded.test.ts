/** Snapshots stay bounded: an actor keeps the newest SNAPSHOTS_KEPT, and reads below them still fold correctly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SNAPSHOTS_KEPT } from "../../src/actors/snapshots.ts";
import { actorName } from "../../src/core/identity.ts";
import { keyFor, pageView, uniqueId } from "./helpers.ts";
import { expectIntact } from "./reliability-support.ts";

const ORG = "acme-snapshots";

describe("bounded snapshots", () => {
	it("a long log keeps only the newest snapshots, and state at an early version is still the fold of the log", async () => {
		await keyFor(ORG);
		const stub = env.SESSION.getByName(actorName(ORG, uniqueId("s")));
		const now = Date.now();
		// SNAPSHOT_EVERY is 10 in the tests: 15 batches of 10 cross 15 snapshot boundaries.
		let earlyBefore: unknown;
		for (let batch = 0; batch < 15; batch++) {
			const events = Array.from({ length: 10 }, (_, i) => pageView(`/p/${batch}/${i}`, now + batch * 10 + i));
			expect((await stub.recordBatch({ events })).ok).toBe(true);
			if (batch === 1) earlyBefore = await stub.readState(7);
		}
		const { version, snapshots } = await stub.describe();
		expect(snapshots).toHaveLength(SNAPSHOTS_KEPT);
		expect(snapshots[0]?.version).toBeGreaterThan(version - (SNAPSHOTS_KEPT + 1) * 10);
		// The snapshot at 10 is gone: state at 7 now folds from the start, and reads the same as before.
		expect(snapshots.some((s) => s.version <= 10)).toBe(false);
		expect(await stub.readState(7)).toEqual(earlyBefore);
		await expectIntact(stub);
	});
});
