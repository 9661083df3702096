/**
 * Every org route, walked from one table: it answers a live key of its own org, refuses bad input by
 * naming the field, and tells credentials apart only as the contract says: 401 for none, malformed,
 * unknown or revoked; 404 for another org's live key, exactly as for an org that does not exist;
 * 403 for a live key of the org whose role (ingest) does not open the route (roles.test.ts walks every role).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/env.ts";
import { DEV_ADMIN_TOKEN } from "../../src/http/auth.ts";
import worker from "../../src/index.ts";
import { adminAuth, BASE, createKey, createOrg, expectProblem, type ProblemBody, revokeKey, uniqueId } from "./helpers.ts";
import { ORG_ROUTES, type OrgRoute, seedSession, send, type Tenant } from "./routes.ts";

let owner: Tenant;
let other: Tenant;
let revoked: string;
/** A live key of the owner org with the ingest role. */
let ingest: string;

/** What an ingest key opens, listed here rather than taken from src/http/auth.ts. */
const INGEST_ROUTES = [
	"POST /v1/orgs/{org}/sessions/{id}/events",
	"GET /v1/orgs/{org}/{kind}/{id}/ws (sessions)",
	"POST /v1/orgs/{org}/cameras/{id}/frames",
	"POST /v1/orgs/{org}/socket-tickets",
];

beforeAll(async () => {
	const [a, b] = await Promise.all([createOrg("Owner"), createOrg("Other")]);
	owner = { ...a, session: await seedSession(a.org, a.key) };
	other = { ...b, session: await seedSession(b.org, b.key) };
	const spare = await createKey(owner.org, owner.key, "soon revoked");
	await revokeKey(owner.org, owner.key, spare.keyId);
	revoked = spare.key;
	ingest = (await createKey(owner.org, owner.key, "web page", "ingest")).key;
});

async function expectSocket(res: Response, hello: Record<string, unknown> = {}): Promise<void> {
	expect(res.status).toBe(101);
	const socket = res.webSocket;
	if (!socket) throw new Error("no WebSocket");
	const greeting = new Promise<Record<string, unknown>>((resolve) =>
		socket.addEventListener("message", (event) => resolve(JSON.parse(event.data as string)), { once: true }),
	);
	socket.accept();
	const first = await greeting;
	expect(first).toMatchObject({ t: "hello", ...hello });
	if (!("sendOnly" in hello)) expect(first).not.toHaveProperty("sendOnly");
	socket.close(1000, "done");
}

describe.each(ORG_ROUTES.map((route) => [route.route, route] as [string, OrgRoute]))("%s", (_name, route) => {
	it("answers a live key of the org in its path", async () => {
		const res = await send(route, await route.path(owner), owner.key);
		if (route.ws) await expectSocket(res);
		else expect(res.status, await res.clone().text()).toBe(route.ok);
		expect(res.headers.get("x-request-id")).toBeTruthy();
	});

	// Routes with no body, query or id of their own (GET /v1/orgs/{org}) have no bad input to send.
	const invalid = route.invalid;
	if (invalid)
		it("refuses bad input with a 400 naming the field", async () => {
			const path = invalid.path ? invalid.path(owner) : await route.path(owner);
			const body = await expectProblem(await send(route, path, owner.key, invalid.body), 400);
			expect(body.errors?.map((e) => e.path)).toContain(invalid.field);
		});

	if (INGEST_ROUTES.includes(route.route))
		it("answers an ingest key of the org too: it sends events in", async () => {
			const res = await send(route, await route.path(owner), ingest);
			if (route.ws) await expectSocket(res, { sendOnly: true });
			else expect(res.status, await res.clone().text()).toBe(route.ok);
		});
	else
		it("is 403 with an ingest key of the org, which only sends events in", async () => {
			const body = await expectProblem(await send(route, await route.path(owner), ingest), 403);
			expect(body.title).toBe("Forbidden");
			expect(body.detail).toContain("has the ingest role");
		});

	it("is 401 without a key", async () => {
		const body = await expectProblem(await send(route, await route.path(owner), undefined), 401);
		expect(body.title).toBe("Unauthorized");
	});

	it("is 401 with a revoked key", async () => {
		await expectProblem(await send(route, await route.path(owner), revoked), 401);
	});

	it("is 401 with a malformed or unknown key, and with the admin token", async () => {
		const path = await route.path(owner);
		const forged = `rk_${owner.org}.${"A".repeat(43)}`;
		// GET /v1/orgs/{org} takes the admin token too (following a deletion): retention.test.ts.
		const admin = route.route === "GET /v1/orgs/{org}" ? [] : [adminAuth.authorization.slice(7)];
		for (const credential of ["nonsense", forged, owner.key.slice(0, -1), ...admin]) {
			await expectProblem(await send(route, path, credential), 401);
		}
	});

	it("is 404 with another org's live key, the same answer as for an org that does not exist", async () => {
		const foreignPath = await route.path(other);
		const foreign = await expectProblem(await send(route, foreignPath, owner.key), 404);
		const missingPath = ghostPath(route, `ghost-${uniqueId()}`);
		const missing = await expectProblem(await send(route, missingPath, owner.key), 404);
		const unpathed = (body: ProblemBody, path: string) => ({ ...body, detail: body.detail.replace(path.split("?")[0] ?? path, "PATH") });
		expect(unpathed(foreign, foreignPath)).toEqual(unpathed(missing, missingPath));
	});

	it("is 401 without a key, or with a bad one, on an org that does not exist too", async () => {
		const path = ghostPath(route, `ghost-${uniqueId()}`);
		await expectProblem(await send(route, path, undefined), 401);
		await expectProblem(await send(route, path, `rk_nobody.${"B".repeat(43)}`), 401);
	});
});

