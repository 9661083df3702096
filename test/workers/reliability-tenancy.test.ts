/**
 * Tenancy under attack, beyond tenancy.test.ts (a foreign live key): on every org route and socket, forged tokens
 * (B's org with a made-up or borrowed secret, a near-miss of B's key, a revoked key of B) and ids that try to climb
 * out of the caller's org (`..`, `%2e%2e`, encoded slashes, the `<org>:<id>` name separator); and every MCP tool
 * with B's ids, traversal ids, a revoked key and forged tokens. Nothing answers with B's data, and B's logs do not
 * move.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allEvents, BASE, call, createKey, createOrg, getJson, revokeKey } from "./helpers.ts";
import { figure } from "./reliability-support.ts";
import { ORG_ROUTES, type OrgRoute, seedSession, send, type Tenant } from "./routes.ts";

let a: Tenant;
let b: Tenant;
let bRevoked: string;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
	const [orgA, orgB] = await Promise.all([createOrg("Tenant A"), createOrg("Tenant B very secret")]);
	a = { ...orgA, session: await seedSession(orgA.org, orgA.key) };
	b = { ...orgB, session: await seedSession(orgB.org, orgB.key) };
	const spare = await createKey(b.org, b.key, "revoked soon");
	await revokeKey(b.org, b.key, spare.keyId);
	bRevoked = spare.key;
});

/** What a leak of B would show (its name, event ids and hashes), and how far its logs are. */
async function snapshotOfB() {
	const org = await getJson<{ version: number }>(`/v1/orgs/${b.org}`, { headers: bearer(b.key) });
	const session = await getJson<{ version: number }>(`/v1/orgs/${b.org}/sessions/${b.session}/state`, { headers: bearer(b.key) });
	const events = [
		...(await allEvents(`/v1/orgs/${b.org}`, { headers: bearer(b.key) })),
		...(await allEvents(`/v1/orgs/${b.org}/sessions/${b.session}`, { headers: bearer(b.key) })),
	];
	return {
		orgVersion: org.version,
		sessionVersion: session.version,
		secrets: ["Tenant B very secret", ...events.flatMap((e) => [e.id, e.hash])],
	};
}

function expectNoLeak(text: string, secrets: string[], what: string): void {
	for (const secret of secrets) expect(text.includes(secret), `${what} shows ${secret}`).toBe(false);
}

/** Tokens that are not B's live key but try to pass for one. */
function forgedTokens(): [string, string][] {
	const secretOf = (key: string) => key.slice(key.indexOf(".") + 1);
	const flip = (s: string) => s.slice(0, -1) + (s.at(-1) === "A" ? "B" : "A");
	return [
		["B's org with a made-up secret", `rk_${b.org}.${"Q".repeat(43)}`],
		["B's org with A's secret", `rk_${b.org}.${secretOf(a.key)}`],
		["A's org with B's secret", `rk_${a.org}.${secretOf(b.key)}`],
		["B's key with one character changed", flip(b.key)],
		["B's key with a character more", `${b.key}A`],
		["B's key in upper case", b.key.toUpperCase()],
		["B's revoked key", bRevoked],
		["a JWT", "eyJhbGciOiJub25lIn0.eyJvcmciOiJiIn0."],
		["B's org as a bare token", b.org],
	];
}

const tally = { forgedRequests: 0, traversalRequests: 0, mcpCalls: 0, leaks: 0, writes: 0, answeredInsideA: 0 };

describe.each(ORG_ROUTES.map((route) => [route.route, route] as [string, OrgRoute]))("%s", (_name, route) => {
	it("refuses every forged token on B's path with 401: no data, no write", async () => {
		const before = await snapshotOfB();
		for (const [what, token] of forgedTokens()) {
			const res = await send(route, await route.path(b), token);
			const text = await res.text();
			tally.forgedRequests++;
			expect(res.status, `${what}: ${text.slice(0, 200)}`).toBe(401);
			expect(res.webSocket ?? null).toBeNull();
			expectNoLeak(text, before.secrets, what);
		}
		const after = await snapshotOfB();
		// DELETE's path made a key in B with B's own key first: that one change is B's doing.
		if (route.method === "DELETE") expect(after.orgVersion).toBe(before.orgVersion + forgedTokens().length);
		else expect(after.orgVersion).toBe(before.orgVersion);
		expect(after.sessionVersion).toBe(before.sessionVersion);
	});

	it("refuses ids that climb out of A's org toward B's: never B's data, never a write to B", async () => {
		const before = await snapshotOfB();
		const path = await route.path(a);
		const [base, query] = path.split("?");
		const segments = (base ?? "").split("/");
		const climbs = [
			`..%2f${b.org}`,
			`%2e%2e%2f${b.org}`,
			`%2E%2E%2F%2E%2E%2F${b.org}`,
			`${a.org}%2f..%2f${b.org}`,
			`..%2f..%2f${b.org}%2fsessions%2f${b.session}`,
			`${b.org}%3a${b.session}`,
			`${b.org}:${b.session}`,
			"..",
			"%2e%2e",
			".",
			"%2f",
			`..%5c${b.org}`,
			`${b.session}%00`,
		];
		// Each id slot of the path (the org, and the actor's id where there is one), in turn.
		const slots = [3, ...(segments.length > 5 && ["sessions", "cameras", "chats"].includes(segments[4] ?? "") ? [5] : [])];
		for (const slot of slots) {
			for (const climb of climbs) {
				const copy = [...segments];
				copy[slot] = climb;
				const attempt = `${copy.join("/")}${query ? `?${query}` : ""}`;
				const res = await send(route, attempt, a.key);
				const text = await res.text();
				tally.traversalRequests++;
				if (res.status < 400) tally.answeredInsideA++;
				// A 2xx is allowed only where the climb decoded to a plain id inside A's own org (it reads A's empty actor).
				if (res.status < 400) expect(slot, `${attempt}: ${res.status}`).toBe(5);
				else expect(res.status, `${attempt}: ${text.slice(0, 200)}`).toBeLessThan(500);
				res.webSocket?.accept();
				res.webSocket?.close(1000, "done");
				expectNoLeak(text, before.secrets, attempt);
			}
		}
		const after = await snapshotOfB();
		expect(after.orgVersion).toBe(before.orgVersion);
		expect(after.sessionVersion).toBe(before.sessionVersion);
	});
});

