/**
 * Cross-tenant: org A's live key tried on every one of org B's routes and sockets. Each answer is the
 * 404 an unknown org gets, carries none of B's data, and writes nothing to B.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cameraFrames } from "../../src/actors/org-objects.ts";
import { setTestModel } from "../../src/ai/provider.ts";
import { actorName } from "../../src/core/identity.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";
import { scriptedModel, textParts } from "./chat-models.ts";
import { allEvents, call, createKey, createOrg, expectProblem, getJson, pageView, postBatch, Subscriber } from "./helpers.ts";
import { ORG_ROUTES, seedSession, send, type Tenant } from "./routes.ts";

let a: Tenant;
let b: Tenant;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
	const [orgA, orgB] = await Promise.all([createOrg("Tenant A"), createOrg("Tenant B secret name")]);
	a = { ...orgA, session: await seedSession(orgA.org, orgA.key) };
	b = { ...orgB, session: await seedSession(orgB.org, orgB.key) };
});

/** Everything of B's that a leak would show: versions of its actors, its keys, its event ids and hashes. */
async function snapshotOfB() {
	const org = await getJson<{ version: number; keys: { id: string }[] }>(`/v1/orgs/${b.org}`, { headers: bearer(b.key) });
	const session = await getJson<{ version: number }>(`/v1/orgs/${b.org}/sessions/${b.session}/state`, { headers: bearer(b.key) });
	const events = [
		...(await allEvents(`/v1/orgs/${b.org}`, { headers: bearer(b.key) })),
		...(await allEvents(`/v1/orgs/${b.org}/sessions/${b.session}`, { headers: bearer(b.key) })),
	];
	return {
		orgVersion: org.version,
		keys: org.keys.map((k) => k.id),
		sessionVersion: session.version,
		secrets: events.flatMap((e) => [e.id, e.hash]),
	};
}

describe("org A's key on org B's ids", () => {
	it.each(ORG_ROUTES.map((route) => [route.route, route] as const))("%s: 404, no data, no write", async (_name, route) => {
		const before = await snapshotOfB();
		const res = await send(route, await route.path(b), a.key);
		expect(res.webSocket ?? null).toBeNull();
		const text = await res.clone().text();
		await expectProblem(res, 404);
		expect(text).not.toContain("Tenant B secret name");
		for (const secret of before.secrets) expect(text).not.toContain(secret);

		const after = await snapshotOfB();
		// DELETE's path makes what it deletes in B (a key, a member, a webhook; with B's own key) before A tries: that one change is B's doing.
		if (route.route === "DELETE /v1/orgs/{org}/members") {
			expect(after.keys).toEqual(before.keys);
			expect(after.orgVersion).toBe(before.orgVersion + 1);
		} else if (route.method === "DELETE") {
			expect(route.route.includes("/keys/") ? after.keys.slice(0, -1) : after.keys).toEqual(before.keys);
			expect(after.orgVersion).toBe(before.orgVersion + 1);
		} else {
			expect(after).toEqual(before);
		}
		expect((await call(`/v1/orgs/${b.org}`, { headers: bearer(b.key) })).status).toBe(200);
	});

	it("a socket opened with A's key on B's session is refused and receives nothing", async () => {
		await expect(Subscriber.open(`/v1/orgs/${b.org}/sessions/${b.session}`, 0, a.key)).rejects.toThrow(/404/);
		await expect(Subscriber.open(`/v1/orgs/${b.org}`, 0, a.key)).rejects.toThrow(/404/);
	});

	it("A cannot revoke B's key through A's own path", async () => {
		const spare = await createKey(b.org, b.key, "B's spare");
		const res = await call(`/v1/orgs/${a.org}/keys/${spare.keyId}`, { method: "DELETE", headers: bearer(a.key) });
		await expectProblem(res, 404);
		expect((await call(`/v1/orgs/${b.org}`, { headers: bearer(spare.key) })).status).toBe(200);
	});

	it("a WebSocket batch on A's socket lands in A's session only", async () => {
		const sub = await Subscriber.open(`/v1/orgs/${a.org}/sessions/${b.session}`, 0, a.key);
		sub.send({ t: "events", events: [pageView("/socket")] });
		await sub.until((s) => s.frames.some((f) => f.t === "ack"));
		sub.close();
		const bEvents = await allEvents(`/v1/orgs/${b.org}/sessions/${b.session}`, { headers: bearer(b.key) });
		expect(bEvents.map((e) => e.data)).not.toContainEqual(expect.objectContaining({ path: "/socket" }));
	});
});

