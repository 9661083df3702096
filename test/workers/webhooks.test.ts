/**
 * Webhook endpoints through the API and the org actor in workerd: managing them, secrets shown once, URLs refused
 * in production settings (this Worker has no WEBHOOKS_ALLOW_LOCAL), and events turned into deliveries in the
 * org's outbox. Delivery to a real receiver is in test/node/webhooks-delivery.test.ts.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { MAX_WEBHOOKS } from "../../src/reducers/org-webhooks.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";
import { call, createOrg, getJson, type TestOrg, uniqueId } from "./helpers.ts";

const URL_OK = "https://hooks.invalid/roost";

async function create(t: TestOrg, body: unknown): Promise<Response> {
	return call(`/v1/orgs/${t.org}/webhooks`, { method: "POST", body: JSON.stringify(body), headers: { authorization: `Bearer ${t.key}` } });
}

async function created(t: TestOrg, events = ["camera.online"]): Promise<{ id: string; secret: string }> {
	const res = await create(t, { url: URL_OK, events, description: "CRM" });
	expect(res.status, await res.clone().text()).toBe(201);
	const body = await res.json<{ webhook: { id: string }; secret: string }>();
	return { id: body.webhook.id, secret: body.secret };
}

async function problem(res: Response, status: number): Promise<{ errors?: { path: string }[]; detail: string }> {
	expect(res.status, await res.clone().text()).toBe(status);
	expect(res.headers.get("content-type")).toContain("application/problem+json");
	return res.json();
}

describe("webhook endpoints", () => {
	it("are created, listed, changed and deleted as org events; the secret is shown once and nowhere after", async () => {
		const t = await createOrg();
		const { id, secret } = await created(t);
		expect(secret).toMatch(/^whsec_/);
		const list = await getJson<{ webhooks: { id: string; url: string; enabled: boolean; description: string }[] }>(
			`/v1/orgs/${t.org}/webhooks`,
		);
		expect(list.webhooks).toEqual([expect.objectContaining({ id, url: URL_OK, enabled: true, description: "CRM" })]);
		const patched = await call(`/v1/orgs/${t.org}/webhooks/${id}`, {
			method: "PATCH",
			body: JSON.stringify({ events: ["camera.offline", "pattern.detected"] }),
		});
		expect(await patched.json()).toMatchObject({ events: ["camera.offline", "pattern.detected"] });
		const rotated = await call(`/v1/orgs/${t.org}/webhooks/${id}/rotate-secret`, { method: "POST" });
		const { secret: next, previousValidUntil } = await rotated.json<{ secret: string; previousValidUntil: number }>();
		expect(next).not.toBe(secret);
		expect(previousValidUntil).toBeGreaterThan(Date.now());
		expect((await call(`/v1/orgs/${t.org}/webhooks/${id}`, { method: "DELETE" })).status).toBe(200);
		expect((await call(`/v1/orgs/${t.org}/webhooks/${id}`)).status).toBe(404);

		const { events } = await getJson<{ events: { type: string; data: Record<string, unknown> }[] }>(`/v1/orgs/${t.org}/events?limit=1000`);
		expect(events.map((e) => e.type).filter((type) => type.startsWith("org.webhook"))).toEqual([
			"org.webhook_created",
			"org.webhook_updated",
			"org.webhook_secret_rotated",
			"org.webhook_deleted",
		]);
		const everything = JSON.stringify([events, await getJson(`/v1/orgs/${t.org}/state`), await getJson(`/v1/orgs/${t.org}/webhooks`)]);
		for (const shown of [secret, next, secret.slice(6), next.slice(6)]) expect(everything).not.toContain(shown);
	});

	it.each([
		["http://hooks.example/in", "must be an https URL"],
		["https://127.0.0.1/in", "private"],
		["https://10.0.0.7/in", "private"],
		["https://169.254.169.254/latest/meta-data", "metadata"],
		["https://[::1]/in", "private"],
		["https://localhost/in", "public host"],
		["https://metadata.google.internal/", "public host"],
	])("%s is refused in production settings, naming the url field", async (url, why) => {
		const t = await createOrg();
		const body = await problem(await create(t, { url, events: ["camera.online"] }), 400);
		expect(body.errors).toEqual([{ path: "url", message: expect.stringContaining(why) }]);
		const { id } = await created(t);
		const patched = await problem(await call(`/v1/orgs/${t.org}/webhooks/${id}`, { method: "PATCH", body: JSON.stringify({ url }) }), 400);
		expect(patched.errors?.[0]?.path).toBe("url");
		expect((await getJson<{ webhooks: unknown[] }>(`/v1/orgs/${t.org}/webhooks`)).webhooks).toHaveLength(1);
	});

	it("bad input names its field: an unknown event type, a repeated one, none, an unknown field", async () => {
		const t = await createOrg();
		const cases: [unknown, string][] = [
			[{ url: URL_OK, events: ["camera.exploded"] }, "events[0]"],
			[{ url: URL_OK, events: ["camera.online", "camera.online"] }, "events"],
			[{ url: URL_OK, events: [] }, "events"],
			[{ url: URL_OK, events: ["camera.online"], secret: "mine" }, ""],
			[{ url: "x".repeat(3000), events: ["camera.online"] }, "url"],
		];
		for (const [body, field] of cases) {
			const answer = await problem(await create(t, body), 400);
			expect(answer.errors?.map((e) => e.path).join(), JSON.stringify(body)).toContain(field);
		}
	});

	it(`an org has at most ${MAX_WEBHOOKS} endpoints`, async () => {
		const t = await createOrg();
		for (let i = 0; i < MAX_WEBHOOKS; i++) await created(t);
		await problem(await create(t, { url: URL_OK, events: ["camera.online"] }), 422);
	});

	it("another org's endpoint is not found, whatever its id", async () => {
		const [a, b] = [await createOrg(), await createOrg()];
		const { id } = await created(b);
		for (const [method, suffix] of [
			["GET", ""],
			["DELETE", ""],
			["POST", "/test"],
			["GET", "/deliveries"],
		] as const) {
			const res = await call(`/v1/orgs/${a.org}/webhooks/${id}${suffix}`, { method, headers: { authorization: `Bearer ${a.key}` } });
			await problem(res, 404);
		}
		expect((await call(`/v1/orgs/${b.org}/webhooks/${id}`)).status).toBe(200);
	});
});

describe("deliveries", () => {
	it("a camera coming online becomes a delivery to each subscribed endpoint, recorded with the event, and logged", async () => {
		const t = await createOrg();
		const subscribed = await created(t, ["camera.online"]);
		const other = await created(t, ["pattern.detected"]);
		const camera = uniqueId("cam");
		const frame = await call(`/v1/orgs/${t.org}/cameras/${camera}/frames`, {
			method: "POST",
			body: patternFrame("png", { square: { x: 10, y: 10, size: 20 } }),
			headers: { "content-type": "image/png" },
		});
		expect(frame.status).toBe(202);
		const deadline = Date.now() + 10_000;
		let deliveries: { id: string; type: string; status: string }[] = [];
		while (Date.now() < deadline) {
			({ deliveries } = await getJson<{ deliveries: typeof deliveries }>(`/v1/orgs/${t.org}/webhooks/${subscribed.id}/deliveries`));
			if (deliveries.length > 0) break;
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		// hooks.invalid never resolves: the delivery waits for its first attempt or is retrying, never lost.
		expect(deliveries).toEqual([expect.objectContaining({ type: "camera.online", status: expect.stringMatching(/^(pending|retrying)$/) })]);
		const { events } = await getJson<{ events: { id: string }[] }>(`/v1/orgs/${t.org}/events?type=org.camera_status`);
		expect(deliveries[0]?.id).toBe(`msg_${subscribed.id}_${events[0]?.id}`);
		expect((await getJson<{ deliveries: unknown[] }>(`/v1/orgs/${t.org}/webhooks/${other.id}/deliveries`)).deliveries).toEqual([]);
	});

	it("a test delivery is queued at once and a pending one cannot be retried by hand", async () => {
		const t = await createOrg();
		const { id } = await created(t);
		const test = await call(`/v1/orgs/${t.org}/webhooks/${id}/test`, { method: "POST" });
		expect(test.status).toBe(202);
		const { delivery } = await test.json<{ delivery: string }>();
		const { deliveries } = await getJson<{ deliveries: { id: string; type: string }[] }>(`/v1/orgs/${t.org}/webhooks/${id}/deliveries`);
		expect(deliveries[0]).toMatchObject({ id: delivery, type: "webhook.test" });
		await problem(await call(`/v1/orgs/${t.org}/webhooks/${id}/deliveries/${delivery}/retry`, { method: "POST" }), 422);
		await problem(await call(`/v1/orgs/${t.org}/webhooks/${id}/deliveries?status=lost`), 400);
	});

	it("a status filter finds an old failed delivery behind 600 newer delivered ones", async () => {
		const t = await createOrg();
		const { id } = await created(t);
		await runInDurableObject(env.ORG.getByName(actorName(t.org, t.org)), (_instance, state) => {
			const insert = `INSERT INTO webhook_deliveries (id, endpoint, type, body, created_at, status, attempts) VALUES (?, ?, 'camera.online', '{}', ?, ?, 1)`;
			state.storage.sql.exec(insert, `msg_${id}_old`, id, 1, "failed");
			for (let i = 0; i < 600; i++) state.storage.sql.exec(insert, `msg_${id}_${i}`, id, 2 + i, "delivered");
		});
		const failed = await getJson<{ deliveries: { id: string }[] }>(`/v1/orgs/${t.org}/webhooks/${id}/deliveries?status=failed`);
		expect(failed.deliveries.map((d) => d.id)).toEqual([`msg_${id}_old`]);
		const delivered = await getJson<{ deliveries: { status: string }[] }>(
			`/v1/orgs/${t.org}/webhooks/${id}/deliveries?status=delivered&limit=100`,
		);
		expect(delivered.deliveries).toHaveLength(100);
	});
});
