import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { REGISTRY_NAME, type RegistryActor } from "../../src/actors/registry.ts";
import { actorName, ID_PATTERN } from "../../src/core/identity.ts";
import type { Outcome } from "../../src/core/outcome.ts";
import type { EventEnvelope, ProposedEvent } from "../../src/events/envelope.ts";
import { mintApiKey } from "../../src/http/api-keys.ts";

export const BASE = "http://roost.test";
/** The admin token: it opens POST and GET /v1/orgs, and nothing under an org. */
export const adminAuth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
/** The admin header, under the name older tests use. */
export const auth = adminAuth;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The org a path is under (`/v1/orgs/<org>/...`), if any. */
export function orgOf(path: string): string | undefined {
	const org = /^\/v1\/orgs\/([^/?#]+)/.exec(path)?.[1];
	return org && ID_PATTERN.test(org) ? org : undefined;
}

const seeded = new Map<string, Promise<string>>();

/**
 * An API key of `org`. The first call seeds the org with that very id through the org actor (the
 * public API mints ids, so fixed names like "acme" exist only as fixtures); each test module gets
 * its own key, so modules never revoke each other's.
 */
export function keyFor(org: string): Promise<string> {
	let key = seeded.get(org);
	if (!key) {
		key = seedOrg(org);
		seeded.set(org, key);
		key.catch(() => seeded.delete(org));
	}
	return key;
}

async function seedOrg(org: string): Promise<string> {
	await registerFixtureOrg(org);
	const stub = env.ORG.getByName(actorName(org, org));
	const key = await mintApiKey(org, "admin", { label: "test fixture" });
	const created = await stub.create({ name: org, key });
	if (created.ok) return key.apiKey;
	const issued = await stub.issueKey({ key });
	if (!issued.ok) throw new Error(`cannot seed org ${org}: ${issued.error.detail}`);
	return key.apiKey;
}

/**
 * Lists a fixture org in the registry, as POST /v1/orgs does for the orgs it makes: keys of an org the registry does
 * not know are refused. The registry mints ids, so a fixed id goes in through its kernel's append.
 */
async function registerFixtureOrg(org: string): Promise<void> {
	await runInDurableObject(env.REGISTRY.getByName(REGISTRY_NAME), (registry: RegistryActor) => {
		if (registry.hasOrg(org)) return;
		const kernel = registry as unknown as {
			execute(options: object, plan: () => { events: ProposedEvent[]; result: () => null }): Outcome<unknown>;
		};
		const events = [{ id: `fixture-${org}`, type: "registry.org_registered", ts: Date.now(), data: { org, name: org } }];
		const appended = kernel.execute({}, () => ({ events, result: () => null }));
		if (!appended.ok) throw new Error(`cannot register fixture org ${org}: ${appended.error.detail}`);
	});
}

export interface TestOrg {
	org: string;
	/** An API key of the org. */
	key: string;
	keyId: string;
}

/** A fresh org through the admin API, with its first key. */
export async function createOrg(name = "Test org"): Promise<TestOrg> {
	const res = await exports.default.fetch(`${BASE}/v1/orgs`, {
		method: "POST",
		headers: { ...adminAuth, "content-type": "application/json" },
		body: JSON.stringify({ name }),
	});
	if (res.status !== 201) throw new Error(`POST /v1/orgs: ${res.status} ${await res.text()}`);
	const body = await res.json<{ org: { id: string }; apiKey: string; key: { id: string } }>();
	return { org: body.org.id, key: body.apiKey, keyId: body.key.id };
}

/** A new key of `org`, made with `key`: an admin key unless `role` says otherwise. */
export async function createKey(
	org: string,
	key: string,
	label?: string,
	role: "admin" | "analyst" | "viewer" | "ingest" = "admin",
): Promise<{ key: string; keyId: string }> {
	const request = { role, ...(label ? { label } : {}) };
	const res = await call(`/v1/orgs/${org}/keys`, { method: "POST", headers: bearer(key), body: JSON.stringify(request) });
	if (res.status !== 201) throw new Error(`POST keys: ${res.status} ${await res.text()}`);
	const body = await res.json<{ apiKey: string; key: { id: string } }>();
	return { key: body.apiKey, keyId: body.key.id };
}

/** Revokes `keyId` of `org`, using `key`. */
export async function revokeKey(org: string, key: string, keyId: string): Promise<void> {
	const res = await call(`/v1/orgs/${org}/keys/${keyId}`, { method: "DELETE", headers: bearer(key) });
	if (res.status !== 200) throw new Error(`DELETE key: ${res.status} ${await res.text()}`);
}

/**
 * A request to the Worker. Without an authorization header, a path under an org gets an API key of
 * that org (see keyFor); pass `authorization` yourself to use another credential, or "" for none.
 */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
	const headers = new Headers(init.headers);
	const org = orgOf(path);
	if (!headers.has("authorization") && org) headers.set("authorization", `Bearer ${await keyFor(org)}`);
	if (headers.get("authorization") === "") headers.delete("authorization");
	if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
	return exports.default.fetch(`${BASE}${path}`, { ...init, headers });
}

export async function getJson<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
	const res = await call(path, init);
	if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

export function uniqueId(prefix = "t"): string {
	return `${prefix}-${crypto.randomUUID()}`;
}

export interface ClientEvent {
	id: string;
	type: string;
	ts: number;
	v?: number;
	data: Record<string, unknown>;
}

let counter = 0;
export function pageView(path: string, ts = 1_700_000_000_000 + counter * 1000): ClientEvent {
	counter++;
	return { id: uniqueId("e"), type: "session.page_viewed", ts, data: { url: `https://shop.example${path}`, path } };
}

export function postBatch(org: string, session: string, body: Record<string, unknown>, headers: HeadersInit = {}): Promise<Response> {
	return call(`/v1/orgs/${org}/sessions/${session}/events`, { method: "POST", body: JSON.stringify(body), headers });
}

export async function allEvents(path: string, init: RequestInit = {}): Promise<EventEnvelope[]> {
	const out: EventEnvelope[] = [];
	let after = 0;
	for (;;) {
		const page = await getJson<{ events: EventEnvelope[]; next: number | null }>(`${path}/events?after=${after}&limit=1000`, init);
		out.push(...page.events);
		if (page.next === null) return out;
		after = page.next;
	}
}

/** A WebSocket to an actor that records every frame it receives. */
export class Subscriber {
	readonly frames: Record<string, unknown>[] = [];
	#waiters: (() => void)[] = [];

	private constructor(readonly socket: WebSocket) {
		socket.addEventListener("message", (event) => {
			this.frames.push(JSON.parse(event.data as string));
			for (const wake of this.#waiters.splice(0)) wake();
		});
	}

	/** Subscribes to the actor at `path`; the key defaults to one of the path's org (see keyFor). */
	static async open(path: string, after = 0, token?: string, headers: Record<string, string> = {}): Promise<Subscriber> {
		const org = orgOf(path);
		const key = token ?? (org ? await keyFor(org) : "");
		const res = await exports.default.fetch(`${BASE}${path}/ws?after=${after}&token=${encodeURIComponent(key)}`, {
			headers: { ...headers, upgrade: "websocket" },
		});
		const socket = res.webSocket;
		if (!socket) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
		socket.accept();
		return new Subscriber(socket);
	}

	events(): EventEnvelope[] {
		return this.frames.filter((f) => f.t === "event").map((f) => f.event as EventEnvelope);
	}

	/** Waits until `predicate` holds over the frames received so far. */
	async until(predicate: (s: Subscriber) => boolean, timeoutMs = 5000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!predicate(this)) {
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.slice(-5))}`);
			await new Promise<void>((resolve) => {
				this.#waiters.push(resolve);
				setTimeout(resolve, Math.min(left, 100));
			});
		}
	}

	send(message: unknown): void {
		this.socket.send(JSON.stringify(message));
	}

	close(): void {
		this.socket.close(1000, "done");
	}
}

export type ProblemBody = { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };

/** Checks a problem+json answer with its request id, and returns its body. */
export async function expectProblem(res: Response, status: number): Promise<ProblemBody> {
	expect(res.status).toBe(status);
	expect(res.headers.get("content-type")).toContain("application/problem+json");
	expect(res.headers.get("x-request-id")).toBeTruthy();
	const body = await res.json<ProblemBody>();
	expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
	return body;
}

/**
 * Polls `check` every `interval` ms of real time until it holds, for at most `timeout` ms: for what now arrives through
 * a queue (a visit start, through the org intake: src/intake.ts). Counts its rounds rather than reading the clock, which
 * many tests mock, and never moves a mocked clock.
 */
export async function eventually(check: () => Promise<boolean>, what: string, timeout = 20_000, interval = 50): Promise<void> {
	for (let waited = 0; !(await check()); waited += interval) {
		if (waited >= timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, interval));
	}
}

/** Waits until the org has recorded visit `visit`'s start of each of `sessions` (delivered through the org intake queue). */
export async function visitStartsRecorded(org: string, sessions: readonly string[], visit = 1): Promise<void> {
	const stub = env.ORG.getByName(actorName(org, org));
	await eventually(
		async () => {
			for (const session of sessions) if (!(await stub.eventById(`session:${session}:visit-${visit}:started`))) return false;
			return true;
		},
		`the visit starts of ${sessions.join(", ")} in ${org}`,
	);
}
