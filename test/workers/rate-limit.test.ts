import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { RATE_LIMIT_PERIOD_SECONDS } from "../../src/http/rate-limit.ts";
import { BASE, createOrg, uniqueId } from "./helpers.ts";

// The suite runs with RATE_LIMITS=off; these requests go through an app given the same bindings with
// limits on, against the small test budgets in vitest.config.ts (8 per IP, 5 per key, per minute).
const limited = { ...env, RATE_LIMITS: "on" };
const app = createApp();

async function send(path: string, headers: Record<string, string>): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await app.fetch(new Request(`${BASE}${path}`, { headers }), limited, ctx);
	await waitOnExecutionContext(ctx);
	return res;
}

const ip = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}-${uniqueId()}`;

describe("rate limits", () => {
	it("an API key over its budget gets 429 with Retry-After, and another key of the org does not", async () => {
		const { org, key } = await createOrg("Limited");
		const headers = (k: string) => ({ authorization: `Bearer ${k}`, "cf-connecting-ip": ip() });
		for (let i = 0; i < 5; i++) expect((await send(`/v1/orgs/${org}`, headers(key))).status).toBe(200);
		const refused = await send(`/v1/orgs/${org}`, headers(key));
		expect(refused.status).toBe(429);
		expect(refused.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
		expect(refused.headers.get("content-type")).toContain("application/problem+json");
		expect(refused.headers.get("x-request-id")).toBeTruthy();
		expect(await refused.json()).toMatchObject({ status: 429, title: "Too many requests" });
	});

	it("one client IP over its budget gets 429 before its credentials are even looked at", async () => {
		const from = ip();
		for (let i = 0; i < 8; i++) expect((await send("/v1/orgs/nobody", { "cf-connecting-ip": from })).status).toBe(401);
		const refused = await send("/v1/orgs/nobody", { "cf-connecting-ip": from });
		expect(refused.status).toBe(429);
		expect(refused.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
		expect((await send("/v1/orgs/nobody", { "cf-connecting-ip": ip() })).status).toBe(401);
	});

	it("with RATE_LIMITS=off nothing is limited", async () => {
		const from = ip();
		for (let i = 0; i < 12; i++) {
			const ctx = createExecutionContext();
			const res = await app.fetch(new Request(`${BASE}/v1/orgs/nobody`, { headers: { "cf-connecting-ip": from } }), env, ctx);
			expect(res.status).toBe(401);
		}
	});
});
