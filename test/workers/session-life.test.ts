import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { archiveKey } from "../../src/queue.ts";
import { allEvents, createKey, createOrg, getJson, pageView, postBatch, Subscriber, uniqueId, visitStartsRecorded } from "./helpers.ts";

const ORG = "acme";
const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2031, 5, 1, 9, 0, 0);

const path = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;
const stubOf = (id: string) => env.SESSION.getByName(actorName(ORG, id));
const types = async (id: string) => (await allEvents(path(id))).map((e) => e.type);

interface StateBody {
	version: number;
	state: { status: string; visit: { number: number } | null; endedVisits: unknown[] };
	kernel: { outbox: { pending: number }; timers: { name: string; scheduledAt: number }[] };
}

/** Moves the mocked clock to `at` and runs the session's alarm, as the runtime would at that instant. */
async function at(time: number, session: string): Promise<void> {
	vi.setSystemTime(time);
	await runDurableObjectAlarm(stubOf(session));
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("inactivity", () => {
	it("a session ends an hour after its last event, and not a moment before", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/", T0), pageView("/shoes", T0 + 1_000)] });
		const { kernel } = await getJson<StateBody>(`${path(session)}/state`);
		expect(kernel.timers).toEqual([expect.objectContaining({ name: "inactivity", scheduledAt: T0 + HOUR })]);

		await at(T0 + HOUR - 1, session);
		expect(await types(session)).not.toContain("session.ended");

		await at(T0 + HOUR, session);
		const events = await allEvents(path(session));
		const ended = events.at(-1);
		expect(ended).toMatchObject({ type: "session.ended", ts: T0 + HOUR, data: { reason: "inactivity" } });
		expect((await getJson<StateBody>(`${path(session)}/state`)).state.status).toBe("ended");
	});

	it("every event re-arms the timer", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		vi.setSystemTime(T0 + 30 * 60_000);
		await postBatch(ORG, session, { events: [pageView("/b", T0 + 30 * 60_000)] });

		await at(T0 + HOUR + 1, session);
		expect(await types(session)).not.toContain("session.ended");
		await at(T0 + 90 * 60_000, session);
		expect(await types(session)).toContain("session.ended");
	});

	it("a later batch leaves the stored timer alone; its receipt time, kept on its events, still moves the end, across a restart", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		const later = T0 + 40 * 60_000;
		vi.setSystemTime(later);
		await postBatch(ORG, session, { events: [pageView("/b", later)] });
		// Only the visit's first batch wrote the timer: the second wrote its event and nothing else.
		const timersOf = async () => (await getJson<StateBody>(`${path(session)}/state`)).kernel.timers;
		expect(await timersOf()).toEqual([expect.objectContaining({ name: "inactivity", scheduledAt: T0 + HOUR })]);
		expect((await allEvents(path(session))).at(-1)?.meta).toMatchObject({ receivedAt: later });

		await abortAllDurableObjects();
		await at(T0 + HOUR, session);
		expect(await types(session)).not.toContain("session.ended");
		expect(await timersOf()).toEqual([expect.objectContaining({ name: "inactivity", scheduledAt: later + HOUR })]);
		await at(later + HOUR - 1, session);
		expect(await types(session)).not.toContain("session.ended");
		await at(later + HOUR, session);
		expect((await allEvents(path(session))).at(-1)).toMatchObject({ type: "session.ended", ts: later + HOUR });
	});

	it("the end carries a summary of the visit", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, {
			events: [
				pageView("/", T0),
				pageView("/shoes", T0 + 10_000),
				pageView("/", T0 + 20_000),
				{ id: uniqueId("e"), type: "session.clicked", ts: T0 + 21_000, data: { target: "button.buy" } },
				{ id: uniqueId("e"), type: "session.custom", ts: T0 + 22_000, data: { name: "add_to_cart" } },
				{ id: uniqueId("e"), type: "session.error", ts: T0 + 23_000, data: { message: "boom" } },
				{ id: uniqueId("e"), type: "session.identified", ts: T0 + 24_000, data: { userId: "u-7" } },
			],
		});
		await at(T0 + HOUR, session);
		const ended = (await allEvents(path(session))).at(-1);
		expect(ended?.data).toEqual({
			reason: "inactivity",
			summary: {
				visit: 1,
				startedAt: T0,
				lastEventAt: T0 + 24_000,
				durationMs: 24_000,
				events: 7,
				pageViews: 3,
				clicks: 1,
				pages: ["/", "/shoes"],
				customEvents: { add_to_cart: 1 },
				clickTargets: { "button.buy": 1 },
				errors: 1,
				userId: "u-7",
			},
		});
	});

	it("a timer that fires twice ends the visit once", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		await at(T0 + HOUR, session);
		await at(T0 + 2 * HOUR, session);
		expect((await types(session)).filter((t) => t === "session.ended")).toHaveLength(1);
	});

	it("events after the end start a new visit in the same session", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		await at(T0 + HOUR, session);
		vi.setSystemTime(T0 + 2 * HOUR);
		const res = await postBatch(ORG, session, { events: [pageView("/b", T0 + 2 * HOUR)] });
		expect(await res.json()).toMatchObject({ accepted: 1, duplicates: 0 });
		expect(await types(session)).toEqual([
			"session.started",
			"session.page_viewed",
			"session.ended",
			"session.started",
			"session.page_viewed",
		]);
		const { state, kernel } = await getJson<StateBody>(`${path(session)}/state`);
		expect(state).toMatchObject({ status: "active", visit: { number: 2 } });
		expect(state.endedVisits).toHaveLength(1);
		expect(kernel.timers[0]?.scheduledAt).toBe(T0 + 3 * HOUR);
	});

	it("a restart before the hour is up loses no timer", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		await abortAllDurableObjects();
		await at(T0 + HOUR, session);
		expect(await types(session)).toContain("session.ended");
	});
});

