import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_ORG_BODY_BYTES } from "../../src/api/orgs.ts";
import { actorName, ID_PATTERN } from "../../src/core/identity.ts";
import { hashApiKey } from "../../src/http/api-keys.ts";
import { REDACTED } from "../../src/reducers/definition.ts";
import {
	adminAuth,
	allEvents,
	BASE,
	call,
	createKey,
	createOrg,
	expectProblem,
	getJson,
	revokeKey,
	Subscriber,
	uniqueId,
} from "./helpers.ts";

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function postOrg(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
	return exports.default.fetch(`${BASE}/v1/orgs`, {
		method: "POST",
		headers: { ...adminAuth, "content-type": "application/json", ...headers },
		body: typeof body === "string" ? body : JSON.stringify(body),
	});
}

interface CreatedOrg {
	org: { id: string; name: string; createdAt: number };
	apiKey: string;
	key: { id: string; label: string | null; createdAt: number; revokedAt: number | null };
}

interface OrgView {
	org: { id: string; name: string };
	keys: { id: string; label: string | null; revokedAt: number | null }[];
	version: number;
}

describe("creating an org", () => {
	it("the admin token creates an org with a server-made id and returns its first key, shown once", async () => {
		const res = await postOrg({ name: "Acme Shoes" });
		expect(res.status).toBe(201);
		const body = await res.json<CreatedOrg>();
		expect(body.org.id).toMatch(ID_PATTERN);
		expect(body.org.id).toMatch(/^acme-shoes-[a-z0-9]{12}$/);
		expect(body.org.name).toBe("Acme Shoes");
		expect(body.apiKey).toMatch(new RegExp(`^rk_${body.org.id}\\.[A-Za-z0-9_-]{43}$`));
		expect(body.key).toMatchObject({ label: "initial", revokedAt: null });

		const view = await getJson<OrgView>(`/v1/orgs/${body.org.id}`, { headers: bearer(body.apiKey) });
		expect(view.org).toMatchObject({ id: body.org.id, name: "Acme Shoes" });
		expect(view.keys.map((k) => k.id)).toEqual([body.key.id]);

		const { orgs } = await getJson<{ orgs: { id: string; name: string }[] }>("/v1/orgs", { headers: adminAuth });
		expect(orgs).toContainEqual(expect.objectContaining({ id: body.org.id, name: "Acme Shoes" }));
	});

	it("the org actor stores the key's SHA-256 and never the key", async () => {
		const { org, key, keyId } = await createOrg("Hashes only");
		const stored = await runInDurableObject(env.ORG.getByName(actorName(org, org)), (_instance, state) => {
			const rows: string[] = [];
			for (const table of ["events", "snapshots", "snapshot_parts", "client_actions", "actor_meta"]) {
				for (const row of state.storage.sql.exec(`SELECT * FROM ${table}`)) rows.push(JSON.stringify(row));
			}
			return rows.join("\n");
		});
		expect(stored).not.toContain(key);
		expect(stored).not.toContain(key.split(".")[1]);
		expect(stored).toContain(await hashApiKey(key));
		const [, created] = await allEvents(`/v1/orgs/${org}`, { headers: bearer(key) });
		expect(created).toMatchObject({ type: "org.key_created", data: { keyId, hash: REDACTED }, redacted: true });
	});

	it("a retry with the same clientActionId returns the same org, and replaces the key the lost answer carried", async () => {
		const clientActionId = uniqueId("create");
		const first = await (await postOrg({ name: "Retried", clientActionId })).json<CreatedOrg>();
		const again = await postOrg({ name: "Retried", clientActionId });
		expect(again.status).toBe(201);
		const second = await again.json<CreatedOrg>();
		expect(second.org).toEqual(first.org);
		expect(second.apiKey).not.toBe(first.apiKey);

		await expectProblem(await call(`/v1/orgs/${first.org.id}`, { headers: bearer(first.apiKey) }), 401);
		const view = await getJson<OrgView>(`/v1/orgs/${first.org.id}`, { headers: bearer(second.apiKey) });
		expect(view.keys.filter((k) => k.revokedAt === null).map((k) => k.id)).toEqual([second.key.id]);
		const { orgs } = await getJson<{ orgs: { id: string }[] }>("/v1/orgs", { headers: adminAuth });
		expect(orgs.filter((o) => o.id === first.org.id)).toHaveLength(1);
	});

	it("without a clientActionId, each call is a new org", async () => {
		const [one, two] = await Promise.all([postOrg({ name: "Twin" }), postOrg({ name: "Twin" })]);
		const ids = [(await one.json<CreatedOrg>()).org.id, (await two.json<CreatedOrg>()).org.id];
		expect(new Set(ids).size).toBe(2);
	});

	it("bad bodies name their fields, and an oversized body is a 413", async () => {
		const missing = await expectProblem(await postOrg({}), 400);
		expect(missing.errors?.map((e) => e.path)).toEqual(["name"]);
		const wrong = await expectProblem(await postOrg({ name: "x".repeat(201), clientActionId: 7 }), 400);
		expect(wrong.errors?.map((e) => e.path).sort()).toEqual(["clientActionId", "name"]);
		await expectProblem(await postOrg("{not json"), 400);
		await expectProblem(await postOrg({ name: "big", pad: "x".repeat(MAX_ORG_BODY_BYTES) }), 413);
	});

	it("historyFrom starts the org's rollups in the past; a future one or one over 400 days back is a 400 naming it", async () => {
		const now = Date.now();
		const historyFrom = now - 28 * 86_400_000;
		const res = await postOrg({ name: "With history", historyFrom });
		expect(res.status).toBe(201);
		const { org, apiKey } = await res.json<CreatedOrg>();
		const events = await allEvents(`/v1/orgs/${org.id}`, { headers: bearer(apiKey) });
		expect(events[0]).toMatchObject({ type: "org.created", data: { historyFrom } });
		// The daily rollups are built from hours that start 28 days back: the whole history is due, 400 windows a request.
		const answers: number[] = [];
		for (let round = 0; round < 5 && answers.at(-1) !== 200; round++) {
			const run = await call(`/v1/orgs/${org.id}/rollups`, {
				method: "POST",
				headers: bearer(apiKey),
				body: JSON.stringify({ period: "daily" }),
			});
			answers.push(run.status);
		}
		expect(answers.at(-1)).toBe(200);
		expect(answers.slice(0, -1)).toEqual(Array(answers.length - 1).fill(201));
		expect(answers.length).toBeGreaterThanOrEqual(3);
		const daily = await getJson<{ rollups: { start: number }[] }>(`/v1/orgs/${org.id}/patterns?period=daily&limit=200`, {
			headers: bearer(apiKey),
		});
		expect(daily.rollups.length).toBeGreaterThanOrEqual(27);
		expect(Math.min(...daily.rollups.map((r) => r.start))).toBe(Math.floor(historyFrom / 86_400_000) * 86_400_000);
		for (const bad of [now + 3_600_000, now - 401 * 86_400_000]) {
			const refused = await expectProblem(await postOrg({ name: "Bad history", historyFrom: bad }), 400);
			expect(refused.errors?.map((e) => e.path)).toEqual(["historyFrom"]);
		}
	});

	it("the request id is carried into the org's events", async () => {
		const res = await postOrg({ name: "Traced" }, { "x-request-id": "req-org-1" });
		const { org, apiKey } = await res.json<CreatedOrg>();
		const requestId = res.headers.get("x-request-id");
		const events = await allEvents(`/v1/orgs/${org.id}`, { headers: bearer(apiKey) });
		expect(events.map((e) => e.type)).toEqual(["org.created", "org.key_created"]);
		for (const event of events) expect(event.meta).toMatchObject({ requestId, correlationId: requestId, clientRequestId: "req-org-1" });
	});
});

