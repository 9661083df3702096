/** A deployment without a binding a feature needs: that feature's routes are a 503 naming it, the others work. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { Env } from "../../src/env.ts";
import { BASE, keyFor, pageView } from "./helpers.ts";

const ORG = "acme";

/** The Worker's app with some bindings taken away, as a deployment whose config lacks them would run. */
async function callWithout(missing: (keyof Env)[], path: string, init: RequestInit = {}): Promise<Response> {
	const partial = { ...env } as Record<string, unknown>;
	for (const name of missing) delete partial[name];
	const ctx = createExecutionContext();
	const headers = new Headers(init.headers);
	headers.set("authorization", `Bearer ${await keyFor(ORG)}`);
	if (init.body) headers.set("content-type", "application/json");
	const res = await createApp().fetch(new Request(`${BASE}${path}`, { ...init, headers }), partial as unknown as Env, ctx);
	await waitOnExecutionContext(ctx);
	return res;
}

describe("a missing binding", () => {
	it("answers the routes that need it with a 503 problem naming it", async () => {
		const res = await callWithout(["FRAMES"], `/v1/orgs/${ORG}/cameras/cam-1/state`);
		expect(res.status).toBe(503);
		expect(res.headers.get("content-type")).toBe("application/problem+json");
		const problem = await res.json<{ title: string; detail: string; missing: string[] }>();
		expect(problem).toMatchObject({ title: "Not configured", missing: ["FRAMES"] });
		expect(problem.detail).toContain("binding FRAMES");
	});

	it("leaves every other route working", async () => {
		const session = `s-${crypto.randomUUID()}`;
		const body = JSON.stringify({ events: [pageView("/a")] });
		const res = await callWithout(["FRAMES", "CHAT"], `/v1/orgs/${ORG}/sessions/${session}/events`, { method: "POST", body });
		expect(res.status).toBe(202);
		const health = await callWithout(["REGISTRY", "ORG"], "/healthz");
		expect(await health.json()).toMatchObject({ ok: true });
	});

	it("without the registry or the orgs, org routes and /mcp are a 503 naming what is missing", async () => {
		const res = await callWithout(["REGISTRY"], `/v1/orgs/${ORG}`);
		expect(res.status).toBe(503);
		expect(await res.json()).toMatchObject({ missing: ["REGISTRY"] });
		const mcp = await callWithout(["ORG"], "/mcp", { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
		expect(mcp.status).toBe(503);
		expect(await mcp.json()).toMatchObject({ missing: ["ORG"] });
	});
});
