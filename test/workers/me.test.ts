/**
 * GET /v1/orgs/{org}/me with every role (a key of each, and members through Cloudflare Access), and the cross-site
 * guard on changes made with an Access identity (src/http/csrf.ts). Access tokens are signed with the run's own key
 * set (test/support/access-keys.ts), as in members.test.ts.
 */
import { env } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ACCESS_TEST_AUD, ACCESS_TEST_KID, ACCESS_TEST_TEAM } from "../support/access-keys.ts";
import { call, createKey, createOrg, expectProblem, type TestOrg } from "./helpers.ts";

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const privateJwk = () => JSON.parse((env as unknown as { TEST_ACCESS_PRIVATE_JWK: string }).TEST_ACCESS_PRIVATE_JWK);

async function accessToken(email: string): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	return new SignJWT({ email })
		.setProtectedHeader({ alg: "RS256", kid: ACCESS_TEST_KID })
		.setIssuer(ACCESS_TEST_TEAM)
		.setAudience(ACCESS_TEST_AUD)
		.setIssuedAt(now)
		.setExpirationTime(now + 60)
		.sign(await importJWK(privateJwk(), "RS256"));
}
const asMember = (token: string, more: Record<string, string> = {}) => ({ authorization: "", "cf-access-jwt-assertion": token, ...more });

let tenant: TestOrg;
const keys: Record<string, { key: string; keyId: string }> = {};

beforeAll(async () => {
	tenant = await createOrg("Me");
	keys.admin = { key: tenant.key, keyId: tenant.keyId };
	for (const role of ["analyst", "viewer", "ingest"] as const) keys[role] = await createKey(tenant.org, tenant.key, role, role);
	for (const role of ["admin", "analyst", "viewer"])
		await call(`/v1/orgs/${tenant.org}/members`, {
			method: "POST",
			headers: bearer(tenant.key),
			body: JSON.stringify({ email: `${role}@example.com`, role }),
		});
});

describe("GET /v1/orgs/{org}/me", () => {
	it.each(["admin", "analyst", "viewer"])("a %s key learns its key id and role, and never a secret", async (role) => {
		const { key, keyId } = keys[role] ?? { key: "", keyId: "" };
		const res = await call(`/v1/orgs/${tenant.org}/me`, { headers: bearer(key) });
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(JSON.parse(text)).toEqual({ org: tenant.org, role, principal: { kind: "key", id: keyId }, via: "key" });
		expect(text).not.toContain(key.slice(key.indexOf(".") + 1));
	});

	it("an ingest key is refused: it reads nothing, not even who it is", async () => {
		const body = await expectProblem(await call(`/v1/orgs/${tenant.org}/me`, { headers: bearer(keys.ingest?.key ?? "") }), 403);
		expect(body.detail).toContain("needs the viewer role");
	});

	it.each(["admin", "analyst", "viewer"])("a %s member signed in through Access learns their email and role", async (role) => {
		const res = await call(`/v1/orgs/${tenant.org}/me`, { headers: asMember(await accessToken(`${role}@example.com`)) });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ org: tenant.org, role, principal: { kind: "member", email: `${role}@example.com` }, via: "access" });
	});

	it("no credentials is 401, a stranger's Access sign-in 403, another org's key 404", async () => {
		await expectProblem(await call(`/v1/orgs/${tenant.org}/me`, { headers: { authorization: "" } }), 401);
		const stranger = await expectProblem(
			await call(`/v1/orgs/${tenant.org}/me`, { headers: asMember(await accessToken("nobody@example.com")) }),
			403,
		);
		expect(stranger.detail).toContain("not a member");
		const other = await createOrg("Me elsewhere");
		await expectProblem(await call(`/v1/orgs/${tenant.org}/me`, { headers: bearer(other.key) }), 404);
	});
});

describe("cross-site changes with an Access identity", () => {
	const addViewer = (headers: Record<string, string>, email: string) =>
		call(`/v1/orgs/${tenant.org}/members`, { method: "POST", headers, body: JSON.stringify({ email, role: "viewer" }) });
	const members = async () =>
		(
			await (await call(`/v1/orgs/${tenant.org}/members`, { headers: bearer(tenant.key) })).json<{ members: { email: string }[] }>()
		).members.map((m) => m.email);

	it("refuses a POST from another site (Sec-Fetch-Site or Origin) with 403 problem+json, and stores nothing", async () => {
		const admin = await accessToken("admin@example.com");
		for (const [email, headers] of [
			["csrf-a@example.com", { "sec-fetch-site": "cross-site" }],
			["csrf-b@example.com", { "sec-fetch-site": "same-site" }],
			["csrf-c@example.com", { origin: "https://evil.example" }],
		] as const) {
			const res = await addViewer(asMember(admin, headers), email);
			const body = await expectProblem(res, 403);
			expect(res.headers.get("content-type")).toContain("application/problem+json");
			expect(body.type).toBe("/problems/cross-site");
			expect(body.detail).toContain("Cloudflare Access");
			expect(await members()).not.toContain(email);
		}
		// A DELETE from elsewhere removes nobody.
		const removal = await call(`/v1/orgs/${tenant.org}/members`, {
			method: "DELETE",
			headers: asMember(admin, { "sec-fetch-site": "cross-site" }),
			body: JSON.stringify({ email: "viewer@example.com" }),
		});
		await expectProblem(removal, 403);
		expect(await members()).toContain("viewer@example.com");
	});

	it("lets through the same change from the site's own pages, a script without browser headers, a GET, and a key from anywhere", async () => {
		const admin = await accessToken("admin@example.com");
		expect(
			(await addViewer(asMember(admin, { "sec-fetch-site": "same-origin", origin: "http://roost.test" }), "ok-a@example.com")).status,
		).toBe(200);
		expect((await addViewer(asMember(admin), "ok-b@example.com")).status).toBe(200);
		expect((await addViewer(asMember(admin, { origin: "http://roost.test" }), "ok-c@example.com")).status).toBe(200);
		// Reads are not changes: a cross-site GET goes through (CORS keeps its answer from the other site's script).
		expect((await call(`/v1/orgs/${tenant.org}/me`, { headers: asMember(admin, { "sec-fetch-site": "cross-site" }) })).status).toBe(200);
		// A bearer key is never sent by a browser on its own: it may come from any site.
		expect((await addViewer({ ...bearer(tenant.key), "sec-fetch-site": "cross-site" }, "ok-d@example.com")).status).toBe(200);
		expect(await members()).toEqual(
			expect.arrayContaining(["ok-a@example.com", "ok-b@example.com", "ok-c@example.com", "ok-d@example.com"]),
		);
	});
});
