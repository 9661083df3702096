import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppendReceipt, EventPage } from "../../src/actors/actor.ts";
import type { SessionActor } from "../../src/actors/session.ts";
import { actorName } from "../../src/core/identity.ts";
import type { Outcome } from "../../src/core/outcome.ts";
import type { ProposedEvent, RecordedEvent } from "../../src/events/envelope.ts";
import { fold } from "../../src/reducers/definition.ts";
import { sessionDefinition } from "../../src/reducers/session.ts";
import { allEvents, call, getJson, pageView, postBatch, uniqueId } from "./helpers.ts";
import { probeStub } from "./support/probe-worker.ts";

const ORG = "acme";
const sessionPath = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;
const stubOf = (id: string) => env.SESSION.getByName(actorName(ORG, id));

/** The kernel's protected execute, reached from inside the object as a test would from a subclass. */
type Kernel = { execute<R>(options: object, plan: () => { events: ProposedEvent[]; result: (receipt: AppendReceipt) => R }): Outcome<R> };
/** Appends events as they are, through the kernel's command path; the receipt is the answer. */
const append = (kernel: Kernel, events: ProposedEvent[]) => kernel.execute({}, () => ({ events, result: (receipt) => receipt }));

const replayed = (events: RecordedEvent[]) => fold(sessionDefinition, events);

