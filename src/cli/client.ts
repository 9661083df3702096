/**
 * The CLI's side of the HTTP API: org-scoped requests with the API key as a bearer token, problem+json
 * answers turned into ProblemError (the CLI prints their detail), reads paged by seq, and retries where a
 * retry is safe: any request the server refused with 429 (Retry-After), and reads that met a network
 * error or a 502/503/504.
 */
import { type ActorPath, actorApiPath } from "./actors.ts";
import type { ExportedEvent } from "./chain.ts";

export interface Problem {
	type?: string;
	title: string;
	status: number;
	detail?: string;
	errors?: { path: string; message: string }[];
	[extra: string]: unknown;
}

/** A problem+json answer from the server. */
export class ProblemError extends Error {
	readonly problem: Problem;
	constructor(problem: Problem) {
		super(problem.detail ?? problem.title);
		this.problem = problem;
	}
}

/** The server could not be reached. */
export class NetworkError extends Error {}

export interface ClientOptions {
	endpoint: string;
	org: string;
	apiKey: string;
	/** Told about each wait before a retry. */
	onRetry?: (message: string) => void;
	fetch?: typeof fetch;
	/** Retries after a 429 or a failed read (default 4). */
	retries?: number;
	sleep?: (ms: number) => Promise<void>;
}

export interface EventPage {
	events: ExportedEvent[];
	next: number | null;
}

const RETRIABLE_READ = new Set([502, 503, 504]);
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RoostClient {
	readonly endpoint: string;
	readonly org: string;
	readonly #apiKey: string;
	readonly #options: ClientOptions;

	constructor(options: ClientOptions) {
		this.endpoint = options.endpoint.replace(/\/+$/, "");
		this.org = options.org;
		this.#apiKey = options.apiKey;
		this.#options = options;
	}

	path(actor: ActorPath, suffix = ""): string {
		return actorApiPath(this.org, actor, suffix);
	}

	get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
		const url = new URL(`${this.endpoint}${path}`);
		for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
		return this.#request<T>("GET", url);
	}

	post<T>(path: string, body: unknown): Promise<T> {
		return this.#request<T>("POST", new URL(`${this.endpoint}${path}`), JSON.stringify(body));
	}

	/** A request whose answer is read as it arrives (NDJSON) rather than as JSON; a refusal is a ProblemError like any other. */
	open(method: "GET" | "POST", path: string, body?: unknown): Promise<Response> {
		return this.#send(method, new URL(`${this.endpoint}${path}`), body === undefined ? undefined : JSON.stringify(body));
	}

	/** The actor's version, cheaply (its snapshot list carries it). */
	async version(actor: ActorPath): Promise<number> {
		return (await this.get<{ version: number }>(this.path(actor, "/snapshots"))).version;
	}

	/** Events after `after` (up to `to`, if given), as stored, page by page. */
	async *rawEvents(actor: ActorPath, options: { after?: number; to?: number; pageSize?: number } = {}): AsyncGenerator<ExportedEvent[]> {
		let after = options.after ?? 0;
		const to = options.to ?? Number.POSITIVE_INFINITY;
		while (after < to) {
			const limit = Math.min(options.pageSize ?? 1000, to - after);
			const page = await this.get<EventPage>(this.path(actor, "/events"), { after, limit, raw: "true" });
			const events = page.events.filter((e) => e.seq <= to);
			if (events.length > 0) yield events;
			if (page.next === null || events.length === 0) return;
			after = page.next;
		}
	}

	/** The WebSocket URL of the actor, resuming after `after` (the key goes in `?token=`). */
	socketUrl(actor: ActorPath, after: number): string {
		const url = new URL(`${this.endpoint}${this.path(actor, "/ws")}`);
		url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
		url.searchParams.set("after", String(after));
		url.searchParams.set("token", this.#apiKey);
		return url.href;
	}

	async #request<T>(method: string, url: URL, body?: string): Promise<T> {
		return (await (await this.#send(method, url, body)).json()) as T;
	}

	/** Sends with retries where a retry is safe; answers the first 2xx response, or throws the problem. */
	async #send(method: string, url: URL, body?: string): Promise<Response> {
		const doFetch = this.#options.fetch ?? fetch;
		const sleep = this.#options.sleep ?? pause;
		const retries = this.#options.retries ?? 4;
		const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}` };
		if (body !== undefined) headers["content-type"] = "application/json";
		for (let attempt = 0; ; attempt++) {
			let res: Response;
			try {
				res = await doFetch(url, { method, headers, body });
			} catch (error) {
				// Two quick retries: enough for a blip, short when the server is simply not running.
				if (method === "GET" && attempt < Math.min(retries, 2)) {
					const wait = 250 * 2 ** attempt;
					this.#options.onRetry?.(`${url.host} did not answer; retrying in ${wait} ms`);
					await sleep(wait);
					continue;
				}
				const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
				throw new NetworkError(`cannot reach ${this.endpoint}${cause}`);
			}
			if (res.ok) return res;
			const retriable = res.status === 429 || (method === "GET" && RETRIABLE_READ.has(res.status));
			if (retriable && attempt < retries) {
				const seconds = Number(res.headers.get("retry-after"));
				const wait = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 500 * 2 ** attempt;
				this.#options.onRetry?.(`${res.status} from the server; retrying in ${Math.ceil(wait / 1000)} s`);
				await res.body?.cancel();
				await sleep(wait);
				continue;
			}
			const text = await res.text();
			let problem: Partial<Problem> = {};
			try {
				problem = JSON.parse(text) as Partial<Problem>;
			} catch {
				problem = { detail: text.slice(0, 500) || undefined };
			}
			throw new ProblemError({ ...problem, title: problem.title ?? res.statusText, status: res.status });
		}
	}
}
