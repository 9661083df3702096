/**
 * Hostile input on every org route (the ORG_ROUTES table), on /mcp and on the admin routes: malformed JSON, wrong
 * types, huge strings, deep nesting, unicode edge cases (lone surrogates, RTL and zero-width marks), oversized and
 * non-UTF-8 bodies, odd content types, garbage queries, hostile path ids and headers. Every refusal is a 4xx
 * problem+json with a request id, never a 5xx; a refused request stores nothing (the actors it could write keep
 * their versions) and leaves every actor answering with a whole chain.
 */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { type Body, hostileBody, hostileFrame, hostileHeader, hostileId, hostileQuery, nested } from "./fuzz-inputs.ts";
import { adminAuth, BASE, createOrg, Subscriber } from "./helpers.ts";
import { figure, propertyOptions, runs } from "./reliability-support.ts";
import { ORG_ROUTES, type OrgRoute, seedSession, type Tenant } from "./routes.ts";

let t: Tenant;

beforeAll(async () => {
	const org = await createOrg("Fuzzed org");
	t = { ...org, session: await seedSession(org.org, org.key) };
});

// ---- sending and checking ---------------------------------------------------------------------------

interface Sent {
	status: number;
	how: string;
	problem: boolean;
	requestId: boolean;
}

async function send(route: OrgRoute, path: string, body: Body | undefined, headers: Record<string, string> = {}): Promise<Response> {
	const h = new Headers({ authorization: `Bearer ${t.key}`, ...headers });
	if (route.ws) h.set("upgrade", "websocket");
	if (body?.contentType !== undefined && body.contentType !== "") h.set("content-type", body.contentType);
	const init: RequestInit = { method: route.method, headers: h };
	if (route.method !== "GET" && body) init.body = body.bytes ?? body.text ?? "";
	return exports.default.fetch(`${BASE}${path}`, init);
}

/** Actor versions a write could change: the org, the tenant's session, chat and camera, and the actor the path names. */
async function versions(path: string): Promise<number[]> {
	const named = /^\/v1\/orgs\/[^/]+\/(sessions|cameras|chats)\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\//.exec(path);
	const ns = { sessions: env.SESSION, cameras: env.CAMERA, chats: env.CHAT } as const;
	const stubs = [
		env.ORG.getByName(actorName(t.org, t.org)),
		env.SESSION.getByName(actorName(t.org, t.session)),
		env.CHAT.getByName(actorName(t.org, t.session)),
		env.CAMERA.getByName(actorName(t.org, t.session)),
		...(named ? [ns[named[1] as keyof typeof ns].getByName(actorName(t.org, named[2] as string))] : []),
	];
	return Promise.all(stubs.map(async (s) => ((await s.describe()) as { version: number }).version));
}

/**
 * Waits until the tenant's actors have nothing running on their own: no chat answer, no outbox message on its way
 * (an answered chat and a camera tell the org), no timer about to fire (a camera's analysis). Versions then move
 * only when a request moves them.
 */
