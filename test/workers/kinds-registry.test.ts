/**
 * One kinds table (src/kinds.ts): a kind added with one row, and bound only in the test configuration, is
 * reachable through every generic surface with no other edit: the HTTP reads, its socket, the console's
 * routes, MCP's get_events and the CLI. The kind is a phone call (test/workers/support/call-kind.ts).
 */
import { env, exports } from "cloudflare:workers";
// The Worker's modules first, as its entry loads them: zod schemas made before @hono/zod-openapi loads have no .openapi.
import "../../src/index.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { beforeAll, describe, expect, it } from "vitest";
import { type ActorPath, definitionOf, kindOf, parseActor, segments } from "../../src/cli/actors.ts";
import { RoostClient } from "../../src/cli/client.ts";
import { readState, verifyOnServer } from "../../src/cli/inspect.ts";
import { replayActor } from "../../src/cli/replay.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { BUILTIN_KINDS, kinds, registerKind } from "../../src/kinds.ts";
import { BASE, call, createOrg, expectProblem, Subscriber, type TestOrg, uniqueId } from "./helpers.ts";
import { type CallActor, callDefinition } from "./support/call-kind.ts";

const TS = Date.UTC(2031, 4, 6, 10, 0);
let org: TestOrg;

const callStub = (id: string) => (env as unknown as { CALL: DurableObjectNamespace<CallActor> }).CALL.getByName(actorName(org.org, id));
const bearer = () => ({ authorization: `Bearer ${org.key}` });
const path = (id: string) => `/v1/orgs/${org.org}/calls/${id}`;

/** A call with `n` notes, in batches of at most 5, written through its actor (the kind has no ingest route: reads are what is shared). */
async function callWithNotes(n: number): Promise<string> {
	const id = uniqueId("call");
	for (let first = 1; first <= n; first += 5) {
		const texts = Array.from({ length: Math.min(5, n - first + 1) }, (_, i) => `note ${first + i}`);
		expect((await callStub(id).note(texts, TS + first)).ok).toBe(true);
	}
	return id;
}

beforeAll(async () => {
	org = await createOrg("Kinds registry");
});

describe("the kinds table", () => {
	it("a row that reuses a kind's name, segment or binding, or whose definition is another kind's, is refused", () => {
		const row = {
			name: "call",
			segment: "calls",
			binding: "CALL",
			label: "phone call",
			definition: callDefinition,
			readBy: { console: true, mcp: true, cli: true },
		};
		const fresh = { ...row, name: "fax", segment: "faxes", binding: "FAX", definition: { ...callDefinition, kind: "fax" } } as never;
		expect(() => registerKind(row as never)).toThrow(/name call is taken/);
		expect(() => registerKind({ ...(fresh as object), segment: "sessions" } as never)).toThrow(/segment sessions is taken by session/);
		expect(() => registerKind({ ...(fresh as object), binding: "ORG" } as never)).toThrow(/binding ORG is taken by org/);
		expect(() => registerKind({ ...(fresh as object), definition: callDefinition } as never)).toThrow(/definition is for call/);
		expect(kinds().map((k) => k.name)).toEqual([...BUILTIN_KINDS.map((k) => k.name), "call"]);
	});
});