describe("idempotency", () => {
	it("a repeated event id is reported as a duplicate and not stored", async () => {
		const session = uniqueId("s");
		const [a, b, c] = [pageView("/a"), pageView("/b"), pageView("/c")];
		const first = await postBatch(ORG, session, { events: [a, b] });
		expect(await first.json()).toEqual({ accepted: 2, duplicates: 0, version: 3 });
		const retry = await postBatch(ORG, session, { events: [a, b, c] });
		expect(retry.status).toBe(202);
		expect(await retry.json()).toEqual({ accepted: 1, duplicates: 2, version: 4 });
		const twiceInOneBatch = await postBatch(ORG, session, { events: [pageView("/d"), { ...c }, { ...c }] });
		expect(await twiceInOneBatch.json()).toEqual({ accepted: 1, duplicates: 2, version: 5 });

		const ids = (await allEvents(sessionPath(session))).map((e) => e.id);
		expect(ids).toHaveLength(5);
		expect(new Set(ids).size).toBe(5);
	});

	it("a stored id late in a long batch rolls the whole first attempt back: new events land once, state counts them once", async () => {
		// The kernel inserts first and lets the unique id index find repeats. Here the repeat sits in the third
		// 12-row INSERT of the batch, so two statements had already run when SQLite refused the row.
		const session = uniqueId("s");
		const stored = Array.from({ length: 5 }, (_, i) => pageView(`/stored-${i}`));
		await postBatch(ORG, session, { events: stored });
		const fresh = Array.from({ length: 30 }, (_, i) => pageView(`/fresh-${i}`));
		const mixed = [...fresh.slice(0, 28), stored[3], ...fresh.slice(28), stored[0]];
		const res = await postBatch(ORG, session, { events: mixed });
		expect(await res.json()).toEqual({ accepted: 30, duplicates: 2, version: 36 });

		const events = await allEvents(sessionPath(session));
		expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
		expect(new Set(events.map((e) => e.id)).size).toBe(36);
		const state = await getJson<{ version: number; state: { visit: { pageViews: number; events: number } } }>(
			`${sessionPath(session)}/state`,
		);
		expect(state.version).toBe(36);
		expect(state.state.visit).toMatchObject({ pageViews: 35, events: 35 });
		expect((await getJson<{ ok: boolean }>(`${sessionPath(session)}/verify`)).ok).toBe(true);
		// The state kept in memory is the one a replay of the stored log gives.
		expect(state.state).toEqual(replayed(events));
	});

	it("a kernel append that repeats a stored id stores only the new events and reports the repeat", async () => {
		const session = uniqueId("s");
		const first = pageView("/a");
		await postBatch(ORG, session, { events: [first] });
		const receipt = await runInDurableObject(stubOf(session), (instance: SessionActor) => {
			const kernel = instance as unknown as Kernel;
			return append(kernel, [
				{ id: uniqueId("e"), type: "session.page_viewed", ts: 1_700_000_000_007, data: { url: "https://x/b", path: "/b" } },
				{ ...first, ts: first.ts },
			]);
		});
		expect(receipt.ok).toBe(true);
		if (receipt.ok) {
			expect(receipt.value.duplicates).toEqual([first.id]);
			expect(receipt.value.appended.map((e) => e.seq)).toEqual([3]);
			expect(receipt.value.version).toBe(3);
		}
		expect((await getJson<{ ok: boolean; version: number }>(`${sessionPath(session)}/verify`)).version).toBe(3);
	});

	it("a repeated client action id returns the first result and appends nothing new", async () => {
		const session = uniqueId("s");
		const first = await postBatch(ORG, session, { clientActionId: "act-1", events: [pageView("/a")] });
		const firstBody = await first.json();
		const again = await postBatch(ORG, session, { clientActionId: "act-1", events: [pageView("/other")] });
		expect(again.status).toBe(202);
		expect(await again.json()).toEqual(firstBody);
		const events = await allEvents(sessionPath(session));
		expect(events.map((e) => e.type)).toEqual(["session.started", "session.page_viewed"]);
		expect(events[1]?.meta.clientActionId).toBe("act-1");
	});

	it("the ledger keeps the newest CLIENT_ACTIONS_KEPT client action ids; an older id runs again and its events stay deduplicated", async () => {
		const kept = Number(env.CLIENT_ACTIONS_KEPT);
		expect(kept).toBe(100);
		const session = uniqueId("s");
		const stub = stubOf(session);
		const oldest = pageView("/0");
		const first = await stub.recordBatch({ clientActionId: "act-0", events: [oldest] });
		expect(first).toEqual({ ok: true, value: { accepted: 1, duplicates: 0, version: 2 } });
		for (let n = 1; n <= kept; n++)
			expect((await stub.recordBatch({ clientActionId: `act-${n}`, events: [pageView(`/${n}`)] })).ok).toBe(true);
		const ledger = () =>
			runInDurableObject(stub, (_, state) =>
				state.storage.sql
					.exec<{ id: string }>("SELECT id FROM client_actions ORDER BY rowid")
					.toArray()
					.map((row) => row.id),
			);
		const held = await ledger();
		expect(held).toHaveLength(kept);
		expect(held[0]).toBe("act-1");
		expect(held).not.toContain("act-0");
		const version = kept + 2;

		// Within the window: the recorded result, even for other events, and nothing appended.
		expect(await stub.recordBatch({ clientActionId: "act-1", events: [pageView("/other")] })).toEqual({
			ok: true,
			value: { accepted: 1, duplicates: 0, version: 3 },
		});
		// Past it: the batch runs again, and its event, still in the log, is a duplicate.
		expect(await stub.recordBatch({ clientActionId: "act-0", events: [oldest] })).toEqual({
			ok: true,
			value: { accepted: 0, duplicates: 1, version },
		});
		// Still after its row is compacted to R2: compacted_ids keeps the id.
		const compacted = await stub.compactLog({ before: oldest.ts + 1 });
		expect(compacted.ok && compacted.value.checkpoint.seq).toBe(2);
		expect(await stub.recordBatch({ clientActionId: "act-0b", events: [oldest] })).toEqual({
			ok: true,
			value: { accepted: 0, duplicates: 1, version },
		});
		const page: EventPage = await stub.readEvents({ after: 2, limit: 1000 });
		expect(page.events.map((e) => e.id)).not.toContain(oldest.id);
		expect(page.events).toHaveLength(kept);
		expect(await ledger()).toHaveLength(kept);
		expect((await ledger()).at(-1)).toBe("act-0b");
	});
});

describe("optimistic concurrency", () => {
	it("a stale expectedVersion is a 409 with the current version and appends nothing", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a")] });
		const stale = await postBatch(ORG, session, { expectedVersion: 1, events: [pageView("/b")] });
		expect(stale.status).toBe(409);
		expect(stale.headers.get("content-type")).toContain("application/problem+json");
		expect(await stale.json()).toMatchObject({ status: 409, currentVersion: 2 });
		expect((await getJson<{ version: number }>(`${sessionPath(session)}/state`)).version).toBe(2);

		const current = await postBatch(ORG, session, { expectedVersion: 2, events: [pageView("/b")] });
		expect(await current.json()).toMatchObject({ accepted: 1, version: 3 });
	});
});

