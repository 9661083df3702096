/**
 * The MCP server at /mcp, through the MCP SDK's own client over the streamable HTTP transport, against the Worker:
 * tool listing, every tool on real data (sessions that start and end, rollups, a chat answered by the offline
 * responder), argument errors that name the argument, tenancy (another org's ids read as nothing), credentials.
 */
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { MAX_MCP_BATCH, MAX_MCP_RESPONSE_BYTES, TOO_LARGE_CODE } from "../../src/mcp/route.ts";
import { fitPage, MAX_STATE_CHARS } from "../../src/mcp/server.ts";
import { REDACTED } from "../../src/reducers/definition.ts";
import {
	BASE,
	call,
	createKey,
	createOrg,
	expectProblem,
	pageView,
	postBatch,
	revokeKey,
	type TestOrg,
	uniqueId,
	visitStartsRecorded,
} from "./helpers.ts";

const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own during the tests.
const T0 = Date.UTC(2032, 2, 3, 9, 0);
const iso = (ms: number) => new Date(ms).toISOString();

const TOOLS = [
	"get_chat",
	"get_events",
	"get_interactions",
	"get_patterns",
	"get_session",
	"get_state_at",
	"list_sessions",
	"search_sessions",
];

type ToolResult<T> = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: T };

/** An MCP client on the Worker, with `key` as its bearer token (none if undefined). */
async function connect(key: string | undefined): Promise<Client> {
	const client = new Client({ name: "roost-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
	const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
		fetch: (url, init) => exports.default.fetch(new Request(url, init)),
		requestInit: key ? { headers: { authorization: `Bearer ${key}` } } : {},
	});
	await client.connect(transport);
	return client;
}

async function tool<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult<T>> {
	return (await client.callTool({ name, arguments: args })) as ToolResult<T>;
}

/** A successful call's structured content; it also checks the short text summary and the JSON copy beside it. */
async function read<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
	const result = await tool<T>(client, name, args);
	expect(result.isError, result.content[0]?.text).toBeFalsy();
	expect(result.content[0]?.text.length).toBeGreaterThan(0);
	expect(JSON.parse(result.content[1]?.text ?? "null")).toEqual(result.structuredContent);
	return result.structuredContent as T;
}

/** The text of a tool error. */
async function toolError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
	const result = await tool(client, name, args);
	expect(result.isError, JSON.stringify(result)).toBe(true);
	return result.content.map((c) => c.text).join("\n");
}

async function alarmAt(stub: DurableObjectStub, time: number): Promise<void> {
	vi.setSystemTime(time);
	await runDurableObjectAlarm(stub);
}

interface World {
	a: TestOrg;
	b: TestOrg;
	/** Org A: one visit that ended at T0 + 1h, one still active (started T0 + 30 min). */
	ended: string;
	active: string;
	/** In both orgs, with different pages. */
	shared: string;
	/** Org B only. */
	foreign: string;
	chat: string;
	foreignChat: string;
}

let world: World;
let client: Client;

/** Posts one page view to `session` at the mocked now, and lets the session tell its org the visit started. */
async function visit(org: TestOrg, session: string, path: string): Promise<void> {
	const res = await postBatch(org.org, session, { events: [pageView(path, Date.now())] }, { authorization: `Bearer ${org.key}` });
	expect(res.status).toBe(202);
	await runDurableObjectAlarm(env.SESSION.getByName(actorName(org.org, session)));
	// The start reaches the org through the org intake queue (src/intake.ts).
	await visitStartsRecorded(org.org, [session]);
}