async function interactionsOf(session: string) {
	const found: { id: string; source: string; summary: Record<string, unknown> }[] = [];
	for (let after = 0; ; ) {
		const page = await getJson<{ interactions: typeof found; next: number | null }>(
			`/v1/orgs/${ORG}/interactions?after=${after}&limit=1000`,
		);
		found.push(...page.interactions.filter((i) => i.id.startsWith(`session:${session}:`)));
		if (page.next === null) return found;
		after = page.next;
	}
}

describe("hand-over", () => {
	it("the end hands one interaction to the org, listed at /interactions, and the outbox empties", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0), pageView("/b", T0 + 5_000)] });
		await at(T0 + HOUR, session);
		expect(await interactionsOf(session)).toEqual([
			expect.objectContaining({ id: `session:${session}:visit-1`, source: "web", summary: expect.objectContaining({ pageViews: 2 }) }),
		]);
		expect((await getJson<StateBody>(`${path(session)}/state`)).kernel.outbox.pending).toBe(0);
		// The org's event names the session event that caused it.
		const [recorded] = (await allEvents(`/v1/orgs/${ORG}`)).filter((e) => e.id === `session:${session}:visit-1`);
		expect(recorded?.meta).toMatchObject({ causationId: "~visit-1:ended", causationActor: `session:${session}` });
	});

	it("the org lists a session as active while its visit is open, and as ended after", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		await at(T0, session); // delivers the visit's start to the org, through the org intake queue
		await visitStartsRecorded(ORG, [session]);
		const org = env.ORG.getByName(actorName(ORG, ORG));
		const listed = async (status: "active" | "ended") =>
			(await org.listSessions({ status, from: T0 - 1, limit: 200 })).sessions.filter((s) => s.session === session);
		expect(await listed("active")).toEqual([expect.objectContaining({ status: "active", visit: 1, startedAt: T0 })]);
		await at(T0 + HOUR, session);
		expect(await listed("active")).toEqual([]);
		expect(await listed("ended")).toEqual([expect.objectContaining({ status: "ended", visit: 1, endedAt: T0 + HOUR })]);
	});

	it("ended sessions page through the whole history by cursor, each once", async () => {
		const org = await createOrg("Many visits");
		const sessions = Array.from({ length: 5 }, () => uniqueId("s"));
		for (const session of sessions) {
			await postBatch(org.org, session, { events: [pageView("/a", T0)] }, { authorization: `Bearer ${org.key}` });
			vi.setSystemTime(T0 + HOUR);
			await runDurableObjectAlarm(env.SESSION.getByName(actorName(org.org, session)));
			vi.setSystemTime(T0);
		}
		const stub = env.ORG.getByName(actorName(org.org, org.org));
		const seen: string[] = [];
		let cursor: string | undefined;
		for (let pages = 0; pages < 10; pages++) {
			const page = await stub.listSessions({ status: "ended", limit: 2, cursor });
			seen.push(...page.sessions.map((s) => s.session));
			if (page.cursor === null) break;
			cursor = page.cursor;
		}
		expect(seen.sort()).toEqual([...sessions].sort());
	});

	it("ended visits can be searched by user, page and time", async () => {
		const [shopper, browser] = [uniqueId("s"), uniqueId("s")];
		const user = uniqueId("u");
		await postBatch(ORG, shopper, {
			events: [pageView("/shoes", T0), { id: uniqueId("e"), type: "session.identified", ts: T0 + 1, data: { userId: user } }],
		});
		await postBatch(ORG, browser, { events: [pageView("/hats", T0)] });
		await at(T0 + HOUR, shopper);
		await at(T0 + HOUR, browser);
		const org = env.ORG.getByName(actorName(ORG, ORG));
		const byUser = await org.searchSessions({ userId: user });
		expect(byUser.sessions.map((h) => h.session)).toEqual([shopper]);
		const byPage = await org.searchSessions({ page: "/hats", from: T0 + HOUR, to: T0 + HOUR + 1 });
		expect(byPage.sessions.map((h) => h.session)).toContain(browser);
		expect(byPage.sessions.map((h) => h.session)).not.toContain(shopper);
		expect((await org.searchSessions({ page: "/hats", from: T0 + HOUR + 1 })).sessions.map((h) => h.session)).not.toContain(browser);
	});

	it("an interaction delivered twice, or re-sent under another message id, is recorded once", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0)] });
		await at(T0 + HOUR, session);
		const [recorded] = await interactionsOf(session);
		const org = env.ORG.getByName(actorName(ORG, ORG));
		const before = (await org.describe()).version;
		const { seq: _seq, recordedAt: _at, ...interaction } = recorded as unknown as Record<string, unknown>;
		const message = {
			id: `session:${session}:visit-1>org`,
			from: { kind: "session" as const, org: ORG, id: session },
			type: "interaction",
			data: interaction,
			meta: {},
		};
		expect(await org.receive(message)).toMatchObject({ ok: true });
		expect(await org.receive({ ...message, id: "resent-under-a-new-id" })).toMatchObject({ ok: true });
		expect((await org.describe()).version).toBe(before);
		expect(await interactionsOf(session)).toHaveLength(1);
	});

	it("the end sends the interaction to the interactions queue, whose consumer archives it once", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a", T0), pageView("/b", T0 + 5_000)] });
		await at(T0 + HOUR, session);
		const key = archiveKey(ORG, `session:${session}:visit-1`);
		vi.useRealTimers();
		let archived: R2ObjectBody | null = null;
		for (let i = 0; i < 100 && !archived; i++) {
			archived = await env.ARCHIVE.get(key);
			if (!archived) await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(archived).not.toBeNull();
		expect(await archived?.json()).toMatchObject({
			id: `session:${session}:visit-1`,
			source: "web",
			actor: { kind: "session", id: session },
			startedAt: T0,
			endedAt: T0 + HOUR,
			summary: { pageViews: 2, pages: ["/a", "/b"] },
		});
	});
});