describe("reading an org", () => {
	it("the org view and its state show key ids, labels and times, never hashes, at any version", async () => {
		const { org, key } = await createOrg("No hashes");
		const second = await createKey(org, key, "second");
		const hashes = [await hashApiKey(key), await hashApiKey(second.key)];
		for (const path of [`/v1/orgs/${org}`, `/v1/orgs/${org}/keys`, `/v1/orgs/${org}/state`, `/v1/orgs/${org}/state?at=2`]) {
			const text = await (await call(path, { headers: bearer(key) })).text();
			for (const hash of hashes) expect(text).not.toContain(hash);
			expect(text).not.toContain('"hash"');
		}
		const { state } = await getJson<{ state: { name: string; keys: Record<string, { label: string }> } }>(`/v1/orgs/${org}/state`, {
			headers: bearer(key),
		});
		expect(state.name).toBe("No hashes");
		expect(Object.values(state.keys).map((k) => k.label)).toEqual(["initial", "second"]);
	});
});

describe("key hashes on every read path", () => {
	it("no read of the org (events, by id, raw, state now and at, snapshots, replay, socket, MCP) holds a stored key hash", async () => {
		const { org, key } = await createOrg("Hash walk");
		// Ten more keys take the org past SNAPSHOT_EVERY (10 here), so a stored snapshot holds key hashes too.
		const keys = [key];
		for (let i = 0; i < 10; i++) keys.push((await createKey(org, key, `k${i}`)).key);
		const hashes = await Promise.all(keys.map(hashApiKey));
		const read = async (path: string) => {
			const res = await call(path, { headers: bearer(key) });
			expect(res.status, path).toBe(200);
			return res.text();
		};
		const events = await allEvents(`/v1/orgs/${org}`, { headers: bearer(key) });
		const keyEvent = events.find((e) => e.type === "org.key_created");
		const snapshots = await getJson<{ snapshots: { version: number }[] }>(`/v1/orgs/${org}/snapshots`, { headers: bearer(key) });
		expect(snapshots.snapshots.length).toBeGreaterThan(0);
		const texts = [JSON.stringify(events)];
		for (const path of [
			`/v1/orgs/${org}/events?limit=1000`,
			`/v1/orgs/${org}/events?limit=1000&raw=true`,
			`/v1/orgs/${org}/events?id=${keyEvent?.id}`,
			`/v1/orgs/${org}/events?id=${keyEvent?.id}&raw=true`,
			`/v1/orgs/${org}/events?type=org.key_created&limit=1000`,
			`/v1/orgs/${org}/state`,
			`/v1/orgs/${org}/state?at=3`,
			`/v1/orgs/${org}/replay`,
			`/v1/orgs/${org}/verify`,
			...snapshots.snapshots.map((s) => `/v1/orgs/${org}/snapshots/${s.version}`),
		])
			texts.push(await read(path));

		const socket = await Subscriber.open(`/v1/orgs/${org}`, 0, key);
		await socket.until((s) => s.events().length >= events.length);
		texts.push(JSON.stringify(socket.frames));
		socket.socket.close(1000, "done");

		for (const [name, args] of [
			["get_events", { kind: "org", limit: 1000 }],
			["get_events", { kind: "org", limit: 1000, raw: true }],
			["get_state_at", { kind: "org" }],
			["get_state_at", { kind: "org", at: 3 }],
		] as const) {
			const res = await exports.default.fetch(`${BASE}/mcp`, {
				method: "POST",
				headers: { ...bearer(key), "content-type": "application/json", accept: "application/json, text/event-stream" },
				body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
			});
			const text = await res.text();
			expect(text, name).toContain('"structuredContent"');
			texts.push(text);
		}

		for (const text of texts) for (const hash of hashes) expect(text).not.toContain(hash);
		expect(keyEvent).toMatchObject({ data: { hash: REDACTED }, redacted: true });
		// The chain is still checked on the stored rows, and every key still opens the org.
		expect(JSON.parse(texts.find((t) => t.includes('"headHash"') && t.includes('"ok"')) ?? "{}")).toMatchObject({ ok: true });
		for (const live of keys) expect((await call(`/v1/orgs/${org}`, { headers: bearer(live) })).status).toBe(200);
	});
});