/** Posts a chat message and waits for the offline responder's answer. */
async function askChat(org: TestOrg, chat: string, text: string): Promise<void> {
	const res = await call(`/v1/orgs/${org.org}/chats/${chat}/messages`, {
		method: "POST",
		headers: { authorization: `Bearer ${org.key}` },
		body: JSON.stringify({ text, clientActionId: uniqueId("m") }),
	});
	expect(res.status, await res.clone().text()).toBe(202);
	const stub = env.CHAT.getByName(actorName(org.org, chat));
	for (let i = 0; i < 200; i++) {
		const read = await stub.readState();
		if (read.ok && (read.value.state as { operation: unknown; messages: number }).messages >= 2) return;
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	throw new Error("the chat did not answer");
}

beforeAll(async () => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
	const a = await createOrg("MCP A");
	const b = await createOrg("MCP B");
	world = {
		a,
		b,
		ended: uniqueId("ended"),
		active: uniqueId("active"),
		shared: uniqueId("shared"),
		foreign: uniqueId("foreign"),
		chat: uniqueId("chat"),
		foreignChat: uniqueId("chat"),
	};
	await visit(a, world.ended, "/shoes");
	await visit(a, world.shared, "/a-only");
	await visit(b, world.shared, "/b-only");
	await visit(b, world.foreign, "/b-secret");
	// The first visits end an hour after their events and reach their orgs as interactions.
	for (const [org, session] of [
		[a, world.ended],
		[a, world.shared],
		[b, world.shared],
		[b, world.foreign],
	] as const) {
		await alarmAt(env.SESSION.getByName(actorName(org.org, session)), T0 + HOUR);
	}
	vi.setSystemTime(T0 + HOUR + 30 * 60_000);
	await visit(a, world.active, "/checkout");
	// 11:00: hourly rollups of 09:00 and 10:00 (the visits ended at 10:00), then their reports.
	const orgA = env.ORG.getByName(actorName(a.org, a.org));
	await alarmAt(orgA, T0 + 2 * HOUR);
	await alarmAt(orgA, T0 + 2 * HOUR + 1);
	await askChat(a, world.chat, "How many visits ended?");
	await askChat(b, world.foreignChat, "Org B's secret question");
	client = await connect(a.key);
});

afterAll(async () => {
	await client?.close();
	vi.useRealTimers();
});

