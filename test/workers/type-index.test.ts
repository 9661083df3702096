/**
 * The log's partial type index (src/actors/type-index.ts): reads of an indexed type go through it, reads of an
 * unindexed type (the SDK's) still answer by scanning, and a log written under the old full index reads the same
 * after migration 0004 replaced it.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { typeFilter } from "../../src/actors/log.ts";
import { isIndexedType, TYPE_INDEX_WHERE } from "../../src/actors/type-index.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { type ClientEvent, getJson, pageView, postBatch, uniqueId } from "./helpers.ts";

const ORG = "acme";
const path = (session: string) => `/v1/orgs/${ORG}/sessions/${session}`;
const stubOf = (session: string) => env.SESSION.getByName(actorName(ORG, session));
const COLUMNS = "seq, id, type, v, ts, data, meta, hash";

const custom = (name: string): ClientEvent => ({ id: uniqueId("e"), type: "session.custom", ts: Date.now(), data: { name } });

/** A session of one visit: its start (indexed), page views and custom events (unindexed), interleaved. */
async function sessionWith(pairs: number): Promise<string> {
	const session = uniqueId("s");
	const events = Array.from({ length: pairs }, (_, i) => [pageView(`/p${i}`, Date.now()), custom(`c${i}`)]).flat();
	const res = await postBatch(ORG, session, { events });
	expect(res.status).toBe(202);
	return session;
}

/** Every event of `type`, paged forwards through the events route (`?type=`), `limit` at a time. */
async function eventsOfType(session: string, type: string, limit = 7): Promise<EventEnvelope[]> {
	const out: EventEnvelope[] = [];
	let after = 0;
	for (;;) {
		const page = await getJson<{ events: EventEnvelope[]; next: number | null }>(
			`${path(session)}/events?type=${type}&after=${after}&limit=${limit}`,
		);
		out.push(...page.events);
		if (page.next === null) return out;
		after = page.next;
	}
}

/** Reads by type inside the object, through the log: newest first, and one page of several types. */
function readsInside(session: string) {
	return runInDurableObject(stubOf(session), (instance) => {
		const log = (instance as unknown as { log: import("../../src/actors/log.ts").EventLog }).log;
		const seqs = (rows: Iterable<{ seq: number }>) => [...rows].map((row) => row.seq);
		return {
			started: seqs(log.reverseByType("session.started", 10)),
			custom: seqs(log.reverseByType("session.custom", 100)),
			customBefore: seqs(log.reverseByType("session.custom", 3, 20)),
			mixed: seqs(log.reverseByTypes(["session.started", "session.page_viewed"], 5)),
		};
	});
}

/** What SQLite's planner does with the log's read by `types`, newest first. */
function plan(session: string, types: string[]): Promise<string> {
	return runInDurableObject(stubOf(session), (_instance, state) =>
		state.storage.sql
			.exec<{ detail: string }>(
				`EXPLAIN QUERY PLAN SELECT ${COLUMNS} FROM events WHERE ${typeFilter(types)} AND seq < ? ORDER BY seq DESC LIMIT ?`,
				...types,
				Number.MAX_SAFE_INTEGER,
				10,
			)
			.toArray()
			.map((row) => row.detail)
			.join("; "),
	);
}

const indexSql = (session: string) =>
	runInDurableObject(
		stubOf(session),
		(_instance, state) => state.storage.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'events_type_seq'").one().sql,
	);

describe("the partial type index", () => {
	it("leaves the SDK's types out and keeps the session's own; reads of both answer in seq order", async () => {
		expect(isIndexedType("session.started")).toBe(true);
		expect(isIndexedType("session.page_viewed")).toBe(false);
		const session = await sessionWith(12);
		expect(await indexSql(session)).toContain(`WHERE ${TYPE_INDEX_WHERE}`);

		const views = await eventsOfType(session, "session.page_viewed");
		expect(views.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => 2 + 2 * i));
		expect(views.every((e) => e.type === "session.page_viewed")).toBe(true);
		expect((await eventsOfType(session, "session.started")).map((e) => e.seq)).toEqual([1]);

		expect(await readsInside(session)).toEqual({
			started: [1],
			custom: Array.from({ length: 12 }, (_, i) => 25 - 2 * i),
			customBefore: [19, 17, 15],
			mixed: [24, 22, 20, 18, 16],
		});
	});

	it("a read of an indexed type uses the index; one of an unindexed type scans the log in seq order", async () => {
		const session = await sessionWith(2);
		expect(await plan(session, ["session.started"])).toContain("INDEX events_type_seq");
		expect(await plan(session, ["session.started", "session.ended"])).toContain("INDEX events_type_seq");
		const unindexed = await plan(session, ["session.page_viewed"]);
		expect(unindexed).not.toContain("events_type_seq");
		expect(await plan(session, ["session.started", "session.page_viewed"])).not.toContain("events_type_seq");
	});

	it("a log written under the old full index reads the same after the migration replaces it", async () => {
		const session = await sessionWith(12);
		const before = await readsInside(session);
		// Back to the schema of migration 0003: the full index, and 0004 not yet applied.
		await runInDurableObject(stubOf(session), (_instance, state) => {
			const { sql } = state.storage;
			sql.exec("DROP INDEX events_type_seq");
			sql.exec("CREATE INDEX events_type_seq ON events (type, seq)");
			sql.exec("DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)");
		});
		expect(await indexSql(session)).not.toContain("WHERE");
		await evictDurableObject(stubOf(session));

		// The next wake migrates: the partial index, and every read by type as before.
		expect(await readsInside(session)).toEqual(before);
		expect(await indexSql(session)).toContain(`WHERE ${TYPE_INDEX_WHERE}`);
		expect(await plan(session, ["session.started"])).toContain("INDEX events_type_seq");
		expect((await eventsOfType(session, "session.custom")).map((e) => e.seq)).toEqual(before.custom.slice().reverse());
		expect(await getJson(`${path(session)}/verify`)).toMatchObject({ ok: true, version: 25 });
	});
});
