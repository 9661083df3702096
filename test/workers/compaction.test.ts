/** Log compaction (src/actors/kernel/compaction.ts): a prefix to R2 segments, a checkpoint, verify from it, 410 before it. */
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventPage, ReplayReport } from "../../src/actors/actor.ts";
import { ChainChecker, parseLine } from "../../src/cli/chain.ts";
import { actorName } from "../../src/core/identity.ts";
import { call, keyFor, pageView, uniqueId } from "./helpers.ts";

const ORG = "acme-compaction";

describe("log compaction", () => {
	it("moves the old prefix to a segment, keeps state and chain, answers 410 before the checkpoint and keeps ids deduplicated", async () => {
		await keyFor(ORG);
		const id = uniqueId("s");
		const stub = env.SESSION.getByName(actorName(ORG, id));
		const now = Date.now();
		const old = Array.from({ length: 25 }, (_, i) => pageView(`/old/${i}`, now - 60_000 + i));
		expect((await stub.recordBatch({ events: old })).ok).toBe(true);
		const fresh = Array.from({ length: 5 }, (_, i) => pageView(`/new/${i}`, now + i));
		expect((await stub.recordBatch({ events: fresh })).ok).toBe(true);
		const before = await stub.readState();
		const fullChain: EventPage = await stub.readEvents({ limit: 1000, raw: true });

		const report = await stub.compactLog({ before: now - 30_000 });
		if (!report.ok) throw new Error(JSON.stringify(report.error));
		// session.started + 25 old page views are older than `before`.
		expect(report.value.checkpoint.seq).toBe(26);
		expect(report.value.compacted).toBe(26);
		expect(report.value.segments).toHaveLength(1);
		// Idempotent: a second run compacts nothing more.
		const again = await stub.compactLog({ before: now - 30_000 });
		expect(again.ok && again.value.compacted).toBe(0);

		expect(await stub.verifyChain()).toMatchObject({ ok: true, version: 31 });
		// The segment holds the compacted events with their stored hashes, and checks offline against its header.
		const key = report.value.segments[0] as string;
		expect(key.startsWith(`segments/${ORG}/`)).toBe(true);
		const text = await (await env.ARCHIVE.get(key))?.text();
		const [headerLine, ...lines] = (text ?? "").trim().split("\n");
		const header = JSON.parse(headerLine as string).segment;
		const checker = new ChainChecker(header.fromSeq - 1, header.prevHash);
		for (const [i, line] of lines.entries()) expect(checker.push(parseLine(line, i + 2))).toBe(true);
		expect(checker.result.headHash).toBe(header.headHash);
		expect(header.headHash).toBe(report.value.checkpoint.hash);
		expect(lines.map((l) => JSON.parse(l).hash)).toEqual(fullChain.events.slice(0, 26).map((e) => e.hash));

		// Reads before the checkpoint are gone, pointing to the archive; after it they are as before.
		const gone = await call(`/v1/orgs/${ORG}/sessions/${id}/events?after=0`);
		expect(gone.status).toBe(410);
		expect(gone.headers.get("content-type")).toContain("application/problem+json");
		expect(((await gone.json()) as { gone: { archive: string[] } }).gone.archive).toEqual([key]);
		const stateGone = await call(`/v1/orgs/${ORG}/sessions/${id}/state?at=10`);
		expect(stateGone.status).toBe(410);
		const page = await call(`/v1/orgs/${ORG}/sessions/${id}/events?after=26`);
		expect(((await page.json()) as { events: unknown[] }).events).toHaveLength(5);

		// State survives a wake; a compacted id is still a duplicate.
		await evictDurableObject(stub);
		const woken = env.SESSION.getByName(actorName(ORG, id));
		expect((await woken.readState()).ok && (await woken.readState())).toEqual(before);
		const repeat = await woken.recordBatch({ events: [old[3] as (typeof old)[number]] });
		expect(repeat.ok && repeat.value).toMatchObject({ accepted: 0, duplicates: 1 });
		const replay: ReplayReport = await woken.replayCheck();
		expect(replay.ok).toBe(true);
		expect(await woken.verifyChain()).toMatchObject({ ok: true });
	});
});