describe("tools", () => {
	it("lists the eight read tools, each described, with input and output schemas, marked read-only", async () => {
		const { tools } = await client.listTools();
		expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
		for (const t of tools) {
			expect(t.description?.length, t.name).toBeGreaterThan(40);
			expect(t.inputSchema.type, t.name).toBe("object");
			expect(t.outputSchema?.type, t.name).toBe("object");
			expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
		}
		const events = tools.find((t) => t.name === "get_events");
		expect(Object.keys(events?.inputSchema.properties ?? {}).sort()).toEqual(["after", "id", "kind", "limit", "raw", "type"]);
	});

	it("search_sessions: ended web visits by time and page from the org's index, paged by cursor", async () => {
		type Found = { sessions: { session: string; endedAt: number }[]; cursor: string | null };
		const first = await read<Found>(client, "search_sessions", { limit: 1, from: iso(T0 + HOUR), to: T0 + HOUR + 1 });
		expect(first.sessions).toHaveLength(1);
		expect(first.cursor).not.toBeNull();
		const rest = await read<Found>(client, "search_sessions", { limit: 10, from: iso(T0 + HOUR), to: T0 + HOUR + 1, cursor: first.cursor });
		expect([...first.sessions, ...rest.sessions].map((s) => s.session).sort()).toEqual([world.ended, world.shared].sort());
		expect(rest.cursor).toBeNull();
		expect((await read<Found>(client, "search_sessions", { page: "/no-such-page" })).sessions).toEqual([]);
	});

	it("list_sessions: active first, then ended, paged by cursor, filtered by status and time", async () => {
		type List = { sessions: { session: string; status: string; endedAt: number | null }[]; active: number; cursor: string | null };
		const first = await read<List>(client, "list_sessions", { limit: 1 });
		expect(first.sessions).toEqual([expect.objectContaining({ session: world.active, status: "active", endedAt: null })]);
		expect(first.active).toBe(1);
		expect(first.cursor).toBe("e0");
		const rest = await read<List>(client, "list_sessions", { limit: 10, cursor: first.cursor });
		expect(rest.sessions.map((s) => [s.session, s.status]).sort()).toEqual(
			[
				[world.ended, "ended"],
				[world.shared, "ended"],
			].sort(),
		);
		expect(rest.cursor).toBeNull();

		const ended = await read<List>(client, "list_sessions", { status: "ended", from: iso(T0 + HOUR), to: T0 + HOUR + 1 });
		expect(ended.sessions.map((s) => s.session).sort()).toEqual([world.ended, world.shared].sort());
		expect(ended.sessions.every((s) => s.endedAt === T0 + HOUR)).toBe(true);
		const before = await read<List>(client, "list_sessions", { status: "ended", to: "2032-03-03T10:00:00Z" });
		expect(before.sessions).toEqual([]);
		const active = await read<List>(client, "list_sessions", { status: "active" });
		expect(active.sessions.map((s) => s.session)).toEqual([world.active]);
	});

	it("get_session: a session's state; an id the org never saw is not found", async () => {
		type Session = {
			session: string;
			found: boolean;
			version: number;
			state: { status: string; endedVisits: { pages: string[] }[] } | null;
		};
		const ended = await read<Session>(client, "get_session", { id: world.ended });
		expect(ended).toMatchObject({ session: world.ended, found: true, version: 3, state: { status: "ended" } });
		expect(ended.state?.endedVisits).toEqual([expect.objectContaining({ pages: ["/shoes"] })]);
		const active = await read<Session>(client, "get_session", { id: world.active });
		expect(active).toMatchObject({ found: true, state: { status: "active", currentPage: "/checkout" } });
		expect(await read(client, "get_session", { id: uniqueId("never") })).toMatchObject({ found: false, version: 0, state: null });
	});

	it("get_interactions: the org's interactions in order, paged by seq", async () => {
		type Page = { interactions: { seq: number; source: string; actor: { id: string } }[]; next: number | null };
		const all = await read<Page>(client, "get_interactions");
		expect(all.interactions.map((i) => i.actor.id).sort()).toEqual([world.ended, world.shared].sort());
		expect(all.next).toBeNull();
		const first = await read<Page>(client, "get_interactions", { limit: 1 });
		expect(first.interactions).toHaveLength(1);
		expect(first.next).toBe(first.interactions[0]?.seq);
		const second = await read<Page>(client, "get_interactions", { after: first.next, limit: 1 });
		expect(second.interactions.map((i) => i.seq)).toEqual([all.interactions[1]?.seq]);
		expect(second.next).toBeNull();
	});

	it("get_patterns: rollups of a period newest first with their reports, and says when there is more", async () => {
		type View = { period: string; rollups: { start: number; metrics: { interactions: number } }[]; reports: unknown[]; more: boolean };
		const hourly = await read<View>(client, "get_patterns", { period: "hourly" });
		expect(hourly.rollups.map((r) => [iso(r.start), r.metrics.interactions])).toEqual([
			["2032-03-03T10:00:00.000Z", 2],
			["2032-03-03T09:00:00.000Z", 0],
		]);
		expect(hourly.reports.length).toBeGreaterThan(0);
		expect(hourly.more).toBe(false);
		const newest = await read<View>(client, "get_patterns", { period: "hourly", limit: 1 });
		expect(newest.rollups.map((r) => r.start)).toEqual([T0 + HOUR]);
		expect(newest.more).toBe(true);
		expect(await read(client, "get_patterns", { period: "all" })).toMatchObject({ period: "all" });
	});

	it("get_chat: the chat's state and its messages in order, paged by seq", async () => {
		type Chat = {
			found: boolean;
			state: { messages: number; operation: unknown; window?: unknown };
			messages: { seq: number; role: string; text: string }[];
			next: number | null;
		};
		const chat = await read<Chat>(client, "get_chat", { id: world.chat });
		expect(chat.found).toBe(true);
		expect(chat.state).toMatchObject({ messages: 2, operation: null });
		expect(chat.state).not.toHaveProperty("window");
		expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
		expect(chat.messages[0]?.text).toBe("How many visits ended?");
		expect(chat.messages[1]?.text.length).toBeGreaterThan(0);
		expect(chat.next).toBeNull();
		const first = await read<Chat>(client, "get_chat", { id: world.chat, limit: 1 });
		expect(first.messages.map((m) => m.role)).toEqual(["user"]);
		expect(first.next).toBe(first.messages[0]?.seq);
		const second = await read<Chat>(client, "get_chat", { id: world.chat, after: first.next, limit: 1 });
		expect(second.messages.map((m) => m.role)).toEqual(["assistant"]);
		expect(second.next).toBeNull();
		expect(await read(client, "get_chat", { id: uniqueId("never") })).toMatchObject({ found: false, messages: [], next: null });
	});

	it("get_events: any actor's log paged by seq, filtered by type; key hashes stay out of the org's", async () => {
		type Page = { actor: { kind: string; id: string }; events: EventEnvelope[]; next: number | null };
		const session = await read<Page>(client, "get_events", { kind: "session", id: world.ended });
		expect(session.events.map((e) => e.type)).toEqual(["session.started", "session.page_viewed", "session.ended"]);
		expect(session.events.map((e) => e.seq)).toEqual([1, 2, 3]);
		expect(session.next).toBeNull();
		const paged = await read<Page>(client, "get_events", { kind: "session", id: world.ended, limit: 2 });
		expect(paged.next).toBe(2);
		const tail = await read<Page>(client, "get_events", { kind: "session", id: world.ended, after: 2 });
		expect(tail.events.map((e) => e.seq)).toEqual([3]);
		const views = await read<Page>(client, "get_events", { kind: "session", id: world.ended, type: "session.page_viewed" });
		expect(views.events.map((e) => e.type)).toEqual(["session.page_viewed"]);

		const org = await read<Page>(client, "get_events", { kind: "org", limit: 1000 });
		expect(org.actor).toEqual({ kind: "org", id: world.a.org });
		const keyEvent = org.events.find((e) => e.type === "org.key_created");
		expect(keyEvent?.data).toMatchObject({ keyId: world.a.keyId });
		expect(keyEvent?.data).toMatchObject({ hash: REDACTED });
		const chat = await read<Page>(client, "get_events", { kind: "chat", id: world.chat, type: "chat.user_message" });
		expect(chat.events).toHaveLength(1);
		expect(await read(client, "get_events", { kind: "camera", id: uniqueId("never") })).toMatchObject({ events: [], next: null });
	});

	it("get_state_at: any actor's state now or at any version", async () => {
		type State = { actor: { kind: string; id: string }; found: boolean; version: number; state: Record<string, unknown> | null };
		const now = await read<State>(client, "get_state_at", { kind: "session", id: world.ended });
		expect(now).toMatchObject({ found: true, version: 3, state: { status: "ended" } });
		const started = await read<State>(client, "get_state_at", { kind: "session", id: world.ended, at: 2 });
		expect(started).toMatchObject({ found: true, version: 2, state: { status: "active", currentPage: "/shoes" } });
		const empty = await read<State>(client, "get_state_at", { kind: "session", id: world.ended, at: 0 });
		expect(empty).toMatchObject({ found: true, version: 0, state: { status: "new" } });
		const org = await read<State>(client, "get_state_at", { kind: "org" });
		expect(org.found).toBe(true);
		expect(JSON.stringify(org.state)).not.toContain('"hash"');
		// Version 2 is the question and the start of its answer: one message, an answer running.
		const chat = await read<State>(client, "get_state_at", { kind: "chat", id: world.chat, at: 2 });
		expect(chat).toMatchObject({ version: 2, state: { messages: 1, operation: expect.objectContaining({ tokens: 0 }) } });
		expect(await read(client, "get_state_at", { kind: "camera", id: uniqueId("never"), at: 5 })).toMatchObject({
			found: false,
			state: null,
		});
	});
});

