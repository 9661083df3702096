/**
 * The SDK against the real Worker: its fetch is `exports.default.fetch`, so every batch goes through the
 * API, auth and the session actor as in production. Failures are injected in the transport only (the
 * network dropping a request or its answer, a proxy answering 429/503), never by faking the server.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { CLIENT_SESSION_EVENT_TYPES, pathOf as serverPathOf } from "../../src/events/session.ts";
import type { SessionState } from "../../src/reducers/session.ts";
import {
	CLIENT_EVENT_TYPES,
	createSession,
	type FetchLike,
	type RetryNotice,
	type SdkError,
	type SentBatch,
	type SessionClient,
	type SessionOptions,
	pathOf as sdkPathOf,
} from "../../src/sdk/index.ts";
import { allEvents, BASE, createOrg, getJson, uniqueId } from "./helpers.ts";

const realServer: FetchLike = (url, init) => exports.default.fetch(url, init);

interface Harness {
	org: string;
	key: string;
	sessionId: string;
	session: SessionClient;
	errors: SdkError[];
	sent: SentBatch[];
	retries: RetryNotice[];
	/** The session's log, read back through the API. */
	log(): ReturnType<typeof allEvents>;
	state(): Promise<SessionState>;
}

/** A fresh org and a client with short timers, talking to the real Worker through `transport`. */
async function harness(options: Partial<SessionOptions> = {}, transport: FetchLike = realServer): Promise<Harness> {
	const { org, key } = await createOrg("SDK tests");
	const sessionId = uniqueId("s");
	const session = createSession({
		endpoint: BASE,
		apiKey: key,
		orgId: org,
		sessionId,
		storage: "memory",
		fetch: transport,
		flushIntervalMs: 10,
		closeTimeoutMs: 300,
		retry: { minDelayMs: 10, maxDelayMs: 40 },
		...options,
	});
	const h: Harness = {
		org,
		key,
		sessionId,
		session,
		errors: [],
		sent: [],
		retries: [],
		log: () => allEvents(`/v1/orgs/${org}/sessions/${sessionId}`, { headers: { authorization: `Bearer ${key}` } }),
		state: async () =>
			(
				await getJson<{ state: SessionState }>(`/v1/orgs/${org}/sessions/${sessionId}/state`, {
					headers: { authorization: `Bearer ${key}` },
				})
			).state,
	};
	session.on("error", (e) => h.errors.push(e));
	session.on("sent", (b) => h.sent.push(b));
	session.on("retry", (r) => h.retries.push(r));
	return h;
}

/** A network that can be cut: while down, requests fail before reaching the server. */
function switchableNetwork() {
	const net = { down: false, calls: 0 };
	const fetch: FetchLike = async (url, init) => {
		net.calls++;
		if (net.down) throw new TypeError("fetch failed");
		return realServer(url, init);
	};
	return { net, fetch };
}

const problem = (status: number, title: string, headers: Record<string, string> = {}) =>
	new Response(JSON.stringify({ type: "about:blank", title, status, detail: title }), {
		status,
		headers: { "content-type": "application/problem+json", ...headers },
	});

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error("timed out waiting");
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

