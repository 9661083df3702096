/**
 * Key roles: an `ingest` key, for public web pages and devices, sends session events and camera frames and
 * opens nothing else; `viewer` and `analyst` keys read (roles.test.ts walks every route with every role). Here:
 * how keys are made, listed, expire and are revoked, what they can and cannot reach, and who the log says acted.
 */
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { BASE, call, createKey, createOrg, expectProblem, pageView, postBatch, Subscriber, uniqueId } from "./helpers.ts";

type KeyBody = { id: string; label: string | null; role: string; revokedAt: number | null; expiresAt: number | null };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("ingest keys", () => {
	it("are made with role ingest, listed with their role, and the org's first key is admin", async () => {
		const { org, key, keyId } = await createOrg("Scopes");
		const res = await call(`/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: bearer(key),
			body: JSON.stringify({ label: "shop", role: "ingest" }),
		});
		expect(res.status).toBe(201);
		const made = await res.json<{ apiKey: string; key: KeyBody }>();
		expect(made.key).toMatchObject({ label: "shop", role: "ingest", revokedAt: null, expiresAt: null });
		const viewer = await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: '{"role":"viewer"}' });
		expect((await viewer.json<{ key: KeyBody }>()).key.role).toBe("viewer");

		const list = await call(`/v1/orgs/${org}/keys`, { headers: bearer(key) });
		const keys = (await list.json<{ keys: KeyBody[] }>()).keys;
		expect(keys.map((k) => [k.id === keyId ? "first" : k.label, k.role])).toEqual([
			["first", "admin"],
			["shop", "ingest"],
			[null, "viewer"],
		]);
	});

	it("a role that is not one of the four, or the old scope `full`, is a 400 naming the field", async () => {
		const { org, key } = await createOrg("Bad role");
		for (const role of ["full", "owner", 1]) {
			const body = await expectProblem(
				await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: JSON.stringify({ role }) }),
				400,
			);
			expect(body.errors?.map((e) => e.path)).toContain("role");
		}
	});

	it("send session events, and cannot read them back or make keys", async () => {
		const { org, key } = await createOrg("Shop");
		const ingest = await createKey(org, key, "web", "ingest");
		const session = uniqueId("s");
		const sent = await postBatch(org, session, { events: [pageView("/home"), pageView("/cart")] }, bearer(ingest.key));
		expect(sent.status).toBe(202);
		expect(await sent.json()).toMatchObject({ accepted: 2, duplicates: 0, version: 3 });

		await expectProblem(await call(`/v1/orgs/${org}/sessions/${session}/events`, { headers: bearer(ingest.key) }), 403);
		await expectProblem(await call(`/v1/orgs/${org}/sessions/${session}/state`, { headers: bearer(ingest.key) }), 403);
		const orgSocket = await exports.default.fetch(`${BASE}/v1/orgs/${org}/ws?token=${encodeURIComponent(ingest.key)}`, {
			headers: { upgrade: "websocket" },
		});
		expect(orgSocket.status).toBe(403);
		expect(orgSocket.webSocket).toBeNull();
		await expectProblem(await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(ingest.key), body: "{}" }), 403);

		// The events it sent are there for an admin key.
		const read = await call(`/v1/orgs/${org}/sessions/${session}/events`, { headers: bearer(key) });
		expect((await read.json<{ events: { type: string }[] }>()).events.map((e) => e.type)).toEqual([
			"session.started",
			"session.page_viewed",
			"session.page_viewed",
		]);
	});

	it("open the session socket send-only: batches are acked, and no event is pushed to it, across hibernation too", async () => {
		const { org, key } = await createOrg("Live shop");
		const ingest = await createKey(org, key, "web", "ingest");
		const session = uniqueId("s");
		const path = `/v1/orgs/${org}/sessions/${session}`;
		// A client cannot make its own socket a subscriber, nor an admin key's socket send-only: the Worker sets the header.
		const sender = await Subscriber.open(path, 0, ingest.key, { "x-roost-send-only": "0" });
		const watcher = await Subscriber.open(path, 0, key, { "x-roost-send-only": "1" });
		await sender.until((s) => s.frames.length >= 1);
		expect(sender.frames[0]).toMatchObject({ t: "hello", sendOnly: true, version: 0 });
		await watcher.until((s) => s.frames.length >= 1);
		expect(watcher.frames[0]).toMatchObject({ t: "hello", version: 0 });
		expect(watcher.frames[0]).not.toHaveProperty("sendOnly");

		sender.socket.send(JSON.stringify({ t: "events", clientActionId: "b1", events: [pageView("/a"), pageView("/b")] }));
		await sender.until((s) => s.frames.some((f) => f.t === "ack"));
		expect(sender.frames.find((f) => f.t === "ack")).toEqual({ t: "ack", accepted: 2, duplicates: 0, version: 3, clientActionId: "b1" });
		await postBatch(org, session, { events: [pageView("/c")] }, bearer(key));
		await watcher.until((s) => s.events().length === 4);

		await evictDurableObject(env.SESSION.getByName(actorName(org, session)), { webSockets: "hibernate" });
		await postBatch(org, session, { events: [pageView("/d")] }, bearer(key));
		await watcher.until((s) => s.events().length === 5);
		// Frames arrive in order: the pong comes after anything the actor would have pushed before it.
		sender.socket.send(JSON.stringify({ t: "ping" }));
		await sender.until((s) => s.frames.some((f) => f.t === "pong"));
		expect(sender.frames.map((f) => f.t)).toEqual(["hello", "ack", "pong"]);
		expect(watcher.events().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
		sender.close();
		watcher.close();
	});

	it("do not count as the org's last key: the last admin key cannot be revoked while only ingest keys remain", async () => {
		const { org, key, keyId } = await createOrg("Locked");
		const ingest = await createKey(org, key, "web", "ingest");
		const refused = await expectProblem(await call(`/v1/orgs/${org}/keys/${keyId}`, { method: "DELETE", headers: bearer(key) }), 409);
		expect(refused.detail).toContain("last active admin key");

		// An ingest key cannot revoke anything; an admin key revokes it, and it stops working at once.
		await expectProblem(await call(`/v1/orgs/${org}/keys/${ingest.keyId}`, { method: "DELETE", headers: bearer(ingest.key) }), 403);
		const revoked = await call(`/v1/orgs/${org}/keys/${ingest.keyId}`, { method: "DELETE", headers: bearer(key) });
		expect(revoked.status).toBe(200);
		expect((await revoked.json<{ key: KeyBody }>()).key).toMatchObject({ role: "ingest", revokedAt: expect.any(Number) });
		await expectProblem(await postBatch(org, uniqueId("s"), { events: [pageView("/late")] }, bearer(ingest.key)), 401);
	});
});

describe("expiring keys", () => {
	afterEach(() => {
		vi.useRealTimers();
	});

	it("a key answers until its expiresAt and 401 from then on, like a revoked one; its org lists it with the instant", async () => {
		const T0 = Date.UTC(2031, 5, 1);
		vi.useFakeTimers({ toFake: ["Date"] });
		vi.setSystemTime(T0);
		const { org, key } = await createOrg("Expiry");
		const res = await call(`/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: bearer(key),
			body: JSON.stringify({ role: "viewer", label: "week", expiresAt: T0 + 60_000 }),
		});
		expect(res.status).toBe(201);
		const made = await res.json<{ apiKey: string; key: KeyBody }>();
		expect(made.key).toMatchObject({ role: "viewer", expiresAt: T0 + 60_000 });
		vi.setSystemTime(T0 + 59_999);
		expect((await call(`/v1/orgs/${org}`, { headers: bearer(made.apiKey) })).status).toBe(200);
		vi.setSystemTime(T0 + 60_000);
		const refused = await expectProblem(await call(`/v1/orgs/${org}`, { headers: bearer(made.apiKey) }), 401);
		expect(refused.detail).toContain("expired");
		const list = await call(`/v1/orgs/${org}/keys`, { headers: bearer(key) });
		expect((await list.json<{ keys: KeyBody[] }>()).keys.find((k) => k.id === made.key.id)).toMatchObject({ expiresAt: T0 + 60_000 });
	});

	it("an expiresAt in the past, or more than ten years away, is a 400 naming the field", async () => {
		const { org, key } = await createOrg("Bad expiry");
		for (const expiresAt of [Date.now() - 1000, Date.now() + 11 * 365 * 24 * 3_600_000, "soon"]) {
			const body = await expectProblem(
				await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: JSON.stringify({ role: "viewer", expiresAt }) }),
				400,
			);
			expect(body.errors?.map((e) => e.path)).toContain("expiresAt");
		}
	});
});