// ---- MCP ---------------------------------------------------------------------------------------------

let rpcId = 0;
async function mcp(token: string | undefined, name: string, args: Record<string, unknown>): Promise<{ status: number; text: string }> {
	const res = await exports.default.fetch(`${BASE}/mcp`, {
		method: "POST",
		headers: {
			...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
			"content-type": "application/json",
			accept: "application/json, text/event-stream",
			"mcp-protocol-version": "2025-06-18",
		},
		body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method: "tools/call", params: { name, arguments: args } }),
	});
	tally.mcpCalls++;
	return { status: res.status, text: await res.text() };
}

describe("MCP tools", () => {
	const calls = (): [string, Record<string, unknown>][] => [
		["list_sessions", {}],
		["get_session", { id: b.session }],
		["get_interactions", {}],
		["get_patterns", { period: "all" }],
		["get_chat", { id: b.session }],
		["get_events", { kind: "session", id: b.session }],
		["get_events", { kind: "org", id: b.org }],
		["get_events", { kind: "chat", id: b.session }],
		["get_state_at", { kind: "session", id: b.session }],
		["get_state_at", { kind: "org", id: b.org, at: 1 }],
		["get_state_at", { kind: "camera", id: b.session }],
	];
	const climbs = (): string[] => [
		`../${b.org}`,
		`..%2f${b.org}`,
		`${b.org}:${b.session}`,
		`${b.org}/sessions/${b.session}`,
		"..",
		"%2e%2e",
		`${b.session}\u0000`,
	];

	it("with A's key, B's ids read as nothing, and ids that climb out are refused", async () => {
		const { secrets } = await snapshotOfB();
		for (const [name, args] of calls()) {
			const { status, text } = await mcp(a.key, name, args);
			expect(status, text.slice(0, 200)).toBe(200);
			expectNoLeak(text, secrets, `${name} ${JSON.stringify(args)}`);
		}
		for (const climb of climbs()) {
			for (const [name, args] of [
				["get_session", { id: climb }],
				["get_chat", { id: climb }],
				["get_events", { kind: "session", id: climb }],
				["get_state_at", { kind: "org", id: climb }],
			] as [string, Record<string, unknown>][]) {
				const { status, text } = await mcp(a.key, name, args);
				expect(status).toBeLessThan(500);
				expectNoLeak(text, secrets, `${name} ${climb}`);
				const body = JSON.parse(text) as { result?: { isError?: boolean; structuredContent?: { found?: boolean; events?: unknown[] } } };
				// Refused as a bad argument, or (an id that is merely unusual) found nowhere.
				const result = body.result;
				expect(
					result?.isError === true || result?.structuredContent?.found === false || result?.structuredContent?.events?.length === 0,
					text.slice(0, 300),
				).toBe(true);
			}
		}
	});

	it("refuses B's revoked key and every forged token with 401 problem+json", async () => {
		const { secrets } = await snapshotOfB();
		for (const [what, token] of [...forgedTokens(), ["no token", undefined] as [string, undefined]]) {
			const { status, text } = await mcp(token, "get_events", { kind: "session", id: b.session });
			expect(status, `${what}: ${text.slice(0, 200)}`).toBe(401);
			expect(JSON.parse(text)).toMatchObject({ status: 401 });
			expectNoLeak(text, secrets, what);
		}
		figure("tenancy", tally);
	});
});

describe("after the attacks", () => {
	it("B still answers its own key, with a whole chain", async () => {
		expect((await call(`/v1/orgs/${b.org}/verify`, { headers: bearer(b.key) })).status).toBe(200);
		expect(await getJson<{ ok: boolean }>(`/v1/orgs/${b.org}/sessions/${b.session}/verify`, { headers: bearer(b.key) })).toMatchObject({
			ok: true,
		});
	});
});