describe("atomic batches", () => {
	it("one invalid event rejects the whole batch, names the field, and stores nothing", async () => {
		const session = uniqueId("s");
		const bad = { id: uniqueId("e"), type: "session.page_viewed", ts: 1_700_000_000_001, data: { path: "/x" } };
		const res = await postBatch(ORG, session, { events: [pageView("/a"), pageView("/b"), bad] });
		expect(res.status).toBe(400);
		const body = await res.json<{ errors: { path: string }[] }>();
		expect(body.errors.map((e) => e.path)).toEqual(["events[2].data.url"]);
		expect(await allEvents(sessionPath(session))).toEqual([]);
		expect((await getJson<{ version: number }>(`${sessionPath(session)}/state`)).version).toBe(0);
	});

	it("events the session emits itself cannot be submitted by a client", async () => {
		const res = await postBatch(ORG, uniqueId("s"), {
			events: [{ id: "x1", type: "session.ended", ts: 1_700_000_000_001, data: { reason: "inactivity", summary: {} } }],
		});
		expect(res.status).toBe(400);
		expect((await res.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("events[0].type");
	});

	it("an event whose reduction throws rejects the batch and leaves log and state untouched", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a")] });
		const stub = stubOf(session);
		const outcome = await runInDurableObject(stub, (instance: SessionActor) => {
			const kernel = instance as unknown as Kernel;
			// A second start while a visit is open is refused by the reducer.
			return append(kernel, [
				{ id: uniqueId("e"), type: "session.page_viewed", ts: 1_700_000_000_005, data: { url: "https://x/y", path: "/y" } },
				{ id: uniqueId("e"), type: "session.started", ts: 1_700_000_000_006, data: { visit: 2 } },
			]);
		});
		expect(outcome.ok).toBe(false);
		if (!outcome.ok) {
			expect(outcome.error.kind).toBe("rejected");
			expect(outcome.error.detail).toContain("already open");
		}
		const events = await allEvents(sessionPath(session));
		expect(events).toHaveLength(2);
		const state = await getJson<{ version: number; state: { visit: { pageViews: number } } }>(`${sessionPath(session)}/state`);
		expect(state.version).toBe(2);
		expect(state.state.visit.pageViews).toBe(1);
		expect((await getJson<{ ok: boolean }>(`${sessionPath(session)}/verify`)).ok).toBe(true);
	});
});

describe("snapshots", () => {
	it("state rebuilt from the newest snapshot plus the tail equals a full replay", async () => {
		const session = uniqueId("s");
		for (let i = 0; i < 5; i++) {
			await postBatch(ORG, session, { events: Array.from({ length: 7 }, (_, j) => pageView(`/p${i}-${j % 3}`)) });
		}
		const stub = stubOf(session);
		const described = await stub.describe();
		expect(described.version).toBe(36);
		// SNAPSHOT_EVERY is 10 in tests: a snapshot is written by each batch that crosses a multiple of 10.
		expect(described.snapshots.map((s) => s.version)).toEqual([15, 22, 36]);

		await evictDurableObject(stub);
		const rebuilt = await getJson<{ version: number; state: unknown }>(`${sessionPath(session)}/state`);
		expect(rebuilt.version).toBe(36);
		expect(rebuilt.state).toEqual(replayed(await allEvents(sessionPath(session))));
	});

	it("a snapshot from another reducer version, or one that fails its checksum, is passed over", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: Array.from({ length: 24 }, (_, i) => pageView(`/q${i}`)) });
		const stub = stubOf(session);
		await runInDurableObject(stub, (_instance, state) => {
			const sql = state.storage.sql;
			// A foreign tag at the head version, carrying a state that would be obviously wrong.
			const bogus = new TextEncoder().encode(JSON.stringify({ status: "bogus" }));
			sql.exec("DELETE FROM snapshots WHERE version = 25");
			sql.exec("DELETE FROM snapshot_parts WHERE version = 25");
			sql.exec("INSERT INTO snapshots VALUES (25, 'session@0', 1, ?, 'x')", bogus.length);
			sql.exec("INSERT INTO snapshot_parts VALUES (25, 0, ?)", bogus);
		});
		await evictDurableObject(stub);
		const expected = replayed(await allEvents(sessionPath(session)));
		expect((await getJson<{ state: unknown }>(`${sessionPath(session)}/state`)).state).toEqual(expected);

		await runInDurableObject(stub, (_instance, state) => {
			// Corrupt the newest real snapshot's bytes: its checksum no longer matches.
			const newest = state.storage.sql
				.exec<{ version: number }>("SELECT max(version) AS version FROM snapshots WHERE reducer_version = 'session@1'")
				.one();
			state.storage.sql.exec(
				"UPDATE snapshot_parts SET chunk = ? WHERE version = ?",
				new TextEncoder().encode('{"status":"new"}'),
				newest.version,
			);
		});
		await evictDurableObject(stub);
		expect((await getJson<{ state: unknown }>(`${sessionPath(session)}/state`)).state).toEqual(expected);
	});

	it("a state larger than one SQLite row snapshots across rows and restores", async () => {
		// A probe actor keeps what it is sent (a session no longer can: its visit is capped).
		const stub = probeStub(env, uniqueId("big"));
		const text = (i: number) => `${String(i).padStart(6, "0")}/${"x".repeat(1990)}`;
		for (let batch = 0; batch < 6; batch++) {
			const outcome = await stub.hold(
				Array.from({ length: 200 }, (_, i) => text(batch * 200 + i)),
				batch * 200,
			);
			expect(outcome.ok).toBe(true);
		}
		const newest = (await stub.describe()).snapshots.at(-1);
		expect(newest?.bytes).toBeGreaterThan(2_000_000);
		expect(newest?.parts).toBeGreaterThanOrEqual(3);

		await evictDurableObject(stub);
		const state = await stub.probeState();
		expect(state.held).toHaveLength(1200);
		expect(state.held[1199]).toBe(text(1199));
	});
});

