/**
 * Backfill (docs/api.md, "Backfill") through the real runtime with a controlled clock: past web events, camera
 * batches and chat messages are appended with `meta.backfilled`, end and hand over at their own times, roll up into
 * the past day they belong to, count once however often they are sent, and are validated like ingest.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { allEvents, call, createKey, createOrg, expectProblem, getJson, pageView, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// The org is created at midnight; "now" is three days and five hours later; the backfilled day is the second one.
const T0 = Date.UTC(2031, 8, 10);
const NOW = T0 + 3 * DAY + 5 * HOUR;
const DAY1 = T0 + DAY + 10 * HOUR;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const backfill = (org: TestOrg, body: unknown, key = org.key) =>
	call(`/v1/orgs/${org.org}/backfill`, { method: "POST", headers: bearer(key), body: JSON.stringify(body) });

interface Recorded {
	id: string;
	source: string;
	startedAt: number;
	endedAt: number;
	summary: Record<string, unknown>;
}
const interactions = async (org: TestOrg) =>
	(await getJson<{ interactions: Recorded[] }>(`/v1/orgs/${org.org}/interactions?limit=1000`, { headers: bearer(org.key) })).interactions;

/** The org's interactions once `count` have arrived (the actors' outboxes deliver right after their commits). */
async function arrived(org: TestOrg, count: number): Promise<Recorded[]> {
	return vi.waitFor(
		async () => {
			const found = await interactions(org);
			if (found.length < count) throw new Error(`${found.length} interactions so far`);
			return found;
		},
		{ timeout: 5_000, interval: 50 },
	);
}

async function orgAt(name: string): Promise<TestOrg> {
	vi.setSystemTime(T0);
	const org = await createOrg(name);
	vi.setSystemTime(NOW);
	return org;
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
});
afterEach(() => {
	vi.useRealTimers();
});

describe("web backfill", () => {
	it("a past visit ends at its last event + the inactivity, the org records it at those times, and the day's rollup counts it", async () => {
		const org = await orgAt("Backfill web");
		const session = uniqueId("s");
		const events = [pageView("/", DAY1), pageView("/shoes", DAY1 + 5 * 60_000)];
		const res = await backfill(org, { source: "web", session, events });
		expect(res.status).toBe(202);
		expect(await res.json()).toEqual({ source: "web", accepted: 2, duplicates: 0 });

		const stub = env.SESSION.getByName(actorName(org.org, session));
		await runDurableObjectAlarm(stub);
		const log = await allEvents(`/v1/orgs/${org.org}/sessions/${session}`, { headers: bearer(org.key) });
		expect(log.map((e) => e.type)).toEqual(["session.started", "session.page_viewed", "session.page_viewed", "session.ended"]);
		expect(log.slice(0, 3).every((e) => e.meta.backfilled === true)).toBe(true);
		const endedAt = DAY1 + 5 * 60_000 + HOUR;
		expect(log.at(-1)).toMatchObject({ type: "session.ended", ts: endedAt });

		const [visit] = await arrived(org, 1);
		expect(visit).toMatchObject({ source: "web", startedAt: DAY1, endedAt, summary: expect.objectContaining({ pageViews: 2 }) });

		const run = await call(`/v1/orgs/${org.org}/rollups`, {
			method: "POST",
			headers: bearer(org.key),
			body: JSON.stringify({ period: "daily" }),
		});
		expect(run.status).toBe(201);
		const daily = await getJson<{
			rollups: { start: number; metrics: { interactions: number; web: { sessions: number; pageViews: number } } }[];
		}>(`/v1/orgs/${org.org}/patterns?period=daily`, { headers: bearer(org.key) });
		const day = daily.rollups.find((r) => r.start === T0 + DAY);
		expect(day?.metrics).toMatchObject({ interactions: 1, web: { sessions: 1, pageViews: 2 } });
		expect(daily.rollups.filter((r) => r.start !== T0 + DAY).every((r) => r.metrics.interactions === 0)).toBe(true);
	});

	it("the same backfill again appends nothing and counts nothing twice", async () => {
		const org = await orgAt("Backfill repeat");
		const session = uniqueId("s");
		const body = { source: "web", session, events: [pageView("/", DAY1), pageView("/a", DAY1 + 1_000)] };
		expect((await backfill(org, body)).status).toBe(202);
		await runDurableObjectAlarm(env.SESSION.getByName(actorName(org.org, session)));
		await arrived(org, 1);
		const again = await backfill(org, body);
		expect(await again.json()).toEqual({ source: "web", accepted: 0, duplicates: 2 });
		await runDurableObjectAlarm(env.SESSION.getByName(actorName(org.org, session)));
		expect(await interactions(org)).toHaveLength(1);
		const log = await allEvents(`/v1/orgs/${org.org}/sessions/${session}`, { headers: bearer(org.key) });
		expect(log.filter((e) => e.type === "session.started")).toHaveLength(1);
	});

	it("a backfilled visit ends after the org's own inactivity setting", async () => {
		const org = await orgAt("Backfill short");
		const put = await call(`/v1/orgs/${org.org}/settings`, {
			method: "PUT",
			headers: bearer(org.key),
			body: JSON.stringify({ sessionInactivitySeconds: 120 }),
		});
		expect(put.status).toBe(200);
		const session = uniqueId("s");
		expect((await backfill(org, { source: "web", session, events: [pageView("/", DAY1)] })).status).toBe(202);
		await runDurableObjectAlarm(env.SESSION.getByName(actorName(org.org, session)));
		const [visit] = await arrived(org, 1);
		expect(visit).toMatchObject({ startedAt: DAY1, endedAt: DAY1 + 120_000 });
	});
});