describe("names", () => {
	it("two orgs with the same session id never share an object", async () => {
		const shared = "same-session-id";
		await postBatch(a.org, shared, { events: [pageView("/in-a")] }, bearer(a.key));
		await postBatch(b.org, shared, { events: [pageView("/in-b"), pageView("/in-b/2")] }, bearer(b.key));
		const inA = await allEvents(`/v1/orgs/${a.org}/sessions/${shared}`, { headers: bearer(a.key) });
		const inB = await allEvents(`/v1/orgs/${b.org}/sessions/${shared}`, { headers: bearer(b.key) });
		expect(inA.map((e) => (e.data as { path?: string }).path).filter(Boolean)).toEqual(["/in-a"]);
		expect(inB.map((e) => (e.data as { path?: string }).path).filter(Boolean)).toEqual(["/in-b", "/in-b/2"]);
		expect(new Set(inA.map((e) => e.actor.org))).toEqual(new Set([a.org]));
		expect(new Set(inB.map((e) => e.actor.org))).toEqual(new Set([b.org]));
		const idA = env.SESSION.idFromName(actorName(a.org, shared));
		const idB = env.SESSION.idFromName(actorName(b.org, shared));
		expect(idA.equals(idB)).toBe(false);
	});
});

describe("storage references in imported events", () => {
	const frame = patternFrame("png", { square: { x: 5, y: 5, size: 20 } });

	/** B uploads a frame; its camera's raw export (with B's R2 key in it) is what A tries to replay. */
	async function bFrame() {
		const camera = `cam-${crypto.randomUUID()}`;
		const res = await call(`/v1/orgs/${b.org}/cameras/${camera}/frames`, {
			method: "POST",
			body: frame,
			headers: { ...bearer(b.key), "content-type": "image/png" },
		});
		expect(res.status).toBe(202);
		const { frameId, key } = await res.json<{ frameId: string; key: string }>();
		const exported = await getJson<{ events: Record<string, unknown>[] }>(`/v1/orgs/${b.org}/cameras/${camera}/events?raw=true`, {
			headers: bearer(b.key),
		});
		return { frameId, key, events: exported.events.map(({ actor: _actor, ...event }) => event) };
	}

	it("a frame key of B imported into A's sandbox camera serves nothing of B's", async () => {
		const { frameId, key, events } = await bFrame();
		expect(key.startsWith(`frames/${b.org}/`)).toBe(true);
		const sandbox = `sandbox-${crypto.randomUUID()}`;
		const imported = await call(`/v1/orgs/${a.org}/cameras/${sandbox}/import`, {
			method: "POST",
			body: JSON.stringify({ events }),
			headers: bearer(a.key),
		});
		expect(imported.status, await imported.clone().text()).toBe(200);
		const res = await call(`/v1/orgs/${a.org}/cameras/${sandbox}/frames/${frameId}`, { headers: bearer(a.key) });
		const body = new Uint8Array(await res.clone().arrayBuffer());
		expect(body.length === frame.length && body.every((byte, i) => byte === frame[i])).toBe(false);
		await expectProblem(res, 404);
		// The analyser reads through the same store, so the same key is refused to it as well.
		expect(await cameraFrames(env.FRAMES, a.org, sandbox).get(key)).toMatchObject({
			ok: false,
			reason: expect.stringContaining("outside"),
		});
	});

	it("an object under A's camera prefix stamped with another org is refused by its metadata", async () => {
		const camera = `cam-${crypto.randomUUID()}`;
		const ok = await call(`/v1/orgs/${a.org}/cameras/${camera}/frames`, {
			method: "POST",
			body: frame,
			headers: { ...bearer(a.key), "content-type": "image/png" },
		});
		const { frameId, key } = await ok.json<{ frameId: string; key: string }>();
		expect((await call(`/v1/orgs/${a.org}/cameras/${camera}/frames/${frameId}`, { headers: bearer(a.key) })).status).toBe(200);
		// The same key, overwritten by a writer that stamps it as B's (nothing in Roost does; the check must not rely on that).
		await env.FRAMES.put(key, frame, { customMetadata: { org: b.org, camera } });
		await expectProblem(await call(`/v1/orgs/${a.org}/cameras/${camera}/frames/${frameId}`, { headers: bearer(a.key) }), 404);
	});
});

