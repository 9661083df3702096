/**
 * Erasure of a data subject, black box: a visitor with a user id and traits, visits ended and archived to R2,
 * interactions rolled up; erase the user; then every read surface is searched for the id and traits, every
 * remaining chain verifies, rollup totals are unchanged, and the erased sessions hold nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { EMPTY_DATABASE_BYTES } from "../../src/events/erasure.ts";
import type { ErasureView } from "../../src/reducers/org-erasure.ts";
import { allEvents, BASE, call, createOrg, getJson, pageView, postBatch, Subscriber, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2033, 3, 4, 9, 0, 0);

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

const bearer = (org: TestOrg) => ({ authorization: `Bearer ${org.key}` });
const orgStub = (org: TestOrg) => env.ORG.getByName(actorName(org.org, org.org));
const sessionStub = (org: TestOrg, session: string) => env.SESSION.getByName(actorName(org.org, session));

/** A visit to `session` by `userId` with `traits`, ended by inactivity an hour later, handed to the org and the queue. */
async function identifiedVisit(org: TestOrg, session: string, userId: string, traits: Record<string, string>): Promise<void> {
	const events = [
		pageView("/shoes", T0),
		{ id: uniqueId("e"), type: "session.identified", ts: T0 + 1, data: { userId, traits } },
		pageView("/checkout", T0 + 2),
	];
	expect((await postBatch(org.org, session, { events }, bearer(org))).status).toBe(202);
	vi.setSystemTime(T0 + HOUR);
	await runDurableObjectAlarm(sessionStub(org, session));
	vi.setSystemTime(T0);
}

/** Every object the org has in the archive bucket, as text. */
async function archiveText(org: TestOrg): Promise<{ keys: string[]; text: string }> {
	const listed = await env.ARCHIVE.list({ prefix: `interactions/${org.org}/` });
	const bodies = await Promise.all(listed.objects.map(async (o) => (await env.ARCHIVE.get(o.key))?.text() ?? ""));
	return { keys: listed.objects.map((o) => o.key), text: bodies.join("\n") };
}

/** Waits (real time) for the queue consumer to archive `count` objects of the org. */
async function archived(org: TestOrg, count: number): Promise<void> {
	vi.useRealTimers();
	for (let i = 0; i < 200 && (await archiveText(org)).keys.length < count; i++) await new Promise((r) => setTimeout(r, 25));
	vi.useFakeTimers({ toFake: ["Date"] });
	expect((await archiveText(org)).keys).toHaveLength(count);
}

/** Runs the org's alarm (its outbox and timers) until the erasure is done. */
async function eraseUntilDone(org: TestOrg, id: string): Promise<ErasureView> {
	for (let round = 0; round < 20; round++) {
		const view = await getJson<ErasureView>(`/v1/orgs/${org.org}/erasures/${id}`, { headers: bearer(org) });
		if (view.status === "done") return view;
		await runDurableObjectAlarm(orgStub(org));
	}
	throw new Error(`erasure ${id} did not finish`);
}

async function mcpText(org: TestOrg, calls: { name: string; arguments: Record<string, unknown> }[]): Promise<string> {
	const client = new Client({ name: "erasure-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
	const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
		fetch: (url, init) => exports.default.fetch(new Request(url, init)),
		requestInit: { headers: bearer(org) },
	});
	await client.connect(transport);
	const texts: string[] = [];
	for (const c of calls) texts.push(JSON.stringify(await client.callTool(c)));
	await client.close();
	return texts.join("\n");
}

/** Everything every read surface of the org answers about these sessions, as one text to search. */
async function everyReadSurface(org: TestOrg, sessions: string[], userId: string): Promise<string> {
	const base = `/v1/orgs/${org.org}`;
	const texts: string[] = [];
	const get = async (path: string) => texts.push(await (await call(path, { headers: bearer(org) })).text());
	await get(`${base}/state`);
	texts.push(JSON.stringify(await allEvents(base, { headers: bearer(org) })));
	await get(`${base}/interactions?limit=1000`);
	await get(`${base}/sessions?status=all&limit=200`);
	for (const session of sessions) {
		await get(`${base}/sessions/${session}/state`);
		await get(`${base}/sessions/${session}/events`);
		await get(`${base}/sessions/${session}/snapshots`);
	}
	texts.push(JSON.stringify(await orgStub(org).searchSessions({ userId })));
	texts.push(JSON.stringify(await orgStub(org).searchSessions({})));
	texts.push(
		await mcpText(org, [
			{ name: "list_sessions", arguments: { status: "all" } },
			{ name: "get_interactions", arguments: {} },
			{ name: "get_events", arguments: { kind: "org", id: org.org } },
			...sessions.map((id) => ({ name: "get_session", arguments: { id } })),
		]),
	);
	const socket = await Subscriber.open(base, 0, org.key);
	await socket.until((s) => s.frames.some((f) => f.t === "hello"));
	const version = (await orgStub(org).describe()).version;
	await socket.until((s) => s.events().length >= version);
	texts.push(JSON.stringify(socket.frames));
	socket.socket.close();
	texts.push((await archiveText(org)).text);
	return texts.join("\n");
}

