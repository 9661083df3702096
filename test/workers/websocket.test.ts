import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { pageView, postBatch, Subscriber, uniqueId } from "./helpers.ts";

const ORG = "acme";
const path = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;
const seqs = (s: Subscriber) => s.events().map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("subscriptions", () => {
	it("a subscriber gets hello, then the events it missed in order, then live ones", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a"), pageView("/b"), pageView("/c")] });
		const sub = await Subscriber.open(path(session), 2);
		await sub.until((s) => seqs(s).length === 2);
		expect(sub.frames[0]).toEqual({ t: "hello", version: 4, actor: { kind: "session", org: ORG, id: session } });
		expect(seqs(sub)).toEqual([3, 4]);

		await postBatch(ORG, session, { events: [pageView("/d"), pageView("/e")] });
		await sub.until((s) => seqs(s).length === 4);
		expect(seqs(sub)).toEqual([3, 4, 5, 6]);
		sub.close();
	});

	it("a client that reconnects from its last seq sees every event exactly once", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a")] });
		const first = await Subscriber.open(path(session));
		await postBatch(ORG, session, { events: [pageView("/b"), pageView("/c")] });
		await first.until((s) => seqs(s).length === 4);
		const lastSeen = seqs(first).at(-1) ?? 0;
		first.close();

		// Written while the client is away.
		await postBatch(ORG, session, { events: [pageView("/d")] });
		await postBatch(ORG, session, { events: [pageView("/e"), pageView("/f")] });
		const second = await Subscriber.open(path(session), lastSeen);
		await postBatch(ORG, session, { events: [pageView("/g")] });
		await second.until((s) => seqs(s).length === 4);
		expect([...seqs(first), ...seqs(second)]).toEqual(range(1, 8));
		second.close();
	});

	it("a hibernated socket keeps its cursor and gets the next events without repeats", async () => {
		const session = uniqueId("s");
		const sub = await Subscriber.open(path(session));
		await postBatch(ORG, session, { events: [pageView("/a"), pageView("/b")] });
		await sub.until((s) => seqs(s).length === 3);

		await evictDurableObject(env.SESSION.getByName(actorName(ORG, session)), { webSockets: "hibernate" });
		await postBatch(ORG, session, { events: [pageView("/c")] });
		await sub.until((s) => seqs(s).length === 4);
		await postBatch(ORG, session, { events: [pageView("/d")] });
		await sub.until((s) => seqs(s).length === 5);
		expect(seqs(sub)).toEqual(range(1, 5));
		sub.close();
	});

	it("a subscriber that asks for events beyond the log's end gets an error, then only the events after its `after`, also after hibernation", async () => {
		const session = uniqueId("s");
		await postBatch(ORG, session, { events: [pageView("/a")] });
		const ahead = await Subscriber.open(path(session), 4);
		const live = await Subscriber.open(path(session));
		await ahead.until((s) => s.frames.length >= 2);
		expect(ahead.frames[1]).toMatchObject({ t: "error", status: 409, title: "Ahead of the log" });

		await postBatch(ORG, session, { events: [pageView("/b"), pageView("/c")] });
		await live.until((s) => seqs(s).length === 4);
		// Version 4 reached: nothing the ahead socket asked for yet.
		await evictDurableObject(env.SESSION.getByName(actorName(ORG, session)), { webSockets: "hibernate" });
		await postBatch(ORG, session, { events: [pageView("/d"), pageView("/e")] });
		await ahead.until((s) => seqs(s).length === 2);
		await evictDurableObject(env.SESSION.getByName(actorName(ORG, session)), { webSockets: "hibernate" });
		await postBatch(ORG, session, { events: [pageView("/f")] });
		await ahead.until((s) => seqs(s).length === 3);
		await live.until((s) => seqs(s).length === 7);
		expect(seqs(ahead)).toEqual([5, 6, 7]);
		expect(seqs(live)).toEqual(range(1, 7));
		ahead.close();
		live.close();
	});

	it("live subscribers get every event once across repeated hibernations, with batches in between", async () => {
		const session = uniqueId("s");
		const subs = await Promise.all([Subscriber.open(path(session)), Subscriber.open(path(session)), Subscriber.open(path(session))]);
		let version = 0;
		for (let round = 0; round < 4; round++) {
			await postBatch(ORG, session, { events: [pageView(`/r${round}a`), pageView(`/r${round}b`)] });
			version += round === 0 ? 3 : 2;
			for (const sub of subs) await sub.until((s) => seqs(s).length === version);
			await evictDurableObject(env.SESSION.getByName(actorName(ORG, session)), { webSockets: "hibernate" });
		}
		// A late subscriber joins after the hibernations and is caught up, then follows with the rest.
		const late = await Subscriber.open(path(session));
		await postBatch(ORG, session, { events: [pageView("/last")] });
		for (const sub of [...subs, late]) {
			await sub.until((s) => seqs(s).length === version + 1);
			expect(seqs(sub)).toEqual(range(1, version + 1));
			sub.close();
		}
	});

	it("two subscribers see the same stream", async () => {
		const session = uniqueId("s");
		const [a, b] = await Promise.all([Subscriber.open(path(session)), Subscriber.open(path(session))]);
		for (let i = 0; i < 5; i++) await postBatch(ORG, session, { events: [pageView(`/p${i}`)] });
		await a.until((s) => seqs(s).length === 6);
		await b.until((s) => seqs(s).length === 6);
		expect(a.events()).toEqual(b.events());
		a.close();
		b.close();
	});
});

describe("socket messages", () => {
	it("a batch sent on the session socket is appended, acknowledged and pushed back", async () => {
		const session = uniqueId("s");
		const sub = await Subscriber.open(path(session));
		const batch = [pageView("/a"), pageView("/b")];
		sub.send({ t: "events", clientActionId: "ws-1", events: batch });
		await sub.until((s) => s.frames.some((f) => f.t === "ack") && seqs(s).length === 3);
		expect(sub.frames.find((f) => f.t === "ack")).toEqual({ t: "ack", accepted: 2, duplicates: 0, version: 3, clientActionId: "ws-1" });

		sub.send({ t: "events", events: batch });
		await sub.until((s) => s.frames.filter((f) => f.t === "ack").length === 2);
		expect(sub.frames.filter((f) => f.t === "ack").at(-1)).toEqual({ t: "ack", accepted: 0, duplicates: 2, version: 3 });
		expect(seqs(sub)).toEqual([1, 2, 3]);
		sub.close();
	});

	it("ping is answered with pong, and a bad frame with an error naming the field", async () => {
		const sub = await Subscriber.open(path(uniqueId("s")));
		sub.send({ t: "ping" });
		await sub.until((s) => s.frames.some((f) => f.t === "pong"));

		sub.send({ t: "events", events: [{ id: "e1", type: "session.page_viewed", ts: -1, data: {} }] });
		await sub.until((s) => s.frames.some((f) => f.t === "error"));
		const error = sub.frames.find((f) => f.t === "error") as { status: number; errors: { path: string }[] };
		expect(error.status).toBe(400);
		expect(error.errors.map((e) => e.path)).toContain("events[0].ts");

		sub.socket.send("{not json");
		await sub.until((s) => s.frames.filter((f) => f.t === "error").length === 2);
		expect(sub.frames.filter((f) => f.t === "error").at(-1)).toMatchObject({ status: 400, detail: "frame is not valid JSON" });
		sub.close();
	});
});