describe("sandboxes are inert", () => {
	afterEach(() => setTestModel(null));

	type Kernel = { timers: unknown[]; outbox: { pending: number } };
	const sandboxOf = (kind: string) => `/v1/orgs/${a.org}/${kind}/sandbox-${crypto.randomUUID()}`;
	const post = (path: string, body: unknown) => call(path, { method: "POST", body: JSON.stringify(body), headers: bearer(a.key) });
	const interactionsOfA = () =>
		getJson<{ interactions: unknown[] }>(`/v1/orgs/${a.org}/interactions?limit=500`, { headers: bearer(a.key) });
	const kernelOf = async (path: string) => (await getJson<{ kernel: Kernel }>(`${path}/state`, { headers: bearer(a.key) })).kernel;

	/** A chat export with one answer running and `waiting` questions queued behind it. */
	function chatExport(waiting: number) {
		const event = (seq: number, type: string, data: Record<string, unknown>) => ({
			seq,
			id: `x-${seq}`,
			type,
			v: 1,
			ts: 1_800_000_000_000 + seq,
			data,
			meta: {},
		});
		const ask = (seq: number, op: string) =>
			event(seq, "chat.user_message", { messageId: `m-${op}`, operationId: op, text: `question ${op}` });
		return [
			ask(1, "op-0"),
			event(2, "llm.started", { operationId: "op-0", messageId: "m-op-0", provider: "test", model: "mock" }),
			...Array.from({ length: waiting }, (_, i) => ask(i + 3, `op-${i + 1}`)),
		];
	}

	it("200 imported questions and a cancel run no model, and nothing reaches the org", async () => {
		const model = scriptedModel(textParts(["a sandbox answer"]));
		setTestModel(model);
		const before = await interactionsOfA();
		const chat = sandboxOf("chats");
		// The queue limit holds in the reducer: the 21st waiting question refuses the whole import.
		const flood = await post(`${chat}/import`, { events: chatExport(199) });
		expect((await expectProblem(flood, 422)).errors?.[0]?.path).toBe("events[22]");
		expect((await post(`${chat}/import`, { events: chatExport(20) })).status).toBe(200);

		const cancel = await post(`${chat}/cancel`, { operationId: "op-0" });
		expect((await expectProblem(cancel, 403)).errors).toEqual([{ path: "path.id", message: expect.stringContaining("is a sandbox") }]);
		await expectProblem(await post(`${chat}/messages`, { text: "and one more", clientActionId: "one-more" }), 403);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(model.doStreamCalls).toHaveLength(0);
		expect(await kernelOf(chat)).toEqual({ timers: [], outbox: { pending: 0, oldestAt: null, nextAttemptAt: null, parked: 0 } });
		expect((await interactionsOfA()).interactions).toEqual(before.interactions);
		// Waking it again (a restart) does not start the imported answer either.
		await runInDurableObject(env.CHAT.getByName(actorName(a.org, chat.split("/").at(-1) as string)), () => undefined);
		expect(model.doStreamCalls).toHaveLength(0);
	});

	it("a fork is inert too: live writes are refused, it has no timers and sends nothing", async () => {
		const source = `/v1/orgs/${a.org}/sessions/${a.session}`;
		expect((await kernelOf(source)).timers).not.toEqual([]);
		const res = await post(`${source}/fork`, { at: 2 });
		expect(res.status).toBe(201);
		const fork = (await res.json<{ path: string }>()).path;
		expect(await kernelOf(fork)).toMatchObject({ timers: [], outbox: { pending: 0 } });
		const refused = await post(`${fork}/events`, { events: [pageView("/live-into-a-fork")] });
		expect((await expectProblem(refused, 403)).detail).toContain("is a sandbox");
		expect((await getJson<{ version: number }>(`${fork}/state`, { headers: bearer(a.key) })).version).toBe(2);
	});

	it("a sandbox camera takes no frame: nothing stored, nothing analysed", async () => {
		const camera = sandboxOf("cameras");
		const id = camera.split("/").at(-1) as string;
		const exported = [
			{
				seq: 1,
				id: "online-1",
				type: "camera.online",
				v: 1,
				ts: 1_800_000_000_000,
				data: { frameId: "f1", offlineSince: null, offlineMs: 0 },
				meta: {},
			},
		];
		expect((await post(`${camera}/import`, { events: exported })).status).toBe(200);
		const frame = await call(`${camera}/frames`, {
			method: "POST",
			body: patternFrame("png"),
			headers: { ...bearer(a.key), "content-type": "image/png" },
		});
		await expectProblem(frame, 403);
		expect((await env.FRAMES.list({ prefix: `frames/${a.org}/${id}/` })).objects).toEqual([]);
		expect(await kernelOf(camera)).toMatchObject({ timers: [], outbox: { pending: 0 } });
	});

	it("an actor with a live log takes no import, whatever its id", async () => {
		const session = `sandbox-${crypto.randomUUID()}`;
		expect((await postBatch(a.org, session, { events: [pageView("/live")] }, bearer(a.key))).status).toBe(202);
		const exported = await getJson<{ events: { actor: unknown }[] }>(`/v1/orgs/${a.org}/sessions/${a.session}/events?raw=true`, {
			headers: bearer(a.key),
		});
		const events = exported.events.map(({ actor: _actor, ...event }, i) => ({ ...event, seq: i + 3, hash: undefined }));
		const res = await post(`/v1/orgs/${a.org}/sessions/${session}/import`, { events });
		expect((await expectProblem(res, 403)).errors).toEqual([{ path: "path.id", message: "is not a sandbox" }]);
	});
});