describe("invalid arguments", () => {
	it("give a tool error that names the argument", async () => {
		const cases: [string, Record<string, unknown>, string][] = [
			["get_session", { id: "../etc/passwd" }, "id"],
			["get_session", {}, "id"],
			["get_events", { kind: "session" }, "id"],
			["get_events", { kind: "registry" }, "kind"],
			["get_events", { kind: "session", id: "s", after: -1 }, "after"],
			["get_events", { kind: "session", id: "s", limit: 1001 }, "limit"],
			["get_events", { kind: "session", id: "org:other" }, "id"],
			["get_state_at", { kind: "session", id: world.ended, at: 99 }, "at"],
			["get_state_at", { kind: "chat", id: world.chat, at: 1.5 }, "at"],
			["list_sessions", { from: "yesterday" }, "from"],
			["list_sessions", { from: -5 }, "from"],
			["list_sessions", { to: "2032-02-30" }, "to"],
			["list_sessions", { status: "gone" }, "status"],
			["list_sessions", { cursor: "abc" }, "cursor"],
			["get_patterns", { period: "minutely" }, "period"],
			["get_interactions", { limit: 0 }, "limit"],
			["get_chat", { id: world.chat, after: "x" }, "after"],
			["get_interactions", { bogus: 1 }, "bogus"],
		];
		for (const [name, args, argument] of cases) {
			const text = await toolError(client, name, args);
			expect(text, `${name} ${JSON.stringify(args)}`).toMatch(new RegExp(`\\b${argument}\\b`));
		}
	});
});