describe("a kind registered with one row", () => {
	it("is read over HTTP: its events, its state now and at a version, and its chain", async () => {
		const id = await callWithNotes(3);
		const page = await (await call(`${path(id)}/events`)).json<{ events: EventEnvelope[]; next: number | null }>();
		expect(page.events.map((e) => [e.seq, e.type, e.actor])).toEqual(
			[1, 2, 3].map((seq) => [seq, "call.noted", { kind: "call", org: org.org, id }]),
		);
		expect(await (await call(`${path(id)}/state`)).json()).toMatchObject({ version: 3, state: { notes: ["note 1", "note 2", "note 3"] } });
		expect(await (await call(`${path(id)}/state?at=1`)).json()).toEqual({ version: 1, state: { notes: ["note 1"] } });
		expect(await (await call(`${path(id)}/verify`)).json()).toMatchObject({ ok: true, version: 3 });
	});

	it("stays inside the caller's org: another org's key gets 404, and an unregistered segment is refused", async () => {
		const id = await callWithNotes(1);
		const other = await createOrg("Another org");
		await expectProblem(await call(`${path(id)}/events`, { headers: { authorization: `Bearer ${other.key}` } }), 404);
		const unknown = await call(`/v1/orgs/${org.org}/faxes/${id}/events`, { headers: bearer() });
		expect(unknown.status).toBeGreaterThanOrEqual(400);
		expect(unknown.status).toBeLessThan(500);
	});

	it("streams over its socket: the catch-up, then live events", async () => {
		const id = await callWithNotes(2);
		const sub = await Subscriber.open(path(id), 0, org.key);
		await sub.until((s) => s.events().length === 2);
		expect(sub.frames[0]).toMatchObject({ t: "hello", version: 2, actor: { kind: "call", id } });
		await callStub(id).note(["live"], TS + 1000);
		await sub.until((s) => s.events().length === 3);
		expect(sub.events().map((e) => e.seq)).toEqual([1, 2, 3]);
		sub.close();
	});

	it("has the console's routes: snapshots, the what-if replay, import into a sandbox and fork", async () => {
		const id = await callWithNotes(25);
		const snapshots = await (await call(`${path(id)}/snapshots`)).json<{ snapshots: { version: number; reducerVersion: string }[] }>();
		expect(snapshots.snapshots.map((s) => [s.version, s.reducerVersion])).toEqual([
			[10, "call@1"],
			[20, "call@1"],
		]);
		expect(await (await call(`${path(id)}/snapshots/20`)).json()).toMatchObject({ version: 20 });
		expect(await (await call(`${path(id)}/replay`)).json()).toMatchObject({ ok: true });

		const raw = await (await call(`${path(id)}/events?raw=true&limit=1000`)).json<{ events: EventEnvelope[] }>();
		const sandbox = `sandbox-${crypto.randomUUID()}`;
		const imported = await call(`${path(sandbox)}/import`, {
			method: "POST",
			body: JSON.stringify({ events: raw.events.map(({ actor: _actor, ...event }) => event) }),
		});
		expect(imported.status).toBe(200);
		expect(await (await call(`${path(sandbox)}/verify`)).json()).toMatchObject({ ok: true, version: 25 });

		const forked = await call(`${path(id)}/fork`, { method: "POST", body: JSON.stringify({ at: 5 }) });
		expect(forked.status).toBe(201);
		const fork = await forked.json<{ actor: { kind: string; id: string }; path: string; version: number }>();
		expect(fork).toMatchObject({ actor: { kind: "call" }, version: 5 });
		expect(fork.path).toBe(`/v1/orgs/${org.org}/calls/${fork.actor.id}`);
	});

	it("is read by MCP's get_events", async () => {
		const id = await callWithNotes(2);
		const client = new Client({ name: "roost-test", version: "1.0.0" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
		await client.connect(
			new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
				fetch: (url, init) => exports.default.fetch(new Request(url, init)),
				requestInit: { headers: bearer() },
			}),
		);
		const result = await client.callTool({ name: "get_events", arguments: { kind: "call", id } });
		expect(result.isError).toBeFalsy();
		const content = result.structuredContent as { actor: unknown; events: EventEnvelope[] };
		expect(content.actor).toEqual({ kind: "call", id });
		expect(content.events.map((e) => e.data)).toEqual([{ text: "note 1" }, { text: "note 2" }]);
		await client.close();
	});

	it("is read by the CLI's commands: state, verify and a local replay name it calls/<id>", async () => {
		const id = await callWithNotes(12);
		expect(parseActor(`calls/${id}`)).toEqual({ kind: "calls", id });
		expect(parseActor(`call:${id}`)).toEqual({ kind: "calls", id });
		expect(segments()).toContain("calls");
		// `roost` parses its arguments with node:util, which workerd lacks: the commands' own functions run here,
		// with the CLI's client on this Worker.
		const client = new RoostClient({
			endpoint: BASE,
			org: org.org,
			apiKey: org.key,
			fetch: (input, init) => exports.default.fetch(new Request(input, init)),
		});
		const actor = parseActor(`calls/${id}`) as ActorPath;
		expect(await readState(client, actor, 2)).toMatchObject({ version: 2, state: { notes: ["note 1", "note 2"] } });
		expect(await verifyOnServer(client, actor)).toMatchObject({ ok: true, version: 12 });
		const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: "/" };
		const replay = await replayActor(client, actor, definitionOf(kindOf(actor)), io, true);
		expect(replay).toMatchObject({ ok: true, version: 12, reducerVersion: "call@1" });
	});
});