describe("erasure of a user", () => {
	it("after done, no read surface returns the user id or traits, every chain verifies and rollup totals are unchanged", async () => {
		const org = await createOrg("Erasure");
		const userId = uniqueId("user");
		const traits = { email: `${uniqueId("mail")}@example.com`, name: uniqueId("Ada") };
		const other = uniqueId("other-user");
		const [first, second, bystander] = [uniqueId("s"), uniqueId("s"), uniqueId("s")];
		await identifiedVisit(org, first, userId, traits);
		await identifiedVisit(org, second, userId, traits);
		await identifiedVisit(org, bystander, other, { name: "Bea" });
		await archived(org, 3);
		vi.setSystemTime(T0 + 2 * HOUR);
		expect((await orgStub(org).runRollup("hourly")).ok).toBe(true);
		await runDurableObjectAlarm(orgStub(org)); // the rollups' reports

		// Before: the id and a trait are there to be found.
		const before = await everyReadSurface(org, [first, second], userId);
		expect(before).toContain(userId);
		expect(before).toContain(traits.email);
		const stateBefore = (
			await getJson<{ state: { rollups: unknown; interactions: unknown } }>(`/v1/orgs/${org.org}/state`, { headers: bearer(org) })
		).state;

		const res = await call(`/v1/orgs/${org.org}/erasures`, { method: "POST", headers: bearer(org), body: JSON.stringify({ userId }) });
		expect(res.status).toBe(202);
		const started = await res.json<{ id: string; status: string }>();
		expect(started.status).toBe("pending");
		const done = await eraseUntilDone(org, started.id);
		expect(done).toMatchObject({
			subject: "user",
			status: "done",
			requestedBy: org.keyId,
			counts: { actors: 2, actorsErased: 2, keys: 2, keysShredded: 2, objectsDeleted: 2, bytesLeft: 2 * EMPTY_DATABASE_BYTES },
		});

		const after = await everyReadSurface(org, [first, second], userId);
		expect(after).not.toContain(userId);
		expect(after).not.toContain(traits.email);
		expect(after).not.toContain(traits.name);
		// The bystander keeps everything.
		expect(after).toContain(other);
		expect((await archiveText(org)).keys).toHaveLength(1);
		const readable = await orgStub(org).searchSessions({ userId: other });
		expect(readable.sessions.map((s) => s.session)).toEqual([bystander]);

		const stateAfter = (
			await getJson<{ state: { rollups: unknown; interactions: unknown } }>(`/v1/orgs/${org.org}/state`, { headers: bearer(org) })
		).state;
		expect(stateAfter.rollups).toEqual(stateBefore.rollups);
		expect(stateAfter.interactions).toEqual(stateBefore.interactions);
		for (const path of [`/v1/orgs/${org.org}`, ...[first, second, bystander].map((s) => `/v1/orgs/${org.org}/sessions/${s}`)]) {
			expect(await getJson(`${path}/verify`, { headers: bearer(org) }), path).toMatchObject({ ok: true });
		}
		// The erasure's own record (its data: who asked, what kinds, counts) names no subject.
		const recorded = (await allEvents(`/v1/orgs/${org.org}`, { headers: bearer(org) })).filter((e) => e.type.startsWith("org.erasure"));
		expect(recorded.map((e) => e.type)).toEqual([
			"org.erasure_requested",
			"org.erasure_step_done",
			"org.erasure_step_done",
			"org.erasure_step_done",
		]);
		const data = JSON.stringify(recorded.map((e) => e.data));
		for (const subject of [userId, first, second]) expect(data).not.toContain(subject);
	});

	it("an erased session's storage is empty: no table right after clearing (one empty page), and no row or alarm after", async () => {
		const org = await createOrg("Erased bytes");
		const session = uniqueId("s");
		await identifiedVisit(org, session, uniqueId("user"), { plan: "gold" });
		const res = await call(`/v1/orgs/${org.org}/erasures`, { method: "POST", headers: bearer(org), body: JSON.stringify({ session }) });
		expect(res.status).toBe(202);
		const done = await eraseUntilDone(org, (await res.json<{ id: string }>()).id);
		expect(done.counts).toMatchObject({ actors: 1, actorsErased: 1, keys: 1, keysShredded: 1, bytesLeft: EMPTY_DATABASE_BYTES });
		const rows = await runInDurableObject(sessionStub(org, session), (_instance, state) => {
			const tables = state.storage.sql
				.exec<{ name: string }>(
					"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
				)
				.toArray()
				.map((t) => t.name);
			return Object.fromEntries(
				tables
					.filter((t) => !t.startsWith("__drizzle"))
					.map((t) => [t, state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${t}"`).one().n]),
			);
		});
		expect(
			Object.values(rows).every((n) => n === 0),
			JSON.stringify(rows),
		).toBe(true);
		expect(await runInDurableObject(sessionStub(org, session), (_instance, state) => state.storage.getAlarm())).toBeNull();
	});

	it("a second request for an erased user finds nothing left and is done at once", async () => {
		const org = await createOrg("Erase twice");
		const userId = uniqueId("user");
		await identifiedVisit(org, uniqueId("s"), userId, {});
		const erase = async () =>
			(await call(`/v1/orgs/${org.org}/erasures`, { method: "POST", headers: bearer(org), body: JSON.stringify({ userId }) })).json<{
				id: string;
				status: string;
			}>();
		await eraseUntilDone(org, (await erase()).id);
		expect(await erase()).toMatchObject({ status: "done" });
	});

	it("a request naming no subject, or two, is a 400 naming the field", async () => {
		const org = await createOrg("Erase bad input");
		for (const body of [{}, { userId: "u", session: "s" }, { session: "not/an id" }]) {
			const res = await call(`/v1/orgs/${org.org}/erasures`, { method: "POST", headers: bearer(org), body: JSON.stringify(body) });
			expect(res.status).toBe(400);
			expect(res.headers.get("content-type")).toContain("application/problem+json");
		}
		const unknown = await call(`/v1/orgs/${org.org}/erasures/00000000-0000-0000-0000-000000000000`, { headers: bearer(org) });
		expect(unknown.status).toBe(404);
	});
});