describe("keys", () => {
	it("a new key works at once and is listed with its label and role; a body without a role is a 400 naming it", async () => {
		const { org, key } = await createOrg("Keys");
		const res = await call(`/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: bearer(key),
			body: JSON.stringify({ role: "viewer", label: "ci" }),
		});
		expect(res.status).toBe(201);
		const created = await res.json<{ apiKey: string; key: { id: string; label: string } }>();
		expect(created.key.label).toBe("ci");
		expect((await call(`/v1/orgs/${org}`, { headers: bearer(created.apiKey) })).status).toBe(200);
		const bare = await expectProblem(await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: "{}" }), 400);
		expect(bare.errors?.map((e) => e.path)).toContain("role");
		const { keys } = await getJson<{ keys: { id: string; label: string | null; role: string }[] }>(`/v1/orgs/${org}/keys`, {
			headers: bearer(key),
		});
		expect(keys.map((k) => [k.label, k.role])).toEqual([
			["initial", "admin"],
			["ci", "viewer"],
		]);
	});

	it("a revoked key stops working at once, on every route and socket", async () => {
		const { org, key } = await createOrg("Revoke");
		const doomed = await createKey(org, key, "doomed");
		expect((await call(`/v1/orgs/${org}/sessions/s1/state`, { headers: bearer(doomed.key) })).status).toBe(200);
		await revokeKey(org, key, doomed.keyId);
		await expectProblem(await call(`/v1/orgs/${org}/sessions/s1/state`, { headers: bearer(doomed.key) }), 401);
		await expectProblem(await call(`/v1/orgs/${org}`, { headers: bearer(doomed.key) }), 401);
		const ws = await exports.default.fetch(`${BASE}/v1/orgs/${org}/ws?token=${doomed.key}`, { headers: { upgrade: "websocket" } });
		await expectProblem(ws, 401);
		const view = await getJson<OrgView>(`/v1/orgs/${org}`, { headers: bearer(key) });
		expect(view.keys.find((k) => k.id === doomed.keyId)?.revokedAt).toEqual(expect.any(Number));
	});

	it("revoking twice answers the same and appends nothing; an unknown key id is a 404", async () => {
		const { org, key } = await createOrg("Twice");
		const spare = await createKey(org, key);
		const revoke = () => call(`/v1/orgs/${org}/keys/${spare.keyId}`, { method: "DELETE", headers: bearer(key) });
		const first = await (await revoke()).json<{ key: { revokedAt: number } }>();
		const { version } = await getJson<OrgView>(`/v1/orgs/${org}`, { headers: bearer(key) });
		const second = await revoke();
		expect(second.status).toBe(200);
		expect(await second.json()).toEqual(first);
		expect((await getJson<OrgView>(`/v1/orgs/${org}`, { headers: bearer(key) })).version).toBe(version);
		await expectProblem(await call(`/v1/orgs/${org}/keys/key_nope`, { method: "DELETE", headers: bearer(key) }), 404);
	});

	it("the last active key cannot be revoked, so an org is never locked out", async () => {
		const { org, key, keyId } = await createOrg("Last key");
		const res = await call(`/v1/orgs/${org}/keys/${keyId}`, { method: "DELETE", headers: bearer(key) });
		const body = await expectProblem(res, 409);
		expect(body).toMatchObject({ title: "Last active key", currentVersion: 2 });
		expect((await call(`/v1/orgs/${org}`, { headers: bearer(key) })).status).toBe(200);
	});

	it("a key can revoke itself while another stays live", async () => {
		const { org, key } = await createOrg("Self");
		const other = await createKey(org, key);
		const self = (await getJson<OrgView>(`/v1/orgs/${org}`, { headers: bearer(key) })).keys[0]?.id;
		expect((await call(`/v1/orgs/${org}/keys/${self}`, { method: "DELETE", headers: bearer(key) })).status).toBe(200);
		await expectProblem(await call(`/v1/orgs/${org}`, { headers: bearer(key) }), 401);
		expect((await call(`/v1/orgs/${org}`, { headers: bearer(other.key) })).status).toBe(200);
	});

	it("a retried key request with the same clientActionId leaves one live key for that action", async () => {
		const { org, key } = await createOrg("Key retry");
		const ask = async () =>
			(
				await call(`/v1/orgs/${org}/keys`, {
					method: "POST",
					headers: bearer(key),
					body: JSON.stringify({ role: "admin", label: "sdk", clientActionId: "k-1" }),
				})
			).json<{ apiKey: string; key: { id: string } }>();
		const first = await ask();
		const second = await ask();
		expect(second.key.id).not.toBe(first.key.id);
		await expectProblem(await call(`/v1/orgs/${org}`, { headers: bearer(first.apiKey) }), 401);
		expect((await call(`/v1/orgs/${org}`, { headers: bearer(second.apiKey) })).status).toBe(200);
		const { keys } = await getJson<OrgView>(`/v1/orgs/${org}`, { headers: bearer(key) });
		expect(keys.filter((k) => k.label === "sdk" && k.revokedAt === null)).toHaveLength(1);
	});

	it("key events carry the caller's request id that made them (as clientRequestId) and the key that acted (as principal)", async () => {
		const { org, key, keyId } = await createOrg("Key trace");
		const spare = await call(`/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: { ...bearer(key), "x-request-id": "req-key-1" },
			body: JSON.stringify({ role: "ingest" }),
		});
		const { key: made } = await spare.json<{ key: { id: string } }>();
		await call(`/v1/orgs/${org}/keys/${made.id}`, { method: "DELETE", headers: { ...bearer(key), "x-request-id": "req-key-2" } });
		const events = await allEvents(`/v1/orgs/${org}`, { headers: bearer(key) });
		expect(events.slice(-2).map((e) => [e.type, e.meta.clientRequestId, e.meta.principal])).toEqual([
			["org.key_created", "req-key-1", { kind: "key", id: keyId }],
			["org.key_revoked", "req-key-2", { kind: "key", id: keyId }],
		]);
		// Never a secret: the key's id, not the key.
		expect(JSON.stringify(events.map((e) => e.meta))).not.toContain(key);
	});
});