describe("tenancy", () => {
	it("another org's ids read as nothing: sessions, chats, events, states and the org itself", async () => {
		const { b } = world;
		expect(await read(client, "get_session", { id: world.foreign })).toMatchObject({ found: false, state: null });
		const shared = await read<{ state: { endedVisits: { pages: string[] }[] } }>(client, "get_session", { id: world.shared });
		expect(shared.state.endedVisits.map((v) => v.pages)).toEqual([["/a-only"]]);
		expect(await read(client, "get_chat", { id: world.foreignChat })).toMatchObject({ found: false, messages: [] });
		expect(await read(client, "get_events", { kind: "session", id: world.foreign })).toMatchObject({ events: [], next: null });
		expect(await read(client, "get_events", { kind: "chat", id: world.foreignChat })).toMatchObject({ events: [] });
		expect(await read(client, "get_events", { kind: "org", id: b.org })).toMatchObject({ events: [], next: null });
		expect(await read(client, "get_state_at", { kind: "org", id: b.org })).toMatchObject({ found: false, state: null });
		expect(await read(client, "get_state_at", { kind: "session", id: world.foreign, at: 1 })).toMatchObject({ found: false });

		const listed = await read<{ sessions: { session: string }[] }>(client, "list_sessions", { limit: 200 });
		expect(listed.sessions.map((s) => s.session)).not.toContain(world.foreign);
		const text = JSON.stringify(await read(client, "get_interactions", { limit: 100 }));
		expect(text).not.toContain(world.foreign);
		expect(text).not.toContain("/b-only");
	});

	it("org B's key reads org B", async () => {
		const other = await connect(world.b.key);
		try {
			const sessions = await read<{ sessions: { session: string }[] }>(other, "list_sessions");
			expect(sessions.sessions.map((s) => s.session).sort()).toEqual([world.foreign, world.shared].sort());
			expect(await read(other, "get_chat", { id: world.foreignChat })).toMatchObject({ found: true });
		} finally {
			await other.close();
		}
	});
});

