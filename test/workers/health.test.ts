import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import packageJson from "../../package.json";
import { BASE } from "./helpers.ts";

const get = (path: string, init: RequestInit = {}) => exports.default.fetch(`${BASE}${path}`, init);

describe("GET /healthz", () => {
	it("answers without credentials with ok and the version, and nothing else", async () => {
		const res = await get("/healthz");
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("no-store");
		expect(await res.json()).toEqual({ ok: true, version: packageJson.version });
	});

	it("?deep=1 round-trips the registry actor and reports its latency, never an org", async () => {
		const res = await get("/healthz?deep=1");
		expect(res.status).toBe(200);
		const body = await res.json<{ ok: boolean; registry: { ok: boolean; latencyMs: number } }>();
		expect(body).toEqual({ ok: true, version: packageJson.version, registry: { ok: true, latencyMs: expect.any(Number) } });
		expect(body.registry.latencyMs).toBeGreaterThanOrEqual(0);
	});

	it("a credential changes nothing, and a bad query value names its field", async () => {
		const withKey = await get("/healthz", { headers: { authorization: "Bearer rk_acme.nope" } });
		expect(await withKey.json()).toEqual({ ok: true, version: packageJson.version });
		const bad = await get("/healthz?deep=yes");
		expect(bad.status).toBe(400);
		expect(await bad.json()).toMatchObject({ errors: [{ path: "query.deep" }] });
	});
});