/** The route's path on an org that does not exist (where making a key first is impossible, a made-up key id). */
function ghostPath(route: OrgRoute, ghost: string): string {
	const tenant = { org: ghost, key: "", keyId: "key_0000", session: other.session };
	if (route.route.startsWith("DELETE")) return `/v1/orgs/${ghost}/keys/key_0000`;
	return route.path(tenant) as string;
}

describe("admin routes", () => {
	const createOrgReq = (authorization: string | undefined, body: unknown = { name: "Admin made" }) =>
		exports.default.fetch(`${BASE}/v1/orgs`, {
			method: "POST",
			headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json" },
			body: JSON.stringify(body),
		});

	it("POST /v1/orgs answers the admin token with 201, and refuses a bad body naming the field", async () => {
		expect((await createOrgReq(adminAuth.authorization)).status).toBe(201);
		const bad = await expectProblem(await createOrgReq(adminAuth.authorization, { name: "" }), 400);
		expect(bad.errors?.map((e) => e.path)).toEqual(["name"]);
	});

	it("POST /v1/orgs is 401 without a token, with a wrong one, and with an org's API key", async () => {
		await expectProblem(await createOrgReq(undefined), 401);
		await expectProblem(await createOrgReq("Bearer not-the-admin-token"), 401);
		await expectProblem(await createOrgReq(`Bearer ${owner.key}`), 401);
	});

	it("GET /v1/orgs answers the admin token only", async () => {
		const list = (authorization?: string) => exports.default.fetch(`${BASE}/v1/orgs`, { headers: authorization ? { authorization } : {} });
		expect((await list(adminAuth.authorization)).status).toBe(200);
		await expectProblem(await list(), 401);
		await expectProblem(await list(`Bearer ${owner.key}`), 401);
	});
});

describe("the admin token's configuration", () => {
	/** The Worker's fetch with some vars changed, as a deployment with other vars or secrets would run it. */
	const withEnv = async (vars: Partial<Env>, authorization?: string) => {
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request(`${BASE}/v1/orgs`, { headers: authorization ? { authorization: `Bearer ${authorization}` } : {} }),
			{ ...env, ...vars },
			ctx,
		);
		await waitOnExecutionContext(ctx);
		return res;
	};

	it("without ADMIN_TOKEN the admin routes are 503 naming the missing secret", async () => {
		const body = await expectProblem(await withEnv({ ADMIN_TOKEN: undefined }, DEV_ADMIN_TOKEN), 503);
		expect(body.detail).toContain("ADMIN_TOKEN is not set");
		await expectProblem(await withEnv({ ADMIN_TOKEN: "" }), 503);
	});

	it("the public development token is refused outside development, even when it is sent", async () => {
		const body = await expectProblem(await withEnv({ ADMIN_TOKEN: DEV_ADMIN_TOKEN, ROOST_ENV: "production" }, DEV_ADMIN_TOKEN), 503);
		expect(body.detail).toContain("development default");
		await expectProblem(await withEnv({ ADMIN_TOKEN: DEV_ADMIN_TOKEN, ROOST_ENV: undefined }, DEV_ADMIN_TOKEN), 503);
	});

	it("a real secret works in production, and the development token works in development", async () => {
		const secret = `prod-${uniqueId()}`;
		expect((await withEnv({ ADMIN_TOKEN: secret, ROOST_ENV: "production" }, secret)).status).toBe(200);
		await expectProblem(await withEnv({ ADMIN_TOKEN: secret, ROOST_ENV: "production" }, DEV_ADMIN_TOKEN), 401);
		expect((await withEnv({ ADMIN_TOKEN: DEV_ADMIN_TOKEN, ROOST_ENV: "development" }, DEV_ADMIN_TOKEN)).status).toBe(200);
	});
});