async function quiet(): Promise<void> {
	const stubs = [
		env.ORG.getByName(actorName(t.org, t.org)),
		env.SESSION.getByName(actorName(t.org, t.session)),
		env.CHAT.getByName(actorName(t.org, t.session)),
		env.CAMERA.getByName(actorName(t.org, t.session)),
	];
	for (let i = 0; i < 500; i++) {
		const read = await stubs[2]?.readState();
		const chat = read?.ok ? (read.value.state as { operation: unknown; queue: unknown[] }) : null;
		const kernels = await Promise.all(stubs.map((s) => s.kernelStatus()));
		const busy = kernels.some((k) => k.outbox.pending > 0 || k.timers.some((timer) => timer.dueAt <= Date.now() + 2000));
		if (chat && chat.operation === null && chat.queue.length === 0 && !busy) return;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	throw new Error("the tenant's actors did not go quiet");
}

async function expectRefusal(res: Response, how: string): Promise<Sent> {
	const text = await res.text();
	expect(res.status, `${how}: ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
	const problem = (res.headers.get("content-type") ?? "").includes("application/problem+json");
	const requestId = Boolean(res.headers.get("x-request-id"));
	if (res.status >= 400) {
		expect(problem, `${how}: ${res.status} is not problem+json`).toBe(true);
		const body = JSON.parse(text) as { status: number; title: string; type: string };
		expect(body).toMatchObject({ status: res.status, title: expect.any(String), type: expect.any(String) });
	}
	expect(requestId, `${how}: no x-request-id`).toBe(true);
	res.webSocket?.accept();
	res.webSocket?.close(1000, "done");
	return { status: res.status, how, problem, requestId };
}

type Attack = {
	path?: string;
	query?: string;
	body?: Body & { how: string; headers?: Record<string, string> };
	headers?: Record<string, string>;
	how: string;
};

function attacks(route: OrgRoute, path: string): fc.Arbitrary<Attack> {
	const segments = path.split("?")[0]?.split("/") ?? [];
	const idSlots = segments
		.map((s, i) =>
			i >= 3 &&
			/^[A-Za-z0-9]/.test(s) &&
			![
				"sessions",
				"cameras",
				"chats",
				"events",
				"state",
				"verify",
				"ws",
				"snapshots",
				"replay",
				"import",
				"fork",
				"keys",
				"messages",
				"cancel",
				"frames",
				"patterns",
				"rollups",
				"interactions",
			].includes(s)
				? i
				: -1,
		)
		.filter((i) => i >= 0);
	const options: fc.Arbitrary<Attack>[] = [
		hostileQuery.map((query) => ({ query, how: `query ${query.slice(0, 40)}` })),
		fc
			.record({ "x-request-id": hostileHeader, "x-correlation-id": hostileHeader, accept: hostileHeader })
			.map((headers) => ({ headers, how: "headers" })),
	];
	if (idSlots.length > 0) {
		options.push(
			fc.tuple(fc.constantFrom(...idSlots), hostileId).map(([slot, id]) => {
				const copy = [...segments];
				copy[slot] = id;
				return { path: copy.join("/"), how: `path id ${id.slice(0, 20)}` };
			}),
		);
	}
	if (route.method !== "GET" && route.body) {
		const valid = route.body();
		const bodies = valid instanceof Uint8Array ? hostileFrame(valid) : hostileBody(valid);
		options.push(
			bodies.map((body) => ({ body, headers: body.headers, how: body.how })),
			bodies.map((body) => ({ body, headers: body.headers, how: body.how })),
		);
	}
	return fc.oneof(...options);
}

const tally = { requests: 0, refused: 0, accepted: 0, byStatus: {} as Record<number, number>, serverErrors: 0, storedByRefused: 0 };

describe.each(ORG_ROUTES.map((route) => [route.route, route] as const))("%s under hostile input", (_name, route) => {
	it("answers 4xx problem+json (or its normal answer), never 5xx, and a refusal stores nothing", async () => {
		const numRuns = runs(route.method === "GET" ? 12 : 30);
		await fc.assert(
			fc.asyncProperty(fc.nat(), async (n) => {
				await quiet();
				const path = await route.path(t);
				const attack = fc.sample(attacks(route, path), { numRuns: 1, seed: n })[0] as Attack;
				const target = `${attack.path ?? path.split("?")[0]}${attack.query ? `?${attack.query}` : path.includes("?") ? `?${path.split("?")[1]}` : ""}`;
				const before = route.method === "GET" ? [] : await versions(target);
				const body = attack.body ?? (route.body ? { text: JSON.stringify(route.body()), contentType: "application/json" } : undefined);
				let res: Response;
				try {
					res = await send(
						route,
						target,
						body && route.contentType && !attack.body ? { bytes: route.body?.() as Uint8Array, contentType: route.contentType } : body,
						attack.headers,
					);
				} catch (error) {
					// A header value the client's own fetch refuses never reaches the server.
					if (error instanceof TypeError && /header/i.test(error.message)) return;
					throw error;
				}
				const sent = await expectRefusal(res, attack.how);
				tally.requests++;
				tally.byStatus[sent.status] = (tally.byStatus[sent.status] ?? 0) + 1;
				if (sent.status >= 500) tally.serverErrors++;
				if (sent.status >= 400) {
					tally.refused++;
					if (route.method !== "GET") {
						const after = await versions(target);
						if (JSON.stringify(after) !== JSON.stringify(before)) tally.storedByRefused++;
						expect(after, `${attack.how}: a refused request changed a version`).toEqual(before);
					}
				} else tally.accepted++;
			}),
			propertyOptions(numRuns),
		);
	}, 300_000);
});

describe("after the hostile input", () => {
	it("every actor of the tenant still answers, with a whole chain", async () => {
		await quiet();
		for (const [ns, id] of [
			[env.ORG, t.org],
			[env.SESSION, t.session],
			[env.CHAT, t.session],
			[env.CAMERA, t.session],
		] as const) {
			const stub = (ns as DurableObjectNamespace<never>).getByName(actorName(t.org, id)) as unknown as {
				verifyChain(): Promise<{ ok: boolean }>;
			};
			expect(await stub.verifyChain()).toMatchObject({ ok: true });
		}
		figure("http fuzz", tally);
		expect(tally.serverErrors).toBe(0);
	});
});

describe("hostile input outside the org routes", () => {
	it("/mcp, the admin routes and unknown paths answer 4xx problem+json, never 5xx", async () => {
		const targets = fc.oneof(
			hostileBody({
				jsonrpc: "2.0",
				id: 1,
				method: "tools/call",
				params: { name: "get_events", arguments: { kind: "session", id: t.session } },
			}).map((body) => ({
				url: "/mcp",
				method: "POST",
				body,
				auth: `Bearer ${t.key}`,
			})),
			hostileBody({ name: "An org" }).map((body) => ({ url: "/v1/orgs", method: "POST", body, auth: adminAuth.authorization })),
			fc
				.tuple(hostileId, hostileId)
				.map(([a, b]) => ({ url: `/v1/orgs/${a}/${b}/${a}`, method: "GET", body: undefined, auth: `Bearer ${t.key}` })),
			hostileId.map((a) => ({ url: `/v1/${a}/orgs/${t.org}`, method: "GET", body: undefined, auth: `Bearer ${t.key}` })),
		);
		let count = 0;
		await fc.assert(
			fc.asyncProperty(targets, async ({ url, method, body, auth }) => {
				let res: Response;
				try {
					const headers = new Headers({ authorization: auth, accept: "application/json, text/event-stream" });
					if (body?.contentType) headers.set("content-type", body.contentType);
					res = await exports.default.fetch(`${BASE}${url}`, { method, headers, ...(body ? { body: body.bytes ?? body.text ?? "" } : {}) });
				} catch (error) {
					// A header value the client's own fetch refuses never reaches the server.
					if (error instanceof TypeError && /header/i.test(error.message)) return;
					throw error;
				}
				const text = await res.text();
				expect(res.status, `${url} ${body?.how}: ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
				expect(res.headers.get("x-request-id")).toBeTruthy();
				// Refusals before the MCP server (credentials, limits) are problem+json; the MCP transport's own 4xx for a
				// message that is not JSON-RPC is a JSON-RPC error object, as the MCP specification requires.
				if (res.status >= 400) {
					const type = res.headers.get("content-type") ?? "";
					if (url === "/mcp" && !type.includes("problem+json"))
						expect(JSON.parse(text)).toMatchObject({ jsonrpc: "2.0", error: { code: expect.any(Number) } });
					else expect(type).toContain("application/problem+json");
				}
				count++;
			}),
			propertyOptions(runs(60)),
		);
		figure("http fuzz outside org routes", { requests: count });
	}, 300_000);
});