describe("schema evolution", () => {
	/** A page view as version 1 wrote it: no path, which the upcaster to version 2 derives from the url. */
	const v1PageView = () => ({
		id: uniqueId("e"),
		type: "session.page_viewed",
		v: 1,
		ts: 1_700_000_000_010,
		data: { url: "https://shop.example/cart?step=2" },
	});

	it("an event stored at an old version is read upcast, and raw reads show it as stored", async () => {
		const session = uniqueId("s");
		const old = v1PageView();
		expect((await postBatch(ORG, session, { events: [old] })).status).toBe(202);

		const [, upcast] = await allEvents(sessionPath(session));
		expect(upcast).toMatchObject({ v: 2, data: { url: old.data.url, path: "/cart" } });
		const raw = await getJson<{ events: { v: number; data: unknown }[] }>(`${sessionPath(session)}/events?raw=true`);
		expect(raw.events[1]).toMatchObject({ v: 1, data: { url: old.data.url } });
		expect(raw.events[1]?.data).not.toHaveProperty("path");
		const { state } = await getJson<{ state: { currentPage: string } }>(`${sessionPath(session)}/state`);
		expect(state.currentPage).toBe("/cart");

		// Still upcast after a cold rebuild from the log.
		await evictDurableObject(stubOf(session));
		expect((await getJson<{ state: { currentPage: string } }>(`${sessionPath(session)}/state`)).state.currentPage).toBe("/cart");
	});

	it("the newest events of a type are read upcast, like every other read of the log", async () => {
		const session = uniqueId("s");
		const old = v1PageView();
		await postBatch(ORG, session, { events: [old, pageView("/b")] });
		const newest = await runInDurableObject(stubOf(session), (instance: SessionActor) => {
			const kernel = instance as unknown as { newestOfType(type: string, limit: number, before?: number): Iterable<RecordedEvent> };
			return [...kernel.newestOfType("session.page_viewed", 10)].map(({ seq, v, data }) => ({ seq, v, data }));
		});
		expect(newest.map((e) => e.seq)).toEqual([3, 2]);
		expect(newest[1]).toEqual({ seq: 2, v: 2, data: { url: old.data.url, path: "/cart" } });
	});

	it("a version the catalog does not know is refused, naming the field", async () => {
		const res = await postBatch(ORG, uniqueId("s"), { events: [{ ...pageView("/a"), v: 7 }] });
		expect(res.status).toBe(400);
		expect((await res.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("events[0].v");
	});
});

describe("reads", () => {
	it("state at every version equals the fold of the log up to that version", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: Array.from({ length: 12 }, (_, i) => pageView(`/r${i % 4}`)) });
		await postBatch(ORG, session, {
			events: [
				{ id: uniqueId("e"), type: "session.identified", ts: 1_700_000_000_000, data: { userId: "u-1", traits: { plan: "pro" } } },
				{ id: uniqueId("e"), type: "session.custom", ts: 1_700_000_000_001, data: { name: "add_to_cart", props: { sku: "A1" } } },
				{ id: uniqueId("e"), type: "session.clicked", ts: 1_700_000_000_002, data: { target: "main > button.buy" } },
				{ id: uniqueId("e"), type: "session.error", ts: 1_700_000_000_003, data: { message: "TypeError: x is undefined" } },
			],
		});
		const events = await allEvents(sessionPath(session));
		expect(events).toHaveLength(17);
		for (let at = 0; at <= events.length; at++) {
			const res = await getJson<{ version: number; state: unknown }>(`${sessionPath(session)}/state?at=${at}`);
			expect(res.version).toBe(at);
			expect(res.state).toEqual(replayed(events.slice(0, at)));
		}
		const beyond = await call(`${sessionPath(session)}/state?at=18`);
		expect(beyond.status).toBe(400);
		expect((await beyond.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("at");
	});

	it("events page by seq and filter by type", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, {
			events: [
				pageView("/a"),
				{ id: uniqueId("e"), type: "session.clicked", ts: 1_700_000_000_005, data: { target: "a" } },
				pageView("/b"),
				pageView("/c"),
			],
		});
		const first = await getJson<{ events: { seq: number }[]; next: number | null }>(`${sessionPath(session)}/events?limit=2`);
		expect(first.events.map((e) => e.seq)).toEqual([1, 2]);
		expect(first.next).toBe(2);
		const second = await getJson<{ events: { seq: number }[]; next: number | null }>(`${sessionPath(session)}/events?after=2&limit=3`);
		expect(second.events.map((e) => e.seq)).toEqual([3, 4, 5]);
		expect(second.next).toBeNull();
		const views = await getJson<{ events: { seq: number; type: string }[] }>(`${sessionPath(session)}/events?type=session.page_viewed`);
		expect(views.events.map((e) => e.seq)).toEqual([2, 4, 5]);
	});

	it("every envelope carries the actor, meta and a hash chained to the previous event", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a"), pageView("/b")] }, { "x-request-id": "req-123" });
		const events = await allEvents(sessionPath(session));
		expect(events[0]).toMatchObject({ seq: 1, type: "session.started", actor: { kind: "session", org: ORG, id: session } });
		expect(events[1]?.meta).toMatchObject({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), clientRequestId: "req-123" });
		expect(new Set(events.map((e) => e.hash)).size).toBe(3);
		const verify = await getJson<{ ok: boolean; version: number; headHash: string }>(`${sessionPath(session)}/verify`);
		expect(verify).toEqual({ ok: true, version: 3, headHash: events[2]?.hash });
	});
});