describe("credentials and transport", () => {
	const initialize = (headers: Record<string, string>) =>
		exports.default.fetch(`${BASE}/mcp`, {
			method: "POST",
			headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
			body: JSON.stringify({
				jsonrpc: "2.0",
				id: 1,
				method: "initialize",
				params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
			}),
		});

	it("no key, a malformed key, an unknown key and a revoked key are refused with 401", async () => {
		expect((await expectProblem(await initialize({}), 401)).detail).toContain("API key");
		await expectProblem(await initialize({ authorization: "Bearer nope" }), 401);
		await expectProblem(await initialize({ authorization: `Bearer ${world.a.key.slice(0, -4)}AAAA` }), 401);
		const spare = await createKey(world.a.org, world.a.key, "mcp spare");
		expect((await initialize({ authorization: `Bearer ${spare.key}` })).status).toBe(200);
		await revokeKey(world.a.org, world.a.key, spare.keyId);
		await expectProblem(await initialize({ authorization: `Bearer ${spare.key}` }), 401);
		await expect(connect(undefined)).rejects.toThrow(/401/);
	});

	it("an ingest key, which only sends events in, is refused with 403: every MCP tool reads", async () => {
		const ingest = await createKey(world.a.org, world.a.key, "web page", "ingest");
		const body = await expectProblem(await initialize({ authorization: `Bearer ${ingest.key}` }), 403);
		expect(body.detail).toContain("has the ingest role");
	});

	it("a live key initializes statelessly: a JSON answer with a request id and no session id", async () => {
		const res = await initialize({ authorization: `Bearer ${world.a.key}` });
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toContain("application/json");
		expect(res.headers.get("x-request-id")).toBeTruthy();
		expect(res.headers.get("mcp-session-id")).toBeNull();
		expect(await res.json()).toMatchObject({ result: { serverInfo: { name: "roost" }, capabilities: { tools: {} } } });
	});

	it("a stateless server needs no initialize before a call", async () => {
		const res = await exports.default.fetch(`${BASE}/mcp`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${world.a.key}`,
				"content-type": "application/json",
				accept: "application/json, text/event-stream",
			},
			body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" }),
		});
		expect(res.status).toBe(200);
		const body = await res.json<{ id: number; result: { tools: { name: string }[] } }>();
		expect(body.id).toBe(7);
		expect(body.result.tools.map((t) => t.name).sort()).toEqual(TOOLS);
	});

	it("the per-IP and per-key rate limits count /mcp like the API", async () => {
		// Through an app with limits on, against the test budgets in vitest.config.ts (8 per IP, 5 per key, per minute).
		const app = createApp();
		const limited = { ...env, RATE_LIMITS: "on" };
		const send = async (headers: Record<string, string>) => {
			const ctx = createExecutionContext();
			const res = await app.fetch(
				new Request(`${BASE}/mcp`, {
					method: "POST",
					headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
					body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
				}),
				limited,
				ctx,
			);
			await waitOnExecutionContext(ctx);
			return res;
		};
		const { key } = await createOrg("MCP limited");
		for (let i = 0; i < 5; i++)
			expect((await send({ authorization: `Bearer ${key}`, "cf-connecting-ip": uniqueId("ip") })).status).toBe(200);
		const overKey = await expectProblem(await send({ authorization: `Bearer ${key}`, "cf-connecting-ip": uniqueId("ip") }), 429);
		expect(overKey.detail).toContain("API key");
		const from = uniqueId("ip");
		for (let i = 0; i < 8; i++) expect((await send({ "cf-connecting-ip": from })).status).toBe(401);
		await expectProblem(await send({ "cf-connecting-ip": from }), 429);
	});

	it("GET and DELETE are 405, a body over the limit is 413, and CORS preflights pass without a key", async () => {
		const get = await exports.default.fetch(`${BASE}/mcp`, {
			headers: { authorization: `Bearer ${world.a.key}`, accept: "text/event-stream" },
		});
		expect((await expectProblem(get, 405)).detail).toContain("stateless");
		expect(get.headers.get("allow")).toBe("POST");
		const del = await exports.default.fetch(`${BASE}/mcp`, { method: "DELETE", headers: { authorization: `Bearer ${world.a.key}` } });
		await expectProblem(del, 405);
		const big = await exports.default.fetch(`${BASE}/mcp`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${world.a.key}`,
				"content-type": "application/json",
				accept: "application/json, text/event-stream",
			},
			body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { pad: "x".repeat(70_000) } }),
		});
		await expectProblem(big, 413);
		const preflight = await exports.default.fetch(`${BASE}/mcp`, {
			method: "OPTIONS",
			headers: {
				origin: "http://localhost:6274",
				"access-control-request-method": "POST",
				"access-control-request-headers": "authorization",
			},
		});
		expect(preflight.status).toBe(204);
		expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
		expect(preflight.headers.get("access-control-allow-headers")).toContain("mcp-protocol-version");
	});
});

describe("pages", () => {
	it("a page stops before it grows past its budget, keeps at least one item, and says so", () => {
		const items = Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, text: "x".repeat(100) }));
		// Each item is 120 characters of JSON with its comma.
		const fit = fitPage(items, 400);
		expect(fit.cut).toBe(true);
		expect(fit.items.map((i) => i.seq)).toEqual([1, 2, 3]);
		expect(fitPage(items, 10)).toEqual({ items: [items[0]], cut: true });
		expect(fitPage(items)).toEqual({ items, cut: false });
	});
});

