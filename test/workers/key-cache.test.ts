/**
 * The per-isolate key cache (src/http/key-cache.ts, docs/api.md "How keys are checked"), with a controlled clock.
 * A change made through the org actor's RPC directly stands in for a change made in another isolate: this isolate
 * learns of it only when its remembered answer runs out. A change made through the routes is seen here at once.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { mintApiKey } from "../../src/http/api-keys.ts";
import { FAILED_KEY_CACHE_MS, KEY_CACHE_MS } from "../../src/http/key-cache.ts";
import { call, createKey, createOrg, revokeKey } from "./helpers.ts";
import { clockAt } from "./reliability-support.ts";

const T0 = Date.UTC(2035, 2, 1, 9, 0);
clockAt(T0);

/** The status GET /v1/orgs/{org} answers with `key`. */
const statusWith = async (org: string, key: string): Promise<number> => {
	const res = await call(`/v1/orgs/${org}`, { headers: { authorization: `Bearer ${key}` } });
	await res.body?.cancel();
	return res.status;
};
const orgActor = (org: string) => env.ORG.getByName(actorName(org, org));

describe("key cache", () => {
	it("a key revoked in another isolate (the org actor's RPC) keeps working here until KEY_CACHE_MS passes, then 401", async () => {
		const owner = await createOrg("Cache revoke elsewhere");
		const spare = await createKey(owner.org, owner.key, "spare");
		expect(await statusWith(owner.org, spare.key)).toBe(200);
		const revoked = await orgActor(owner.org).revokeKey(spare.keyId);
		expect(revoked.ok).toBe(true);
		// The org actor refuses it already; this isolate still trusts what it was told at T0.
		expect(await statusWith(owner.org, spare.key)).toBe(200);
		vi.setSystemTime(T0 + KEY_CACHE_MS - 1);
		expect(await statusWith(owner.org, spare.key)).toBe(200);
		vi.setSystemTime(T0 + KEY_CACHE_MS);
		expect(await statusWith(owner.org, spare.key)).toBe(401);
		expect(await statusWith(owner.org, owner.key)).toBe(200);
	});

	it("a key revoked through the route in this isolate is 401 at once", async () => {
		const owner = await createOrg("Cache revoke here");
		const spare = await createKey(owner.org, owner.key, "spare");
		expect(await statusWith(owner.org, spare.key)).toBe(200);
		await revokeKey(owner.org, owner.key, spare.keyId);
		expect(await statusWith(owner.org, spare.key)).toBe(401);
		expect(await statusWith(owner.org, owner.key)).toBe(200);
	});

	it("a remembered key is 401 at once when its expiresAt comes, before the cache would ask again", async () => {
		const owner = await createOrg("Cache expiry");
		const res = await call(`/v1/orgs/${owner.org}/keys`, {
			method: "POST",
			headers: { authorization: `Bearer ${owner.key}` },
			body: JSON.stringify({ role: "viewer", expiresAt: T0 + 5_000 }),
		});
		expect(res.status).toBe(201);
		const { apiKey } = await res.json<{ apiKey: string }>();
		expect(await statusWith(owner.org, apiKey)).toBe(200);
		vi.setSystemTime(T0 + 4_999);
		expect(await statusWith(owner.org, apiKey)).toBe(200);
		vi.setSystemTime(T0 + 5_000);
		expect(await statusWith(owner.org, apiKey)).toBe(401);
	});

	it("a key made in another isolate after a failed lookup of it works once FAILED_KEY_CACHE_MS passes", async () => {
		const owner = await createOrg("Cache new elsewhere");
		const key = await mintApiKey(owner.org, "viewer", { label: "made elsewhere" });
		expect(await statusWith(owner.org, key.apiKey)).toBe(401);
		expect((await orgActor(owner.org).issueKey({ key })).ok).toBe(true);
		// The refusal is remembered briefly: that is what keeps a stream of bad keys off the org actor.
		expect(await statusWith(owner.org, key.apiKey)).toBe(401);
		vi.setSystemTime(T0 + FAILED_KEY_CACHE_MS);
		expect(await statusWith(owner.org, key.apiKey)).toBe(200);
	});

	it("a key creation through the route in this isolate forgets the org's refused keys: a new key works at once after a failed lookup", async () => {
		const owner = await createOrg("Cache new here");
		const key = await mintApiKey(owner.org, "viewer", { label: "looked up early" });
		expect(await statusWith(owner.org, key.apiKey)).toBe(401);
		expect((await orgActor(owner.org).issueKey({ key })).ok).toBe(true);
		expect(await statusWith(owner.org, key.apiKey)).toBe(401);
		const made = await createKey(owner.org, owner.key, "made here", "viewer");
		expect(await statusWith(owner.org, key.apiKey)).toBe(200);
		expect(await statusWith(owner.org, made.key)).toBe(200);
	});

	it("concurrent requests with one new key all answer, and a later revocation elsewhere is not seen before the TTL", async () => {
		const owner = await createOrg("Cache concurrent");
		const spare = await createKey(owner.org, owner.key, "busy", "viewer");
		const statuses = await Promise.all(Array.from({ length: 20 }, () => statusWith(owner.org, spare.key)));
		expect(statuses).toEqual(Array(20).fill(200));
		expect((await orgActor(owner.org).revokeKey(spare.keyId)).ok).toBe(true);
		expect(await statusWith(owner.org, spare.key)).toBe(200);
		vi.setSystemTime(T0 + KEY_CACHE_MS);
		expect(await statusWith(owner.org, spare.key)).toBe(401);
	});
});