describe("regressions found by the fuzzers", () => {
	const post = (path: string, body: string) =>
		exports.default.fetch(`${BASE}${path}`, {
			method: "POST",
			headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
			body,
		});

	it.each([65, 5_000, 100_000])(
		"event data nested %i levels deep is a 400 naming the field, not a 500, over HTTP, on import and over the socket",
		async (depth) => {
			const deep = nested(depth, depth % 2 ? "array" : "object");
			const batch = `{"events":[{"id":"deep-${depth}","type":"session.custom","ts":1,"data":{"name":"n","props":{"p":${deep}}}}]}`;
			const before = await versions(`/v1/orgs/${t.org}/sessions/${t.session}/events`);
			const res = await post(`/v1/orgs/${t.org}/sessions/${t.session}/events`, batch);
			expect(res.status).toBe(400);
			expect((await res.json<{ errors: { path: string }[] }>()).errors.map((e) => e.path)).toEqual(["events[0].data"]);
			const imported = await post(
				`/v1/orgs/${t.org}/sessions/sandbox-deep-${depth}/import`,
				`{"events":[{"seq":1,"id":"i","type":"session.started","v":1,"ts":1,"data":${deep}}]}`,
			);
			expect(imported.status).toBe(400);
			const sub = await Subscriber.open(`/v1/orgs/${t.org}/sessions/${t.session}`, 0, t.key);
			sub.socket.send(`{"t":"events",${batch.slice(1)}`);
			await sub.until((s) => s.frames.some((f) => f.t === "error"));
			expect(sub.frames.find((f) => f.t === "error")).toMatchObject({ status: 400, errors: [{ path: "events[0].data" }] });
			sub.close();
			expect(await versions(`/v1/orgs/${t.org}/sessions/${t.session}/events`)).toEqual(before);
		},
	);

	it("data nested 64 levels deep is still accepted", async () => {
		const res = await post(
			`/v1/orgs/${t.org}/sessions/${t.session}/events`,
			`{"events":[{"id":"deep-ok","type":"session.custom","ts":${Date.now()},"data":{"name":"n","props":{"p":${nested(62, "array")}}}}]}`,
		);
		expect(res.status).toBe(202);
	});
});