describe("verification", () => {
	it("a tampered row is found at its seq, and so is a missing one", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a"), pageView("/b"), pageView("/c"), pageView("/d")] });
		expect((await getJson<{ ok: boolean }>(`${sessionPath(session)}/verify`)).ok).toBe(true);
		const stub = stubOf(session);
		await runInDurableObject(stub, (_i, state) => {
			state.storage.sql.exec(`UPDATE events SET data = '{"url":"https://evil/x","path":"/x"}' WHERE seq = 3`);
		});
		expect(await getJson(`${sessionPath(session)}/verify`)).toMatchObject({ ok: false, brokenAt: 3 });

		await runInDurableObject(stub, (_i, state) => {
			state.storage.sql.exec("DELETE FROM events WHERE seq IN (2, 3)");
		});
		expect(await getJson(`${sessionPath(session)}/verify`)).toMatchObject({ ok: false, brokenAt: 2 });
	});
});

describe("identity", () => {
	it("the actor stores who it is with its first event, so an alarm-only wake knows it", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a")] });
		const stored = await runInDurableObject(stubOf(session), (_i, state) =>
			state.storage.sql.exec<{ value: string }>("SELECT value FROM actor_meta WHERE key = 'identity'").one(),
		);
		expect(JSON.parse(stored.value)).toEqual({ kind: "session", org: ORG, id: session });
	});
});