describe("SDK against the real Worker", () => {
	it("agrees with the server's catalog: the same client types and the same path rule", () => {
		expect([...CLIENT_EVENT_TYPES].sort()).toEqual([...CLIENT_SESSION_EVENT_TYPES].sort());
		for (const url of ["https://shop.example/shoes?color=red#top", "https://shop.example", "/cart?x=1", "?q", "", "checkout#pay"]) {
			expect(sdkPathOf(url)).toBe(serverPathOf(url));
		}
	});

	it("a batch lands in order: page views with their derived path, custom events, clicks and identify", async () => {
		const h = await harness();
		const ids = [
			h.session.page("https://shop.example/shoes?color=red", "Shoes"),
			h.session.track("added_to_cart", { sku: "shoe-42", qty: 2 }),
			h.session.track("session.clicked", { target: "main > button#buy", text: "Buy" }),
			h.session.identify("user-7", { plan: "pro" }),
		];
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });

		const log = await h.log();
		expect(log.map((e) => e.type)).toEqual([
			"session.started",
			"session.page_viewed",
			"session.custom",
			"session.clicked",
			"session.identified",
		]);
		expect(log.slice(1).map((e) => e.id)).toEqual(ids);
		expect(log[1]?.data).toEqual({ url: "https://shop.example/shoes?color=red", path: "/shoes", title: "Shoes" });
		expect(log[2]?.data).toEqual({ name: "added_to_cart", props: { sku: "shoe-42", qty: 2 } });
		expect(log[4]?.data).toEqual({ userId: "user-7", traits: { plan: "pro" } });
		// UUIDv7: time-ordered ids made on the client.
		for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(h.session.stats).toMatchObject({ accepted: 4, duplicates: 0, buffered: 0, dropped: 0, rejected: 0 });
		expect(h.errors).toEqual([]);
		await h.session.close();
	});

	it("batches by size: a full batch goes at once, without waiting for the timer, and takes the rest along", async () => {
		const h = await harness({ batchSize: 3, flushIntervalMs: 60_000 });
		for (let i = 0; i < 2; i++) h.session.track("tick", { i });
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(h.sent).toEqual([]);
		for (let i = 2; i < 7; i++) h.session.track("tick", { i });
		await until(() => h.session.stats.buffered === 0);
		expect(h.sent.map((b) => b.eventIds.length)).toEqual([3, 3, 1]);
		expect((await h.log()).filter((e) => e.type === "session.custom").map((e) => (e.data as { props: { i: number } }).props.i)).toEqual([
			0, 1, 2, 3, 4, 5, 6,
		]);
		await h.session.close();
	});

	it("batches by time: events recorded together go out together once the interval has passed", async () => {
		const h = await harness({ flushIntervalMs: 50 });
		h.session.track("a");
		h.session.track("b");
		await until(() => h.sent.length > 0);
		expect(h.sent).toHaveLength(1);
		expect(h.sent[0]?.eventIds).toHaveLength(2);
		await h.session.close();
	});

	it("a retry after a lost answer is reported as duplicates and every event is stored once", async () => {
		let lost = 0;
		// The request reaches the server and is stored; the answer is lost on the way back.
		const loseFirstAnswer: FetchLike = async (url, init) => {
			const response = await realServer(url, init);
			if (lost++ === 0) throw new TypeError("network connection lost");
			return response;
		};
		const h = await harness({}, loseFirstAnswer);
		const ids = ["/", "/shoes", "/cart"].map((path) => h.session.page(`https://shop.example${path}`));
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });

		expect(h.retries).toHaveLength(1);
		expect(h.retries[0]?.error.retryable).toBe(true);
		expect(h.sent).toEqual([expect.objectContaining({ accepted: 0, duplicates: 3, eventIds: ids, transport: "http" })]);
		expect(h.session.stats).toMatchObject({ accepted: 0, duplicates: 3, retries: 1, buffered: 0 });

		const log = await h.log();
		expect(log.filter((e) => e.type === "session.page_viewed").map((e) => e.id)).toEqual(ids);
		expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
		const state = await h.state();
		expect(state.visit).toMatchObject({ pageViews: 3, events: 3 });
		await h.session.close();
	});

	it("the offline buffer keeps events while the server is unreachable and drains in order when it is back", async () => {
		const { net, fetch } = switchableNetwork();
		const h = await harness({}, fetch);
		net.down = true;
		const ids = ["/", "/a", "/b", "/c", "/d"].map((path) => h.session.page(`https://shop.example${path}`));
		expect(await h.session.flush({ timeoutMs: 300 })).toEqual({ ok: false, pending: 5 });
		expect(h.retries.length).toBeGreaterThan(0);
		expect(h.session.stats.buffered).toBe(5);
		expect(await h.log()).toEqual([]);

		net.down = false;
		h.session.track("back_online");
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		const log = await h.log();
		expect(log.map((e) => e.id).slice(1, 6)).toEqual(ids);
		expect(log.map((e) => e.type).at(-1)).toBe("session.custom");
		expect(h.session.stats).toMatchObject({ accepted: 6, duplicates: 0, dropped: 0, buffered: 0 });
		await h.session.close();
	});

	it("on overflow the oldest events are dropped, counted and reported, and the newest still land", async () => {
		const { net, fetch } = switchableNetwork();
		const h = await harness({ maxBufferEvents: 3 }, fetch);
		net.down = true;
		const ids = [1, 2, 3, 4, 5].map((i) => h.session.track("step", { i }));
		expect(h.session.stats).toMatchObject({ buffered: 3, dropped: 2 });
		const overflows = h.errors.filter((e) => e.kind === "overflow");
		expect(overflows).toEqual([
			{ kind: "overflow", dropped: 1, total: 1, eventIds: [ids[0]] },
			{ kind: "overflow", dropped: 1, total: 2, eventIds: [ids[1]] },
		]);

		net.down = false;
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		const log = await h.log();
		expect(log.filter((e) => e.type === "session.custom").map((e) => e.id)).toEqual(ids.slice(2));
		expect(h.session.stats).toMatchObject({ accepted: 3, dropped: 2 });
		await h.session.close();
	});

	it("with a storage, the buffer outlives its client: the next client of the session sends what was left", async () => {
		const { net, fetch } = switchableNetwork();
		const saved = new Map<string, string>();
		const storage = {
			getItem: (k: string) => saved.get(k) ?? null,
			setItem: (k: string, v: string) => void saved.set(k, v),
			removeItem: (k: string) => void saved.delete(k),
		};
		const first = await harness({ storage }, fetch);
		net.down = true;
		const ids = [1, 2, 3].map((i) => first.session.track("step", { i }));
		expect(await first.session.close()).toEqual({ ok: false, pending: 3 });
		expect(saved.size).toBe(1);

		// A smaller buffer this time: the oldest stored event is dropped, and said so.
		net.down = false;
		const errors: SdkError[] = [];
		const second = createSession({
			endpoint: BASE,
			apiKey: first.key,
			orgId: first.org,
			sessionId: first.sessionId,
			storage,
			fetch,
			maxBufferEvents: 2,
			onError: (e) => errors.push(e),
		});
		expect(errors).toEqual([{ kind: "overflow", dropped: 1, total: 1, eventIds: [ids[0]] }]);
		expect(await second.flush()).toEqual({ ok: true, pending: 0 });
		expect((await first.log()).slice(1).map((e) => e.id)).toEqual(ids.slice(1));
		await second.close();
		// The drop count is kept with the session's buffer, so stats.dropped stays true across reloads.
		expect(JSON.parse(saved.values().next().value ?? "{}")).toMatchObject({ events: [], dropped: 1 });
	});

	it("a refused event (400) is not retried: it is reported and dropped, and the rest of its batch lands", async () => {
		let calls = 0;
		const counting: FetchLike = (url, init) => {
			calls++;
			return realServer(url, init);
		};
		const h = await harness({}, counting);
		const good1 = h.session.page("https://shop.example/");
		const bad = h.session.track("session.clicked", { target: "" });
		const good2 = h.session.track("session.error", { message: "boom", url: "https://shop.example/" });
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });

		expect(h.retries).toEqual([]);
		expect(calls).toBe(2);
		expect(h.errors).toEqual([
			expect.objectContaining({ kind: "rejected", status: 400, eventIds: [bad], problem: expect.objectContaining({ status: 400 }) }),
		]);
		const log = await h.log();
		expect(log.slice(1).map((e) => e.id)).toEqual([good1, good2]);
		expect(h.session.stats).toMatchObject({ accepted: 2, rejected: 1, retries: 0 });
		await h.session.close();
	});

	it("a key the server does not accept (401) is not retried: the batch is reported as rejected", async () => {
		let calls = 0;
		const counting: FetchLike = (url, init) => {
			calls++;
			return realServer(url, init);
		};
		const h = await harness({ apiKey: "rk_not-a-real-key" }, counting);
		const id = h.session.track("signup");
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(calls).toBe(1);
		expect(h.errors).toEqual([expect.objectContaining({ kind: "rejected", status: 401, eventIds: [id] })]);
		expect(h.session.stats).toMatchObject({ rejected: 1, retries: 0, buffered: 0 });
	});

	it("429 is retried no sooner than its Retry-After, and 5xx is retried with backoff", async () => {
		const answers = [problem(429, "Too many requests", { "retry-after": "1" }), problem(503, "Unavailable")];
		const flaky: FetchLike = async (url, init) => answers.shift() ?? realServer(url, init);
		const h = await harness({}, flaky);
		const started = Date.now();
		const id = h.session.track("checkout");
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
		expect(h.retries.map((r) => r.error.status)).toEqual([429, 503]);
		expect(h.retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
		expect((await h.log()).map((e) => e.id)).toContain(id);
		await h.session.close();
	});

	it("the server's own rate limiter answers 429 with Retry-After, and the SDK waits it out instead of dropping", async () => {
		// The real app with rate limits on (the suite runs with them off), against the test budget of 5 per key.
		const limitedApp = createApp();
		const clientIp = `198.51.100.${Math.floor(Math.random() * 250) + 1}-${uniqueId()}`;
		const limited: FetchLike = async (url, init) => {
			const ctx = createExecutionContext();
			const request = new Request(url, init);
			request.headers.set("cf-connecting-ip", clientIp);
			const res = await limitedApp.fetch(request, { ...env, RATE_LIMITS: "on" }, ctx);
			await waitOnExecutionContext(ctx);
			return res;
		};
		const h = await harness({}, limited);
		// The limiter counts in fixed 60-second windows: if the burst straddles a window's end (a slow, loaded run),
		// the count starts again, so the refusal comes after 5 more. Two window ends inside one test cannot happen.
		let accepted = 0;
		let refused: { ok: boolean; pending: number } | undefined;
		while (accepted <= 10) {
			h.session.track("burst", { i: accepted });
			const flushed = await h.session.flush({ timeoutMs: 200 });
			if (!flushed.ok) {
				refused = flushed;
				break;
			}
			accepted++;
		}
		expect(refused).toEqual({ ok: false, pending: 1 });
		expect(accepted).toBeGreaterThanOrEqual(5);
		expect(accepted).toBeLessThanOrEqual(10);
		expect(h.retries[0]).toMatchObject({ error: { status: 429 } });
		expect(h.retries[0]?.delayMs).toBeGreaterThanOrEqual(60_000);
		expect(h.errors).toEqual([]);
		expect(h.session.stats).toMatchObject({ accepted, buffered: 1, rejected: 0 });
		await h.session.close();
	});

	it("browsers on other origins may call: preflights pass, and answers (refusals too) carry CORS headers", async () => {
		const { org, key } = await createOrg("CORS");
		const url = `${BASE}/v1/orgs/${org}/sessions/${uniqueId("s")}/events`;
		const origin = "https://shop.example";
		const preflight = await exports.default.fetch(url, {
			method: "OPTIONS",
			headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
		});
		expect(preflight.status).toBe(204);
		expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
		expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
		expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");

		const body = JSON.stringify({ events: [{ id: uniqueId("e"), type: "session.custom", ts: Date.now(), data: { name: "x" } }] });
		const accepted = await exports.default.fetch(url, {
			method: "POST",
			headers: { origin, authorization: `Bearer ${key}`, "content-type": "application/json" },
			body,
		});
		expect(accepted.status).toBe(202);
		expect(accepted.headers.get("access-control-allow-origin")).toBe("*");
		expect(accepted.headers.get("access-control-expose-headers")).toContain("retry-after");

		// Without CORS headers a browser would see a 401 as a network error, and the SDK would retry it forever.
		const refused = await exports.default.fetch(url, { method: "POST", headers: { origin, "content-type": "application/json" }, body });
		expect(refused.status).toBe(401);
		expect(refused.headers.get("access-control-allow-origin")).toBe("*");
	});

	it("track refuses actor-only types and bad names without throwing, and a closed client records nothing", async () => {
		const h = await harness();
		expect(h.session.track("session.started" as "x")).toBeNull();
		expect(h.session.track("")).toBeNull();
		expect(h.errors.map((e) => e.kind)).toEqual(["invalid", "invalid"]);
		await h.session.close();
		expect(h.session.track("late")).toBeNull();
		expect(h.session.stats.buffered).toBe(0);
	});
});