describe("keys naming orgs that do not exist", () => {
	it("20 forged keys of made-up orgs are 401 and create no org Durable Object; real keys still work", async () => {
		const ghosts = Array.from({ length: 20 }, (_, i) => `ghost-org-${i}-${uniqueId()}`);
		for (const ghost of ghosts) {
			const forged = `rk_${ghost}.${"G".repeat(43)}`;
			const res = await exports.default.fetch(`${BASE}/v1/orgs/${ghost}/sessions`, { headers: bearer(forged) });
			await expectProblem(res, 401);
			const mcp = await exports.default.fetch(`${BASE}/mcp`, { method: "POST", headers: bearer(forged) });
			await expectProblem(mcp, 401);
		}
		const created = new Set((await listDurableObjectIds(env.ORG)).map((id) => id.toString()));
		for (const ghost of ghosts) expect(created.has(env.ORG.idFromName(actorName(ghost, ghost)).toString())).toBe(false);

		const real = await createOrg("Real org");
		expect((await call(`/v1/orgs/${real.org}`, { headers: bearer(real.key) })).status).toBe(200);
		expect(created.has(env.ORG.idFromName(actorName(real.org, real.org)).toString())).toBe(false);
		const after = new Set((await listDurableObjectIds(env.ORG)).map((id) => id.toString()));
		expect(after.has(env.ORG.idFromName(actorName(real.org, real.org)).toString())).toBe(true);
	});

	it("a freshly created org's key works at once", async () => {
		const fresh = await createOrg("Fresh org");
		expect((await call(`/v1/orgs/${fresh.org}/sessions`, { headers: bearer(fresh.key) })).status).toBe(200);
	});
});
