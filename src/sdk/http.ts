/** One batch over HTTP, and how each way of failing is classified: retry later, or refused for good. */
import type { ClientEvent } from "./events.ts";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface BatchAck {
	accepted: number;
	duplicates: number;
	version: number;
}

/** A problem+json body (docs/api.md, "Errors"). */
export interface Problem {
	type?: string;
	title?: string;
	status?: number;
	detail?: string;
	errors?: { path: string; message: string }[];
}

/** A failed delivery. `retryable`: network errors, timeouts, 429 and 5xx; everything else was refused. */
export class DeliveryError extends Error {
	override readonly name = "DeliveryError";
	constructor(
		message: string,
		readonly retryable: boolean,
		/** HTTP status (or the socket error frame's status); undefined for network failures. */
		readonly status?: number,
		/** From Retry-After on a 429 or 503, in milliseconds. */
		readonly retryAfterMs?: number,
		readonly problem?: Problem,
		/** The socket could not carry the batch; the HTTP path may still work at once. */
		readonly socketDown = false,
	) {
		super(message);
	}
}

/** Longest Retry-After honoured; a larger value is cut to this so one bad header cannot park the client for a day. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
	if (!value) return undefined;
	const seconds = Number(value.trim());
	const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
	if (!Number.isFinite(ms)) return undefined;
	return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}

export function batchUrl(endpoint: string, orgId: string, sessionId: string): string {
	return `${endpoint}/v1/orgs/${encodeURIComponent(orgId)}/sessions/${encodeURIComponent(sessionId)}/events`;
}

export async function postBatch(
	fetchFn: FetchLike,
	url: string,
	apiKey: string,
	events: readonly ClientEvent[],
	timeoutMs: number,
	keepalive = false,
): Promise<BatchAck> {
	let response: Response;
	try {
		response = await fetchFn(url, {
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
			body: JSON.stringify({ events }),
			signal: AbortSignal.timeout(timeoutMs),
			...(keepalive ? { keepalive: true } : {}),
		});
	} catch (error) {
		throw new DeliveryError(`network error: ${error instanceof Error ? error.message : String(error)}`, true);
	}
	if (response.ok) {
		try {
			return (await response.json()) as BatchAck;
		} catch (error) {
			// The server stored the batch but the answer was cut: resending reports them as duplicates.
			throw new DeliveryError(`unreadable answer: ${error instanceof Error ? error.message : String(error)}`, true, response.status);
		}
	}
	const problem = await readProblem(response);
	const status = response.status;
	const retryable = status === 429 || status >= 500;
	const retryAfter = status === 429 || status === 503 ? parseRetryAfter(response.headers.get("retry-after")) : undefined;
	const detail = problem?.detail ?? problem?.title ?? response.statusText;
	throw new DeliveryError(`HTTP ${status}${detail ? `: ${detail}` : ""}`, retryable, status, retryAfter, problem);
}

async function readProblem(response: Response): Promise<Problem | undefined> {
	try {
		const body = (await response.json()) as unknown;
		return body && typeof body === "object" ? (body as Problem) : undefined;
	} catch {
		return undefined;
	}
}