describe("camera and chat backfill", () => {
	it("camera batches become interactions at their own times, once, without touching the live camera", async () => {
		const org = await orgAt("Backfill cctv");
		const camera = uniqueId("c");
		const batches = [
			{ start: DAY1, end: DAY1 + 300_000, frames: 30, motion: 0.5, people: 2, summary: "two people at the door" },
			{ start: DAY1 + 300_000, end: DAY1 + 600_000, frames: 30, motion: 0, people: 0 },
		];
		const res = await backfill(org, { source: "cctv", camera, batches });
		expect(await res.json()).toEqual({ source: "cctv", accepted: 2, duplicates: 0 });
		await runDurableObjectAlarm(env.CAMERA.getByName(actorName(org.org, camera))); // its outbox hands the batches over
		const found = await arrived(org, 2);
		expect(found.map((i) => [i.source, i.startedAt, i.endedAt, i.summary.frames, i.summary.motionFrames, i.summary.peopleSeen])).toEqual([
			["cctv", DAY1, DAY1 + 300_000, 30, 15, 2],
			["cctv", DAY1 + 300_000, DAY1 + 600_000, 30, 0, 0],
		]);
		expect(await (await backfill(org, { source: "cctv", camera, batches })).json()).toEqual({ source: "cctv", accepted: 0, duplicates: 2 });
		const { state } = await getJson<{ state: { status: string; batchesBackfilled: number; batch: unknown } }>(
			`/v1/orgs/${org.org}/cameras/${camera}/state`,
			{ headers: bearer(org.key) },
		);
		expect(state).toMatchObject({ status: "new", batchesBackfilled: 2, batch: null });
		expect(await interactions(org)).toHaveLength(2);
	});

	it("chat messages become one interaction per exchange at their own times, once", async () => {
		const org = await orgAt("Backfill chat");
		const chat = uniqueId("chat");
		const messages = [
			{ role: "user", text: "Do you have red shoes?", at: DAY1 },
			{ role: "assistant", text: "Yes, in sizes 38 to 44.", at: DAY1 + 20_000 },
			{ role: "user", text: "And blue ones?", at: DAY1 + 60_000 },
			{ role: "assistant", text: "Not this season.", at: DAY1 + 75_000 },
		];
		const res = await backfill(org, { source: "chat", chat, messages });
		expect(await res.json()).toEqual({ source: "chat", accepted: 4, duplicates: 0 });
		await runDurableObjectAlarm(env.CHAT.getByName(actorName(org.org, chat))); // its outbox hands the exchanges over
		const found = await arrived(org, 2);
		expect(found.map((i) => [i.source, i.startedAt, i.endedAt, i.summary.messages])).toEqual([
			["chat", DAY1, DAY1 + 20_000, 2],
			["chat", DAY1 + 60_000, DAY1 + 75_000, 2],
		]);
		expect(await (await backfill(org, { source: "chat", chat, messages })).json()).toEqual({ source: "chat", accepted: 0, duplicates: 4 });
		expect(await interactions(org)).toHaveLength(2);
		const log = await allEvents(`/v1/orgs/${org.org}/chats/${chat}`, { headers: bearer(org.key) });
		expect(log.every((e) => e.type === "chat.message_backfilled" && e.meta.backfilled === true)).toBe(true);
	});
});

