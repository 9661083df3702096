/**
 * Sandboxes expire (src/actors/kernel/sandbox-expiry.ts, docs/console.md "Sandboxes and forks"): SANDBOX_EXPIRES_AFTER_MS
 * (7 days) after its last import, a sandbox's own alarm clears its storage as an erasure does, and it then reads as
 * an id never written. Through the real runtime, with a controlled clock and the real alarm.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SANDBOX_EXPIRES_AFTER_MS } from "../../src/actors/kernel/sandbox-expiry.ts";
import { actorName } from "../../src/core/identity.ts";
import { call, getJson, keyFor, pageView, postBatch, uniqueId } from "./helpers.ts";

const ORG = "acme-sandbox-expiry";
const DAY = 24 * 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own.
const T0 = Date.UTC(2033, 8, 1, 8, 0);
const path = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;
const stubOf = (id: string) => env.SESSION.getByName(actorName(ORG, id));

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

type Exported = { seq: number; actor?: unknown };
const rawEvents = async (id: string) => (await getJson<{ events: Exported[] }>(`${path(id)}/events?raw=true&limit=1000`)).events;
const storage = (id: string) =>
	runInDurableObject(stubOf(id), async (_, state) => ({
		alarm: await state.storage.getAlarm(),
		events: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n,
		meta: state.storage.sql
			.exec<{ key: string }>("SELECT key FROM actor_meta ORDER BY key")
			.toArray()
			.map((row) => row.key),
	}));

async function sourceSession(): Promise<string> {
	await keyFor(ORG);
	const source = uniqueId("s");
	const events = Array.from({ length: 6 }, (_, i) => pageView(`/p${i}`, T0 + i));
	expect((await postBatch(ORG, source, { events })).status).toBe(202);
	return source;
}

describe("sandbox expiry", () => {
	it("7 days after its last import a sandbox clears itself on its alarm and reads as an id never written", async () => {
		expect(SANDBOX_EXPIRES_AFTER_MS).toBe(7 * DAY);
		const source = await sourceSession();
		const forked = await call(`${path(source)}/fork`, { method: "POST", body: JSON.stringify({ at: 4 }) });
		expect(forked.status).toBe(201);
		const sandbox = (await forked.json<{ actor: { id: string } }>()).actor.id;
		expect(await storage(sandbox)).toMatchObject({ alarm: T0 + 7 * DAY, events: 4 });

		// A later import restarts the clock; the alarm set for the first expiry fires early, finds nothing due, and re-arms.
		vi.setSystemTime(T0 + 3 * DAY);
		const rest = (await rawEvents(source)).filter((e) => e.seq > 4).map(({ actor: _actor, ...event }) => event);
		expect((await call(`${path(sandbox)}/import`, { method: "POST", body: JSON.stringify({ events: rest }) })).status).toBe(200);
		expect((await storage(sandbox)).alarm).toBe(T0 + 7 * DAY);
		vi.setSystemTime(T0 + 7 * DAY + 1);
		expect(await runDurableObjectAlarm(stubOf(sandbox))).toBe(true);
		expect(await storage(sandbox)).toMatchObject({ alarm: T0 + 10 * DAY, events: 7 });
		expect((await getJson<{ version: number }>(`${path(sandbox)}/state`)).version).toBe(7);

		vi.setSystemTime(T0 + 10 * DAY);
		expect(await runDurableObjectAlarm(stubOf(sandbox))).toBe(true);
		// Cleared as an erasure clears an actor: no rows, no sandbox mark, no alarm; the tables are made again empty.
		expect(await storage(sandbox)).toMatchObject({ alarm: null, events: 0, meta: [] });
		const state = await getJson<{ version: number; state: unknown }>(`${path(sandbox)}/state`);
		const never = await getJson<{ version: number; state: unknown }>(`${path(uniqueId("s"))}/state`);
		expect(state).toEqual(never);
		expect(state.version).toBe(0);
		expect(await rawEvents(sandbox)).toEqual([]);
		expect(await getJson(`${path(sandbox)}/verify`)).toMatchObject({ ok: true, version: 0 });
		// Still empty after a wake, and nothing armed: an erased sandbox owes nothing.
		await evictDurableObject(stubOf(sandbox));
		expect(await storage(sandbox)).toMatchObject({ alarm: null, events: 0, meta: [] });
		expect(await runDurableObjectAlarm(stubOf(sandbox))).toBe(false);
		// The source is untouched.
		expect((await getJson<{ version: number }>(`${path(source)}/state`)).version).toBe(7);
	});

	it("a sandbox marked before its imports were timed expires 7 days after its next wake", async () => {
		const source = await sourceSession();
		const forked = await call(`${path(source)}/fork`, { method: "POST", body: JSON.stringify({ at: 7 }) });
		const sandbox = (await forked.json<{ actor: { id: string } }>()).actor.id;
		await runInDurableObject(stubOf(sandbox), async (_, state) => {
			state.storage.sql.exec("DELETE FROM actor_meta WHERE key = 'sandbox_written_at'");
			await state.storage.deleteAlarm();
		});
		vi.setSystemTime(T0 + 30 * DAY);
		await evictDurableObject(stubOf(sandbox));
		expect(await storage(sandbox)).toMatchObject({ alarm: T0 + 37 * DAY, events: 7 });
		vi.setSystemTime(T0 + 37 * DAY);
		expect(await runDurableObjectAlarm(stubOf(sandbox))).toBe(true);
		expect(await storage(sandbox)).toMatchObject({ alarm: null, events: 0, meta: [] });
	});

	it("an ordinary actor is never expired: its alarm runs its own timers only", async () => {
		const source = await sourceSession();
		vi.setSystemTime(T0 + 8 * DAY);
		await runDurableObjectAlarm(stubOf(source));
		// The inactivity timer ended the visit: session.started, six page views, session.ended.
		const after = await storage(source);
		expect(after.events).toBe(8);
		expect(after.meta).toEqual(["identity"]);
	});
});