describe("attacks from the security review", () => {
	it("one ingest key sending many batches of long distinct paths and names cannot keep the visit from ending, nor grow its snapshots", async () => {
		const org = await createOrg("Growing session");
		const ingest = await createKey(org.org, org.key, "page", "ingest");
		const auth = { authorization: `Bearer ${ingest.key}` };
		const session = uniqueId("s");
		const longPath = (i: number) => `/${String(i).padStart(6, "0")}/${"p".repeat(1990)}`;
		let n = 0;
		// 8 batches of 150 distinct ~2 KB paths and 50 distinct custom names: 1,200 paths, 2.4 MB of them.
		for (let batch = 0; batch < 8; batch++) {
			const events = Array.from({ length: 200 }, (_, i) => {
				const k = n++;
				const ts = T0 + k;
				if (i % 4 === 3) return { id: `e${k}`, type: "session.custom", ts, data: { name: `${"c".repeat(100)}${k}` } };
				const path = longPath(k);
				return { id: `e${k}`, type: "session.page_viewed", ts, data: { url: `https://x${path}`, path } };
			});
			const res = await postBatch(org.org, session, { events }, auth);
			expect(res.status).toBe(202);
		}
		const stub = env.SESSION.getByName(actorName(org.org, session));
		const snapshots = (await stub.describe()).snapshots;
		const largest = Math.max(...snapshots.map((s) => s.bytes));
		console.log(`[figure] growing session: ${JSON.stringify({ events: n, snapshots: snapshots.length, largestSnapshotBytes: largest })}`);
		expect(largest).toBeLessThan(100_000);

		vi.setSystemTime(T0 + HOUR);
		await runDurableObjectAlarm(stub);
		const ended = (await allEvents(`/v1/orgs/${org.org}/sessions/${session}`, { headers: { authorization: `Bearer ${org.key}` } })).at(-1);
		expect(ended).toMatchObject({
			id: "~visit-1:ended",
			type: "session.ended",
			data: { summary: { events: n, pageViews: 1200, truncated: true } },
		});
		// Within what an event may hold (1,000,000 characters), with room to spare: the summary is cut at 200,000.
		expect(JSON.stringify(ended?.data).length).toBeLessThan(201_000);
		expect((await stub.kernelStatus()).timers).toEqual([]);
	});

	it("a client event with the id the visit's end would take does not keep the visit open", async () => {
		const session = uniqueId("s");
		const res = await postBatch(ORG, session, {
			events: [pageView("/", T0), { id: "visit-1:ended", type: "session.custom", ts: T0 + 1, data: { name: "squat" } }],
		});
		expect(res.status).toBe(202);
		await at(T0 + HOUR, session);
		expect((await getJson<StateBody>(`${path(session)}/state`)).state.status).toBe("ended");
		expect(await types(session)).toEqual(["session.started", "session.page_viewed", "session.custom", "session.ended"]);
	});

	it("a client event with the id a later visit's start would take does not block that visit", async () => {
		const session = uniqueId("s");
		const squat = uniqueId("next");
		await postBatch(ORG, session, {
			events: [pageView("/", T0), { id: `${squat}:started`, type: "session.custom", ts: T0 + 1, data: { name: "squat" } }],
		});
		await at(T0 + HOUR, session);
		const res = await postBatch(ORG, session, { events: [{ ...pageView("/again", T0 + HOUR + 1), id: squat }] });
		expect(res.status).toBe(202);
		const { state } = await getJson<StateBody>(`${path(session)}/state`);
		expect(state).toMatchObject({ status: "active", visit: { number: 2 } });
	});

	it("a ts far from the server's clock is refused over HTTP, naming the field, and nothing is stored", async () => {
		const session = uniqueId("s");
		const res = await postBatch(ORG, session, { events: [pageView("/", T0), pageView("/far", 9e15), pageView("/ahead", T0 + 2 * HOUR)] });
		expect(res.status).toBe(400);
		expect(res.headers.get("content-type")).toContain("application/problem+json");
		const problem = await res.json<{ errors: { path: string }[] }>();
		expect(problem.errors.map((e) => e.path)).toEqual(["events[1].ts", "events[2].ts"]);
		expect((await getJson<StateBody>(`${path(session)}/state`)).version).toBe(0);
	});

	it("a ts far from the server's clock is refused over the socket, naming the field", async () => {
		const session = uniqueId("s");
		const socket = await Subscriber.open(path(session));
		socket.socket.send(JSON.stringify({ t: "events", events: [pageView("/", T0), pageView("/past", 1)] }));
		await socket.until((s) => s.frames.some((f) => f.t === "error" || f.t === "ack"));
		expect(socket.frames.find((f) => f.t === "error")).toMatchObject({ status: 400, errors: [{ path: "events[1].ts" }] });
		expect((await getJson<StateBody>(`${path(session)}/state`)).version).toBe(0);
		socket.socket.close();
	});
});
