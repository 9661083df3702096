/**
 * People through Cloudflare Access: an admin adds members with a role; a request with no API key but a
 * `Cf-Access-Jwt-Assertion` token signed by the team's key set acts as that member. The tests sign their own tokens
 * with the key set vitest.config.ts generates for the run (test/support/access-keys.ts); the Worker verifies them
 * with its public half (ACCESS_JWKS), so no fetch is mocked.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { importJWK, type JWTPayload, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CLOSE, KEY_CHECK_EVERY_MS } from "../../src/actors/socket-guard.ts";
import { actorName } from "../../src/core/identity.ts";
import { ACCESS_TEST_AUD, ACCESS_TEST_KID, ACCESS_TEST_TEAM } from "../support/access-keys.ts";
import { allEvents, call, createKey, createOrg, expectProblem, Subscriber, uniqueId } from "./helpers.ts";

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const privateJwk = () => JSON.parse((env as unknown as { TEST_ACCESS_PRIVATE_JWK: string }).TEST_ACCESS_PRIVATE_JWK);

/** An Access token for `email`, signed with the run's key (or `key`), valid for a minute unless `claims` say otherwise. */
async function accessToken(email: string, claims: JWTPayload = {}, key?: CryptoKey | Uint8Array): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	return new SignJWT({ email, ...claims })
		.setProtectedHeader({ alg: "RS256", kid: ACCESS_TEST_KID })
		.setIssuer((claims.iss as string | undefined) ?? ACCESS_TEST_TEAM)
		.setAudience((claims.aud as string | undefined) ?? ACCESS_TEST_AUD)
		.setIssuedAt(now)
		.setExpirationTime((claims.exp as number | undefined) ?? now + 60)
		.sign(key ?? (await importJWK(privateJwk(), "RS256")));
}
const asMember = (token: string) => ({ authorization: "", "cf-access-jwt-assertion": token });

async function addMember(org: string, key: string, email: string, role: string): Promise<Response> {
	return call(`/v1/orgs/${org}/members`, { method: "POST", headers: bearer(key), body: JSON.stringify({ email, role }) });
}

afterEach(() => {
	vi.useRealTimers();
});

