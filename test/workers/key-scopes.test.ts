/**
 * Key scopes: an `ingest` key, for public web pages and devices, sends session events and camera frames and
 * opens nothing else (auth.test.ts walks every route with one). Here: how such keys are made, listed and
 * revoked, and what they can and cannot reach.
 */
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { BASE, call, createKey, createOrg, expectProblem, pageView, postBatch, Subscriber, uniqueId } from "./helpers.ts";

type KeyBody = { id: string; label: string | null; scope: string; revokedAt: number | null };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("ingest keys", () => {
	it("are made with scope ingest, listed with their scope, and the org's first key is full", async () => {
		const { org, key, keyId } = await createOrg("Scopes");
		const res = await call(`/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: bearer(key),
			body: JSON.stringify({ label: "shop", scope: "ingest" }),
		});
		expect(res.status).toBe(201);
		const made = await res.json<{ apiKey: string; key: KeyBody }>();
		expect(made.key).toMatchObject({ label: "shop", scope: "ingest", revokedAt: null });
		const full = await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: "{}" });
		expect((await full.json<{ key: KeyBody }>()).key.scope).toBe("full");

		const list = await call(`/v1/orgs/${org}/keys`, { headers: bearer(key) });
		const keys = (await list.json<{ keys: KeyBody[] }>()).keys;
		expect(keys.map((k) => [k.id === keyId ? "first" : k.label, k.scope])).toEqual([
			["first", "full"],
			["shop", "ingest"],
			[null, "full"],
		]);
	});

	it("a scope that is not full or ingest is a 400 naming the field", async () => {
		const { org, key } = await createOrg("Bad scope");
		const body = await expectProblem(
			await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: JSON.stringify({ scope: "admin" }) }),
			400,
		);
		expect(body.errors?.map((e) => e.path)).toContain("scope");
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

		// The events it sent are there for a full key.
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
		// A client cannot make its own socket a full subscriber, nor a full key's socket send-only: the Worker sets the header.
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

	it("do not count as the org's last key: the last full key cannot be revoked while only ingest keys remain", async () => {
		const { org, key, keyId } = await createOrg("Locked");
		const ingest = await createKey(org, key, "web", "ingest");
		const refused = await expectProblem(await call(`/v1/orgs/${org}/keys/${keyId}`, { method: "DELETE", headers: bearer(key) }), 409);
		expect(refused.detail).toContain("last active full key");

		// An ingest key cannot revoke anything; a full key revokes it, and it stops working at once.
		await expectProblem(await call(`/v1/orgs/${org}/keys/${ingest.keyId}`, { method: "DELETE", headers: bearer(ingest.key) }), 403);
		const revoked = await call(`/v1/orgs/${org}/keys/${ingest.keyId}`, { method: "DELETE", headers: bearer(key) });
		expect(revoked.status).toBe(200);
		expect((await revoked.json<{ key: KeyBody }>()).key).toMatchObject({ scope: "ingest", revokedAt: expect.any(Number) });
		await expectProblem(await postBatch(org, uniqueId("s"), { events: [pageView("/late")] }, bearer(ingest.key)), 401);
	});
});