describe("batches and answer sizes", () => {
	const rpc = (body: unknown, key = world.a.key, app?: ReturnType<typeof createApp>, vars: Record<string, unknown> = {}) => {
		const request = new Request(`${BASE}/mcp`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${key}`,
				"content-type": "application/json",
				accept: "application/json, text/event-stream",
				"cf-connecting-ip": uniqueId("ip"),
			},
			body: JSON.stringify(body),
		});
		return app ? app.fetch(request, { ...env, ...vars }, createExecutionContext()) : exports.default.fetch(request);
	};
	const toolCall = (id: number, name: string, args: Record<string, unknown>) => ({
		jsonrpc: "2.0",
		id,
		method: "tools/call",
		params: { name, arguments: args },
	});
	type RpcAnswer = { id: number; result?: { isError?: boolean; content: { text: string }[] }; error?: { code: number; message: string } };

	let big: string;
	beforeAll(async () => {
		big = uniqueId("big");
		const pad = (n: number) => "x".repeat(190_000 + n);
		const events: Record<string, unknown>[] = [0, 1, 2].map((n) => ({
			id: `c${n}`,
			type: "session.custom",
			ts: Date.now(),
			data: { name: `n${n}`, props: { pad: pad(n) } },
		}));
		events.push({ id: "who", type: "session.identified", ts: Date.now(), data: { userId: "u", traits: { pad: pad(20_000) } } });
		const res = await postBatch(world.a.org, big, { events }, { authorization: `Bearer ${world.a.key}` });
		expect(res.status, await res.clone().text()).toBe(202);
	});

	it(`a batch of more than ${MAX_MCP_BATCH} messages is refused naming the limit, and none of it runs`, async () => {
		const batch = Array.from({ length: 100 }, (_, i) => toolCall(i, "get_events", { kind: "session", id: big, limit: 1000 }));
		const res = await rpc(batch);
		expect(res.status).toBe(400);
		const body = await res.json<{ id: null; error: { code: number; message: string } }>();
		expect(body).toMatchObject({ id: null, error: { code: -32600 } });
		expect(body.error.message).toContain(`at most ${MAX_MCP_BATCH} messages; this one holds 100`);
	});

	it("each message of a batch counts against the key's rate limit", async () => {
		// The test budget is 5 requests per key per minute (vitest.config.ts).
		const app = createApp();
		const { key } = await createOrg("MCP batch limited");
		const list = (n: number) => Array.from({ length: n }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "tools/list" }));
		expect((await rpc(list(4), key, app, { RATE_LIMITS: "on" })).status).toBe(200);
		const over = await expectProblem(await rpc(list(2), key, app, { RATE_LIMITS: "on" }), 429);
		expect(over.detail).toContain("API key");
	});

	it(`a batch whose answers pass ${MAX_MCP_RESPONSE_BYTES} bytes keeps those that fit and answers the rest with an error naming the limit`, async () => {
		const batch = Array.from({ length: MAX_MCP_BATCH }, (_, i) => toolCall(i, "get_events", { kind: "session", id: big, limit: 1000 }));
		const res = await rpc(batch);
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_MCP_RESPONSE_BYTES);
		const answers = JSON.parse(text) as RpcAnswer[];
		expect(answers.map((a) => a.id)).toEqual(batch.map((m) => m.id));
		const cut = answers.filter((a) => a.error);
		expect(answers[0]?.result?.isError).toBeUndefined();
		expect(cut.length).toBeGreaterThan(0);
		for (const answer of cut) {
			expect(answer.error?.code).toBe(TOO_LARGE_CODE);
			expect(answer.error?.message).toContain(`limit of ${MAX_MCP_RESPONSE_BYTES} bytes`);
		}
	});

	it(`a state over ${MAX_STATE_CHARS} characters is refused with its size, not cut`, async () => {
		// A live visit keeps bounded state (docs/events.md); an imported sandbox may hold an ended visit of any size.
		const sandbox = uniqueId("sandbox-big");
		const ts = Date.now();
		const pages = Array.from({ length: 30 }, (_, i) => `/${i}/${"p".repeat(8_000)}`);
		const summary = {
			visit: 1,
			startedAt: ts,
			lastEventAt: ts,
			durationMs: 0,
			events: 30,
			pageViews: 30,
			clicks: 0,
			pages,
			customEvents: {},
			errors: 0,
			userId: null,
		};
		const events = [
			{ seq: 1, id: "s", type: "session.started", v: 1, ts, data: { visit: 1 }, meta: {} },
			{ seq: 2, id: "e", type: "session.ended", v: 1, ts, data: { reason: "inactivity", summary }, meta: {} },
		];
		const imported = await exports.default.fetch(`${BASE}/v1/orgs/${world.a.org}/sessions/${sandbox}/import`, {
			method: "POST",
			headers: { authorization: `Bearer ${world.a.key}`, "content-type": "application/json" },
			body: JSON.stringify({ events }),
		});
		expect(imported.status, await imported.clone().text()).toBe(200);
		const answers = (await (
			await rpc([toolCall(1, "get_state_at", { kind: "session", id: sandbox }), toolCall(2, "get_session", { id: sandbox })])
		).json()) as RpcAnswer[];
		for (const answer of answers) {
			expect(answer.result?.isError).toBe(true);
			expect(answer.result?.content[0]?.text).toContain(`over the ${MAX_STATE_CHARS}`);
		}
	});
});
