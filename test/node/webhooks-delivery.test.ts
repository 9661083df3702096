/**
 * Webhook deliveries over real HTTP: Roost's Worker under wrangler's local workerd (test/browser/local-roost.ts)
 * posts to a Node HTTP server on 127.0.0.1 (WEBHOOKS_ALLOW_LOCAL=1), which checks each delivery with the
 * `standardwebhooks` library, the way a customer's receiver would.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRoost, startLocalRoost } from "../browser/local-roost.ts";

interface Received {
	path: string;
	headers: IncomingHttpHeaders;
	body: string;
	at: number;
	answered: number;
}

/** What the receiver answers on a path, given how many requests that path had before this one. */
type Behaviour = (before: number) => { status: number; headers?: Record<string, string> };

const received: Received[] = [];
const behaviours: Record<string, Behaviour> = {
	"/ok": () => ({ status: 200 }),
	"/flaky": (before) => (before === 0 ? { status: 503, headers: { "retry-after": "2" } } : { status: 204 }),
	"/dead": () => ({ status: 500 }),
	"/gone": () => ({ status: 410 }),
};
let healed = false;

let receiver: Server;
let receiverUrl: string;
let roost: LocalRoost;
let org: string;
let apiKey: string;

beforeAll(async () => {
	receiver = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on("data", (chunk: Buffer) => chunks.push(chunk));
		req.on("end", () => {
			const path = req.url ?? "/";
			const before = received.filter((r) => r.path === path).length;
			const behaviour = healed && path === "/dead" ? { status: 200 } : (behaviours[path]?.(before) ?? { status: 404 });
			received.push({
				path,
				headers: req.headers,
				body: Buffer.concat(chunks).toString("utf8"),
				at: Date.now(),
				answered: behaviour.status,
			});
			res.writeHead(behaviour.status, behaviour.headers);
			res.end("x".repeat(10_000));
		});
	});
	await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
	receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
	roost = await startLocalRoost({
		vars: { RATE_LIMITS: "off", WEBHOOKS_ALLOW_LOCAL: "1", WEBHOOK_MAX_ATTEMPTS: "3", SESSION_INACTIVITY_MS: "1000" },
	});
	({ org, apiKey } = await roost.createOrg("Webhooks Inc"));
}, 120_000);

