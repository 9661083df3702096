/**
 * Sockets after their upgrade (issue #25, items 2 and 4): a revoked key's sockets close within the check
 * interval, a socket lives at most a day, and frames spend a budget like HTTP requests, across hibernation too.
 * The clock is mocked (as in scheduler.test.ts) and the kernel's socket-check timer is driven with runDurableObjectAlarm.
 */
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLOSE, KEY_CHECK_EVERY_MS, MAX_SOCKET_LIFETIME_MS, MAX_SOCKETS_PER_KEY, SOCKET_RATE } from "../../src/actors/socket-guard.ts";
import { actorName } from "../../src/core/identity.ts";
import { allEvents, BASE, createKey, createOrg, expectProblem, pageView, postBatch, revokeKey, Subscriber, uniqueId } from "./helpers.ts";

const T0 = Date.UTC(2031, 0, 1, 0, 0, 0);
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Resolves with the close code and reason once the socket closes. */
function closed(sub: Subscriber): Promise<{ code: number; reason: string }> {
	return new Promise((resolve) => sub.socket.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("a socket's key", () => {
	it("revoked: the subscriber and the send-only ingest socket close with 4001 at the next check, and nothing arrives or is stored after", async () => {
		const { org, key } = await createOrg("Revocation");
		const reader = await createKey(org, key, "reader");
		const ingest = await createKey(org, key, "web", "ingest");
		const session = uniqueId("s");
		const path = `/v1/orgs/${org}/sessions/${session}`;
		const stub = env.SESSION.getByName(actorName(org, session));
		const sub = await Subscriber.open(path, 0, reader.key);
		const sender = await Subscriber.open(path, 0, ingest.key);
		await sub.until((s) => s.frames.length >= 1);
		await sender.until((s) => s.frames.length >= 1);
		const [subClosed, senderClosed] = [closed(sub), closed(sender)];

		await revokeKey(org, key, reader.keyId);
		await revokeKey(org, key, ingest.keyId);
		// The kernel's socket check fires on its interval (an alarm wakes even a hibernated actor).
		vi.setSystemTime(T0 + KEY_CHECK_EVERY_MS);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await subClosed).toEqual({ code: CLOSE.revoked.code, reason: CLOSE.revoked.reason });
		expect(await senderClosed).toEqual({ code: CLOSE.revoked.code, reason: CLOSE.revoked.reason });

		const before = (await stub.describe()).version;
		await postBatch(org, session, { events: [pageView("/after")] }, bearer(key));
		expect(sub.events().filter((e) => e.type === "session.page_viewed")).toEqual([]);
		expect((await stub.describe()).version).toBe(before + 2);
		// No socket left: the check timer is disarmed.
		expect((await stub.kernelStatus()).timers.map((t) => t.name)).not.toContain("~sockets");
	});

	it("revoked: an ingest frame sent once the last check is stale is refused, the socket closed, and nothing stored", async () => {
		const { org, key } = await createOrg("Late frame");
		const ingest = await createKey(org, key, "web", "ingest");
		const session = uniqueId("s");
		const stub = env.SESSION.getByName(actorName(org, session));
		const sender = await Subscriber.open(`/v1/orgs/${org}/sessions/${session}`, 0, ingest.key);
		sender.send({ t: "events", events: [pageView("/a")] });
		await sender.until((s) => s.frames.some((f) => f.t === "ack"));
		const gone = closed(sender);

		await revokeKey(org, key, ingest.keyId);
		vi.setSystemTime(T0 + KEY_CHECK_EVERY_MS);
		sender.send({ t: "events", events: [pageView("/b")] });
		expect(await gone).toMatchObject({ code: CLOSE.revoked.code });
		expect(sender.frames.filter((f) => f.t === "ack")).toHaveLength(1);
		expect((await stub.describe()).version).toBe(2);
	});

	it("revoked: the org's own sockets close at once", async () => {
		const { org, key } = await createOrg("Org socket");
		const reader = await createKey(org, key, "reader");
		const sub = await Subscriber.open(`/v1/orgs/${org}`, 0, reader.key);
		await sub.until((s) => s.frames.length >= 1);
		const gone = closed(sub);
		await revokeKey(org, key, reader.keyId);
		expect(await gone).toMatchObject({ code: CLOSE.revoked.code });
	});

	it("a socket open for its whole lifetime is closed with 4000 (reconnect) at the next check", async () => {
		const { org, key } = await createOrg("Old socket");
		const session = uniqueId("s");
		const stub = env.SESSION.getByName(actorName(org, session));
		const sub = await Subscriber.open(`/v1/orgs/${org}/sessions/${session}`, 0, key);
		await sub.until((s) => s.frames.length >= 1);
		const gone = closed(sub);
		vi.setSystemTime(T0 + MAX_SOCKET_LIFETIME_MS - 1);
		await runDurableObjectAlarm(stub);
		expect(sub.socket.readyState).toBe(WebSocket.OPEN);
		vi.setSystemTime(T0 + MAX_SOCKET_LIFETIME_MS);
		await runDurableObjectAlarm(stub);
		expect(await gone).toEqual({ code: CLOSE.lifetime.code, reason: CLOSE.lifetime.reason });
	});
});

describe("socket budgets", () => {
	it("frames past the socket's budget get 429 with retry-after and store nothing, also after hibernation; a flood is closed with 4008", async () => {
		const { org, key } = await createOrg("Flood");
		const session = uniqueId("s");
		const stub = env.SESSION.getByName(actorName(org, session));
		const sub = await Subscriber.open(`/v1/orgs/${org}/sessions/${session}`, 0, key);
		for (let i = 0; i < SOCKET_RATE.burst; i++) sub.send({ t: "ping" });
		await sub.until((s) => s.frames.filter((f) => f.t === "pong").length === SOCKET_RATE.burst, 20_000);

		sub.send({ t: "events", events: [pageView("/over")] });
		await sub.until((s) => s.frames.some((f) => f.t === "error"));
		expect(sub.frames.find((f) => f.t === "error")).toMatchObject({ status: 429, title: "Too many messages", retryAfter: 1 });
		expect((await stub.describe()).version).toBe(0);

		// The budget is in the socket's attachment: a hibernated actor wakes with it spent.
		await evictDurableObject(stub, { webSockets: "hibernate" });
		sub.send({ t: "events", events: [pageView("/still-over")] });
		await sub.until((s) => s.frames.filter((f) => f.t === "error").length === 2);
		expect((await stub.describe()).version).toBe(0);

		// Refill: a second later ten more frames go through.
		vi.setSystemTime(T0 + 1000);
		sub.send({ t: "events", events: [pageView("/later")] });
		await sub.until((s) => s.frames.some((f) => f.t === "ack"));
		expect((await stub.describe()).version).toBe(2);

		const gone = closed(sub);
		for (let i = 0; i < 200; i++) sub.send({ t: "ping" });
		expect(await gone).toEqual({ code: CLOSE.tooManyMessages.code, reason: CLOSE.tooManyMessages.reason });
		expect((await stub.describe()).version).toBe(2);
	});

	it(`one key holds at most ${MAX_SOCKETS_PER_KEY} sockets on an actor: the next upgrade is a 429`, async () => {
		const { org, key } = await createOrg("Many sockets");
		const other = await createKey(org, key, "other");
		const path = `/v1/orgs/${org}/sessions/${uniqueId("s")}`;
		const open = await Promise.all(Array.from({ length: MAX_SOCKETS_PER_KEY }, () => Subscriber.open(path, 0, key)));
		const extra = await exports.default.fetch(`${BASE}${path}/ws?token=${encodeURIComponent(key)}`, { headers: { upgrade: "websocket" } });
		expect(extra.webSocket).toBeNull();
		const body = await expectProblem(extra, 429);
		expect(body.title).toBe("Too many sockets");
		// Another key is not affected, and a closed socket frees its place.
		const fine = await Subscriber.open(path, 0, other.key);
		open[0]?.close();
		await new Promise((resolve) => setTimeout(resolve, 50));
		const again = await Subscriber.open(path, 0, key);
		for (const s of [...open.slice(1), fine, again]) s.close();
	});
});

describe("socket tickets", () => {
	const ticketFor = async (org: string, key: string) => {
		const res = await exports.default.fetch(`${BASE}/v1/orgs/${org}/socket-tickets`, { method: "POST", headers: bearer(key) });
		expect(res.status).toBe(201);
		return res.json<{ ticket: string; expiresAt: number; role: string }>();
	};
	const upgrade = (path: string, ticket: string) =>
		exports.default.fetch(`${BASE}${path}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });

	it("a ticket opens one socket once; the second use, an expired ticket and another org's ticket are refused", async () => {
		const [a, b] = await Promise.all([createOrg("Tickets A"), createOrg("Tickets B")]);
		const path = `/v1/orgs/${a.org}/sessions/${uniqueId("s")}`;
		const first = await ticketFor(a.org, a.key);
		expect(first).toMatchObject({ role: "admin", expiresAt: T0 + 60_000 });
		expect(first.ticket).not.toContain(a.key);

		const opened = await upgrade(path, first.ticket);
		expect(opened.status).toBe(101);
		opened.webSocket?.accept();
		await expectProblem(await upgrade(path, first.ticket), 401);

		const late = await ticketFor(a.org, a.key);
		vi.setSystemTime(T0 + 60_000);
		await expectProblem(await upgrade(path, late.ticket), 401);

		// B's ticket on A's path: the same answer as B's key there, and it opens nothing.
		const foreign = await ticketFor(b.org, b.key);
		const refused = await upgrade(path, foreign.ticket);
		expect(refused.webSocket).toBeNull();
		await expectProblem(refused, 404);
		// A ticket is no bearer token for other routes.
		await expectProblem(
			await exports.default.fetch(`${BASE}${path}/events?ticket=${encodeURIComponent((await ticketFor(a.org, a.key)).ticket)}`),
			401,
		);
		opened.webSocket?.close();
	});

	it("an ingest key's ticket opens a send-only socket, and a ticket of a key revoked since is refused", async () => {
		const { org, key } = await createOrg("Ticket scope");
		const ingest = await createKey(org, key, "web", "ingest");
		const path = `/v1/orgs/${org}/sessions/${uniqueId("s")}`;
		const { ticket, role } = await ticketFor(org, ingest.key);
		expect(role).toBe("ingest");
		const res = await upgrade(path, ticket);
		const socket = res.webSocket;
		if (!socket) throw new Error(`no socket: ${res.status}`);
		const hello = new Promise<unknown>((resolve) => socket.addEventListener("message", (e) => resolve(JSON.parse(e.data as string))));
		socket.accept();
		expect(await hello).toMatchObject({ t: "hello", sendOnly: true });
		socket.close();

		const unused = await ticketFor(org, ingest.key);
		await revokeKey(org, key, ingest.keyId);
		await expectProblem(await upgrade(path, unused.ticket), 401);
	});
});

describe("socket request ids", () => {
	it("events written over a socket carry a server-made connection id, not the client's `_pk`", async () => {
		const { org, key } = await createOrg("Socket ids");
		const session = uniqueId("s");
		const path = `/v1/orgs/${org}/sessions/${session}`;
		const res = await exports.default.fetch(`${BASE}${path}/ws?token=${encodeURIComponent(key)}&_pk=forged`, {
			headers: { upgrade: "websocket" },
		});
		const socket = res.webSocket;
		if (!socket) throw new Error(`no socket: ${res.status}`);
		const acked = new Promise<void>((resolve) =>
			socket.addEventListener("message", (e) => {
				if ((JSON.parse(e.data as string) as { t: string }).t === "ack") resolve();
			}),
		);
		socket.accept();
		socket.send(JSON.stringify({ t: "events", events: [pageView("/a")] }));
		await acked;
		const [, viewed] = await allEvents(path, { headers: bearer(key) });
		expect(viewed?.meta.requestId).toMatch(/^ws:/);
		expect(viewed?.meta.requestId).not.toBe("ws:forged");
		socket.close();
	});
});
