/**
 * The HTTP side of the Roost API for the web pages: org-scoped GET, POST and DELETE with the API key as a bearer
 * token (or none, signed in through Cloudflare Access), problem+json errors as ApiError, and the URL of any actor's
 * WebSocket (with a single-use ticket, since browsers cannot set headers on a WebSocket). docs/api.md describes every
 * route.
 */

import type { ActorPath } from "../../../src/cli/actors.ts";

/** The event envelope every read and every socket push carries (docs/events.md, "The envelope"). */
export interface EventEnvelope<D = Record<string, unknown>> {
	seq: number;
	id: string;
	type: string;
	v: number;
	ts: number;
	actor: { kind: string; org: string; id: string };
	data: D;
	meta: Record<string, string>;
	hash: string;
}

export interface Problem {
	type?: string;
	title: string;
	status: number;
	detail?: string;
}

export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly problem: Problem,
	) {
		super(problem.detail ?? problem.title);
	}
}

/** An actor inside the org: `{ kind: "org" }` for the org itself, else one of its actors by segment and id. */
export type ActorRef = ActorPath;

export type Query = Record<string, string | number | undefined>;

export class RoostApi {
	readonly #origin: string;

	/**
	 * `apiKey` null: no key, for a page behind Cloudflare Access, where the browser's Access cookie makes the edge add
	 * the signed identity to every same-origin request (docs/dashboard.md, "Signing in").
	 */
	constructor(
		readonly org: string,
		readonly apiKey: string | null,
		origin: string = location.origin,
	) {
		this.#origin = origin;
	}

	/** `/v1/orgs/<org>` plus `path` (which starts with `/`, or is empty for the org itself). */
	orgPath(path = ""): string {
		return `/v1/orgs/${encodeURIComponent(this.org)}${path}`;
	}

	actorPath(actor: ActorRef, path = ""): string {
		return actor.kind === "org" ? this.orgPath(path) : this.orgPath(`/${actor.kind}/${encodeURIComponent(actor.id)}${path}`);
	}

	get<T>(path: string, query: Query = {}): Promise<T> {
		return this.#request<T>("GET", path, query);
	}

	post<T>(path: string, body: unknown): Promise<T> {
		return this.#request<T>("POST", path, {}, body);
	}

	/** DELETE, with a JSON body when the route takes one (removing a member names them in the body). */
	delete<T>(path: string, body?: unknown): Promise<T> {
		return this.#request<T>("DELETE", path, {}, body);
	}

	/** The actor's WebSocket, resuming after `after`, opened with a fresh single-use ticket (the key never goes in a URL). */
	async socketUrl(actor: ActorRef, after: number): Promise<string> {
		const { ticket } = await this.post<{ ticket: string }>(this.orgPath("/socket-tickets"), {});
		const url = new URL(this.actorPath(actor, "/ws"), this.#origin);
		url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
		url.searchParams.set("after", String(after));
		url.searchParams.set("ticket", ticket);
		return url.href;
	}

	async #request<T>(method: string, path: string, query: Query, body?: unknown): Promise<T> {
		const url = new URL(path, this.#origin);
		for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
		const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
		if (body !== undefined) headers["content-type"] = "application/json";
		let res: Response;
		try {
			res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		} catch {
			throw new ApiError(0, { title: "Network error", status: 0, detail: "The server could not be reached." });
		}
		if (res.ok) return (await res.json()) as T;
		const problem = (await res.json().catch(() => ({}))) as Partial<Problem>;
		throw new ApiError(res.status, { title: problem.title ?? res.statusText, status: res.status, detail: problem.detail });
	}
}