describe("viewer and analyst keys", () => {
	it("read a session over its socket but cannot send events on it: a 403 frame, and nothing stored", async () => {
		const { org, key } = await createOrg("Viewer socket");
		const viewer = await createKey(org, key, "wall", "viewer");
		const session = uniqueId("s");
		await postBatch(org, session, { events: [pageView("/a")] }, bearer(key));
		const path = `/v1/orgs/${org}/sessions/${session}`;
		const watcher = await Subscriber.open(path, 0, viewer.key);
		await watcher.until((s) => s.events().length === 2);
		watcher.socket.send(JSON.stringify({ t: "events", clientActionId: "v1", events: [pageView("/sneaky")] }));
		await watcher.until((s) => s.frames.some((f) => f.t === "error"));
		expect(watcher.frames.find((f) => f.t === "error")).toMatchObject({ status: 403, clientActionId: "v1" });
		expect(String(watcher.frames.find((f) => f.t === "error")?.detail)).toContain("viewer role");
		const read = await call(`${path}/events`, { headers: bearer(key) });
		expect((await read.json<{ events: unknown[] }>()).events).toHaveLength(2);
		watcher.close();
	});
});

describe("who acted", () => {
	it("every event appended for a request names the key that made it in meta.principal, over HTTP and over the socket", async () => {
		const { org, key } = await createOrg("Audit meta");
		const ingest = await createKey(org, key, "web", "ingest");
		const session = uniqueId("s");
		expect((await postBatch(org, session, { events: [pageView("/a")] }, bearer(ingest.key))).status).toBe(202);
		const sender = await Subscriber.open(`/v1/orgs/${org}/sessions/${session}`, 0, ingest.key);
		sender.socket.send(JSON.stringify({ t: "events", events: [pageView("/b")] }));
		await sender.until((s) => s.frames.some((f) => f.t === "ack"));
		sender.close();
		const read = await call(`/v1/orgs/${org}/sessions/${session}/events`, { headers: bearer(key) });
		const events = (await read.json<{ events: { type: string; meta: { principal?: unknown } }[] }>()).events;
		expect(events.map((e) => [e.type, e.meta.principal])).toEqual([
			["session.started", { kind: "key", id: ingest.keyId }],
			["session.page_viewed", { kind: "key", id: ingest.keyId }],
			["session.page_viewed", { kind: "key", id: ingest.keyId }],
		]);
	});
});