afterAll(async () => {
	await roost?.dispose();
	await new Promise((resolve) => receiver?.close(resolve));
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
	const res = await fetch(`${roost.url}/v1/orgs/${org}${path}`, {
		method,
		headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
		...(body === undefined ? {} : { body: JSON.stringify(body) }),
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function createWebhook(path: string, events: string[] = ["interaction.recorded"]): Promise<{ id: string; secret: string }> {
	const res = await api("POST", "/webhooks", { url: `${receiverUrl}${path}`, events });
	expect(res.status, JSON.stringify(res.body)).toBe(201);
	return { id: (res.body.webhook as { id: string }).id, secret: res.body.secret as string };
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (done(value)) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

const at = (path: string) => received.filter((r) => r.path === path);
const headersOf = (r: Received) => ({
	"webhook-id": String(r.headers["webhook-id"]),
	"webhook-timestamp": String(r.headers["webhook-timestamp"]),
	"webhook-signature": String(r.headers["webhook-signature"]),
});
type Delivery = { id: string; status: string; attempts: number; responseStatus: number | null; ms: number | null; response: string | null };
const deliveries = async (webhookId: string) => (await api("GET", `/webhooks/${webhookId}/deliveries`)).body.deliveries as Delivery[];

describe("webhook deliveries to a real receiver", () => {
	it("a test delivery and an ended visit's interaction arrive signed, and verify with the Standard Webhooks algorithm", async () => {
		const { id, secret } = await createWebhook("/ok");
		expect(secret).toMatch(/^whsec_/);
		expect((await api("POST", `/webhooks/${id}/test`)).status).toBe(202);
		const visit = await fetch(`${roost.url}/v1/orgs/${org}/sessions/s-hook/events`, {
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
			body: JSON.stringify({
				events: [{ id: "e1", type: "session.page_viewed", ts: Date.now(), data: { url: "https://shop.example/", path: "/" } }],
			}),
		});
		expect(visit.status).toBe(202);
		const [test, interaction] = await until(
			"two deliveries",
			async () => at("/ok"),
			(r) => r.length >= 2,
		);
		if (!test || !interaction) throw new Error("missing deliveries");
		const verifier = new Webhook(secret);
		expect(verifier.verify(test.body, headersOf(test))).toMatchObject({ type: "webhook.test", data: { webhook: id, org } });
		expect(verifier.verify(interaction.body, headersOf(interaction))).toMatchObject({
			type: "interaction.recorded",
			data: { source: "web", actor: { kind: "session", id: "s-hook" } },
		});
		expect(JSON.parse(interaction.body).timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
		expect(() =>
			new Webhook(`whsec_${Buffer.from("another secret, 32 bytes long!!").toString("base64")}`).verify(test.body, headersOf(test)),
		).toThrow();
		const log = await until(
			"a delivered log",
			() => deliveries(id),
			(d) => d.length === 2 && d.every((x) => x.status === "delivered"),
		);
		expect(log.map((d) => d.attempts)).toEqual([1, 1]);
		// The receiver answered 10,000 bytes: the log keeps only its start.
		expect(log[0]?.response?.length).toBeLessThanOrEqual(256);
		expect(log[0]?.responseStatus).toBe(200);
	});

	it("a 503 with Retry-After, then a 204: delivered once, both attempts with the same webhook-id", async () => {
		const { id, secret } = await createWebhook("/flaky");
		const test = await api("POST", `/webhooks/${id}/test`);
		const attempts = await until(
			"two attempts",
			async () => at("/flaky"),
			(r) => r.length >= 2,
		);
		expect(attempts.map((r) => r.answered)).toEqual([503, 204]);
		expect(attempts[1]?.headers["webhook-id"]).toBe(attempts[0]?.headers["webhook-id"]);
		expect(attempts[0]?.headers["webhook-id"]).toBe(test.body.delivery);
		// Retry-After: 2 is honoured (the backoff alone would retry within a second).
		expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1900);
		for (const attempt of attempts) expect(new Webhook(secret).verify(attempt.body, headersOf(attempt))).toBeTruthy();
		const [log] = await until(
			"delivered",
			() => deliveries(id),
			(d) => d[0]?.status === "delivered",
		);
		expect(log).toMatchObject({ id: test.body.delivery, attempts: 2, responseStatus: 204 });
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(at("/flaky")).toHaveLength(2);
	});

	it("a 410 is not retried: the delivery is failed, the endpoint stays enabled", async () => {
		const { id } = await createWebhook("/gone");
		await api("POST", `/webhooks/${id}/test`);
		const [log] = await until(
			"failed",
			() => deliveries(id),
			(d) => d[0]?.status === "failed",
		);
		expect(log).toMatchObject({ attempts: 1, responseStatus: 410 });
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(at("/gone")).toHaveLength(1);
		expect((await api("GET", `/webhooks/${id}`)).body).toMatchObject({ enabled: true });
	});

	it("a dead endpoint: the delivery is parked after its retries and the endpoint disabled with an event; re-enabled, a retry delivers it", async () => {
		const { id, secret } = await createWebhook("/dead");
		const test = await api("POST", `/webhooks/${id}/test`);
		const endpoint = await until(
			"disabled",
			async () => (await api("GET", `/webhooks/${id}`)).body,
			(w) => w.enabled === false,
		);
		expect(endpoint.disabledReason).toMatch(/failed 3 times; last: HTTP 500/);
		expect(at("/dead")).toHaveLength(3);
		const [parked] = await deliveries(id);
		expect(parked).toMatchObject({ id: test.body.delivery, status: "parked", attempts: 3, responseStatus: 500 });
		const events = (await api("GET", "/events?type=org.webhook_disabled")).body.events as { data: { webhookId: string } }[];
		expect(events.map((e) => e.data.webhookId)).toContain(id);

		// Disabled: a retry is refused until the endpoint is enabled again.
		expect((await api("POST", `/webhooks/${id}/deliveries/${test.body.delivery}/retry`)).status).toBe(422);
		healed = true;
		expect((await api("PATCH", `/webhooks/${id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabledReason: null });
		expect((await api("POST", `/webhooks/${id}/deliveries/${test.body.delivery}/retry`)).status).toBe(202);
		const [delivered] = await until(
			"delivered",
			() => deliveries(id),
			(d) => d[0]?.status === "delivered",
		);
		expect(delivered?.id).toBe(test.body.delivery);
		const last = at("/dead").at(-1);
		if (!last) throw new Error("no request");
		expect(last.headers["webhook-id"]).toBe(test.body.delivery);
		expect(new Webhook(secret).verify(last.body, headersOf(last))).toMatchObject({ type: "webhook.test" });
	});
});