describe("backfill input and access", () => {
	const web = (events: unknown[]) => ({ source: "web", session: "s-1", events });
	const cctv = (batch: unknown) => ({ source: "cctv", camera: "c-1", batches: [batch] });
	const chat = (messages: unknown[]) => ({ source: "chat", chat: "x-1", messages });
	it.each([
		["a future ts", "events[0].ts", () => web([pageView("/", NOW + 60_000)])],
		["a ts more than 400 days ago", "events[0].ts", () => web([pageView("/", NOW - 401 * DAY)])],
		["an internal event type", "events[0].type", () => web([{ ...pageView("/", DAY1), type: "session.ended" }])],
		["a bad event id", "events[0].id", () => web([{ ...pageView("/", DAY1), id: "bad id" }])],
		["no session", "session", () => ({ source: "web", events: [pageView("/", DAY1)] })],
		["an unknown source", "source", () => ({ source: "fax", session: "s-1", events: [] })],
		["an unknown field", "extra", () => ({ ...web([pageView("/", DAY1)]), extra: 1 })],
		["more than 500 events", "events", () => web(Array.from({ length: 501 }, (_, i) => pageView(`/${i}`, DAY1)))],
		["a motion above 1", "batches[0].motion", () => cctv({ start: DAY1, end: DAY1 + 1, frames: 1, motion: 2, people: 0 })],
		["a batch ending before it starts", "batches[0].end", () => cctv({ start: DAY1, end: DAY1 - 1, frames: 1, motion: 0, people: 0 })],
		["a chat role that is not user or assistant", "messages[0].role", () => chat([{ role: "system", text: "hi", at: DAY1 }])],
		[
			"chat messages out of order",
			"messages[1].at",
			() =>
				chat([
					{ role: "user", text: "a", at: DAY1 },
					{ role: "user", text: "b", at: DAY1 - 1 },
				]),
		],
	])("%s is a 400 naming %s, and nothing is stored", async (_what, field, body) => {
		const org = await orgAt("Backfill bad");
		const problem = await expectProblem(await backfill(org, body()), 400);
		expect(problem.errors?.map((e) => e.path)).toContain(field);
		for (const actor of ["sessions/s-1", "cameras/c-1", "chats/x-1"]) {
			const log = await getJson<{ events: unknown[] }>(`/v1/orgs/${org.org}/${actor}/events`, { headers: bearer(org.key) });
			expect(log.events).toEqual([]);
		}
	});

	it("only an admin key may backfill: analyst, viewer and ingest keys get 403, another org's admin key 404", async () => {
		const org = await orgAt("Backfill roles");
		const other = await createOrg("Backfill other");
		const body = { source: "web", session: "s-1", events: [pageView("/", DAY1)] };
		for (const role of ["analyst", "viewer", "ingest"] as const) {
			const { key } = await createKey(org.org, org.key, role, role);
			await expectProblem(await backfill(org, body, key), 403);
		}
		expect((await backfill(org, body, other.key)).status).toBe(404);
		const log = await getJson<{ events: unknown[] }>(`/v1/orgs/${org.org}/sessions/s-1/events`, { headers: bearer(org.key) });
		expect(log.events).toEqual([]);
	});
});