describe("members", () => {
	it("an admin adds a viewer: their Access token reads the org and is 403 on key creation; the log names who acted", async () => {
		const { org, key, keyId } = await createOrg("Members");
		const added = await addMember(org, key, "Ana@Example.com", "viewer");
		expect(added.status).toBe(200);
		expect((await added.json<{ member: unknown }>()).member).toMatchObject({ email: "ana@example.com", role: "viewer" });
		const token = await accessToken("ana@example.com");
		expect((await call(`/v1/orgs/${org}`, { headers: asMember(token) })).status).toBe(200);
		const refused = await expectProblem(
			await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: asMember(token), body: '{"role":"viewer"}' }),
			403,
		);
		expect(refused.detail).toContain("needs the admin role");

		// An admin member's own changes are recorded under their email.
		await addMember(org, key, "boss@example.com", "admin");
		const boss = await accessToken("boss@example.com");
		const made = await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: asMember(boss), body: '{"role":"ingest"}' });
		expect(made.status).toBe(201);
		const events = await allEvents(`/v1/orgs/${org}`, { headers: bearer(key) });
		expect(events.slice(-3).map((e) => [e.type, e.meta.principal])).toEqual([
			["org.member_added", { kind: "key", id: keyId }],
			["org.member_added", { kind: "key", id: keyId }],
			["org.key_created", { kind: "member", email: "boss@example.com" }],
		]);
		const listed = await call(`/v1/orgs/${org}/members`, { headers: bearer(key) });
		expect((await listed.json<{ members: { email: string; role: string }[] }>()).members.map((m) => [m.email, m.role])).toEqual([
			["ana@example.com", "viewer"],
			["boss@example.com", "admin"],
		]);
	});

	it("forged, expired, wrong-audience and wrong-issuer tokens are 401; an unknown or removed email is 403", async () => {
		const { org, key } = await createOrg("Access checks");
		await addMember(org, key, "eve@example.com", "admin");
		const other = await crypto.subtle.generateKey(
			{ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
			true,
			["sign", "verify"],
		);
		const past = Math.floor(Date.now() / 1000) - 60;
		const cases: [string, Promise<string>, string][] = [
			["forged", accessToken("eve@example.com", {}, (other as CryptoKeyPair).privateKey), "signature"],
			["expired", accessToken("eve@example.com", { exp: past }), "expired"],
			["wrong audience", accessToken("eve@example.com", { aud: "someone-else" }), "aud"],
			["wrong issuer", accessToken("eve@example.com", { iss: "https://evil.cloudflareaccess.com" }), "iss"],
		];
		for (const [name, token, reason] of cases) {
			const body = await expectProblem(await call(`/v1/orgs/${org}`, { headers: asMember(await token) }), 401);
			expect(body.detail, name).toContain(reason);
		}
		await expectProblem(await call(`/v1/orgs/${org}`, { headers: asMember("not.a.jwt") }), 401);

		const stranger = await expectProblem(
			await call(`/v1/orgs/${org}`, { headers: asMember(await accessToken("mallory@example.com")) }),
			403,
		);
		expect(stranger.detail).toContain("not a member");
		const eve = await accessToken("eve@example.com");
		expect((await call(`/v1/orgs/${org}`, { headers: asMember(eve) })).status).toBe(200);
		const removed = await call(`/v1/orgs/${org}/members`, { method: "DELETE", headers: bearer(key), body: '{"email":"eve@example.com"}' });
		expect(removed.status).toBe(200);
		await expectProblem(await call(`/v1/orgs/${org}`, { headers: asMember(eve) }), 403);
		// Removing someone who is not a member is 404; a bad email is a 400 naming it.
		await expectProblem(
			await call(`/v1/orgs/${org}/members`, { method: "DELETE", headers: bearer(key), body: '{"email":"eve@example.com"}' }),
			404,
		);
		const bad = await expectProblem(await addMember(org, key, "nobody", "viewer"), 400);
		expect(bad.errors?.map((e) => e.path)).toContain("email");
		// A member of one org is nobody in another.
		const elsewhere = await createOrg("Elsewhere");
		await addMember(org, key, "eve@example.com", "viewer");
		await expectProblem(await call(`/v1/orgs/${elsewhere.org}`, { headers: asMember(eve) }), 403);
	});

	it("a member's socket closes with 4003 when their role changes, and with 4001 when they are removed", async () => {
		const T0 = Date.UTC(2031, 2, 1);
		vi.useFakeTimers({ toFake: ["Date"] });
		vi.setSystemTime(T0);
		const { org, key } = await createOrg("Member sockets");
		await addMember(org, key, "wall@example.com", "viewer");
		await addMember(org, key, "gone@example.com", "viewer");
		const session = uniqueId("s");
		const path = `/v1/orgs/${org}/sessions/${session}`;
		const stub = env.SESSION.getByName(actorName(org, session));
		const closedWith = (sub: Subscriber) =>
			new Promise<{ code: number; reason: string }>((resolve) =>
				sub.socket.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
			);
		const wall = await Subscriber.open(path, 0, "", { "cf-access-jwt-assertion": await accessToken("wall@example.com") });
		const gone = await Subscriber.open(path, 0, "", { "cf-access-jwt-assertion": await accessToken("gone@example.com") });
		await wall.until((s) => s.frames.length >= 1);
		await gone.until((s) => s.frames.length >= 1);
		expect(wall.frames[0]).toMatchObject({ t: "hello" });
		const [wallClosed, goneClosed] = [closedWith(wall), closedWith(gone)];

		expect((await addMember(org, key, "wall@example.com", "analyst")).status).toBe(200);
		await call(`/v1/orgs/${org}/members`, { method: "DELETE", headers: bearer(key), body: '{"email":"gone@example.com"}' });
		vi.setSystemTime(T0 + KEY_CHECK_EVERY_MS);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await wallClosed).toEqual({ code: CLOSE.roleChanged.code, reason: CLOSE.roleChanged.reason });
		expect(await goneClosed).toEqual({ code: CLOSE.revoked.code, reason: CLOSE.revoked.reason });
		// With a key, the key decides: an Access token beside it changes nothing.
		const viewer = await createKey(org, key, "wall key", "viewer");
		await expectProblem(
			await call(`/v1/orgs/${org}/keys`, {
				method: "POST",
				headers: { ...bearer(viewer.key), "cf-access-jwt-assertion": await accessToken("wall@example.com") },
				body: '{"role":"viewer"}',
			}),
			403,
		);
	});
});