describe("the audit trail", () => {
	type Entry = { seq: number; type: string; principal: unknown; requestId: string | null; data: Record<string, unknown> };
	const audit = async (org: string, key: string, query = "") =>
		(await call(`/v1/orgs/${org}/audit${query}`, { headers: bearer(key) })).json<{ entries: Entry[]; next: number | null }>();

	it("lists key changes newest first with the key that made each, pages with before, and leaves other events out", async () => {
		const { org, key, keyId } = await createOrg("Audited");
		const viewer = await createKey(org, key, "wall", "viewer");
		await postBatch(org, uniqueId("s"), { events: [pageView("/x")] }, bearer(key));
		const ingest = await createKey(org, key, "web", "ingest");
		await call(`/v1/orgs/${org}/keys/${ingest.keyId}`, { method: "DELETE", headers: bearer(key) });
		const all = await audit(org, key);
		expect(all.entries.map((e) => [e.type, e.principal, e.data.keyId ?? e.data.name])).toEqual([
			["org.key_revoked", { kind: "key", id: keyId }, ingest.keyId],
			["org.key_created", { kind: "key", id: keyId }, ingest.keyId],
			["org.key_created", { kind: "key", id: keyId }, viewer.keyId],
			// The org and its first key were made with the admin token: no principal.
			["org.key_created", null, keyId],
			["org.created", null, "Audited"],
		]);
		expect(all.next).toBeNull();
		expect(all.entries.every((e) => e.requestId)).toBe(true);
		expect(all.entries.find((e) => e.type === "org.key_created")?.data.hash).toBe("(redacted)");

		const first = await audit(org, key, "?limit=2");
		expect(first.entries.map((e) => e.type)).toEqual(["org.key_revoked", "org.key_created"]);
		const second = await audit(org, key, `?limit=2&before=${first.next}`);
		expect(second.entries.map((e) => e.data.keyId)).toEqual([viewer.keyId, keyId]);
		const last = await audit(org, key, `?limit=2&before=${second.next}`);
		expect(last).toMatchObject({ entries: [{ type: "org.created" }], next: null });

		// Only admins read it.
		const refused = await expectProblem(await call(`/v1/orgs/${org}/audit`, { headers: bearer(viewer.key) }), 403);
		expect(refused.detail).toContain("needs the admin role");
	});
});
