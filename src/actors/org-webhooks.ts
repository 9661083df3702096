/**
 * Webhook deliveries, the org's I/O side: each delivery is an outbox message (recorded with the event that causes
 * it), sent here as a signed Standard Webhooks POST, and logged attempt by attempt in `webhook_deliveries`, which
 * keeps what the outbox forgets once a message settles (delivered, failed or parked) so it can be shown and retried.
 * Raw SQL with CREATE IF NOT EXISTS: the table belongs to the org alone, not to every kind's drizzle migrations.
 */
import { z } from "zod";
import { webhookUrlProblem } from "../core/webhook-address.ts";
import { deriveWebhookSecret, webhookHeaders } from "../core/webhook-signature.ts";
import type { Env } from "../env.ts";
import type { WebhookDelivery, WebhookEndpoint } from "../reducers/org-webhooks.ts";
import { positiveInt } from "./actor.ts";
import { backoffDelay } from "./backoff.ts";
import type { ExternalVerdict } from "./kernel/courier.ts";
import type { OutboxMessage, PendingMessage } from "./outbox.ts";

/** Attempts before a delivery is parked and its endpoint disabled (WEBHOOK_MAX_ATTEMPTS); with the 1 s..15 min backoff, about 45 minutes. */
export const DEFAULT_MAX_ATTEMPTS = 12;
/** A receiver that has not answered in this long (WEBHOOK_TIMEOUT_MS) failed this attempt; it is retried. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** A `Retry-After` longer than this is cut to it. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;
/** Bytes of a response body read (the rest is never read); characters of it kept in the log. */
const RESPONSE_READ_BYTES = 4096;
const RESPONSE_KEPT_CHARS = 256;

export const DELIVERY_STATUSES = ["pending", "retrying", "delivered", "failed", "parked"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryView {
	id: string;
	type: string;
	status: DeliveryStatus;
	createdAt: number;
	attempts: number;
	lastAttemptAt: number | null;
	/** The receiver's HTTP status on the last attempt (null: no answer). */
	responseStatus: number | null;
	/** How long the last attempt took. */
	ms: number | null;
	error: string | null;
	/** The start of the last response's body, at most 256 characters. */
	response: string | null;
	nextAttemptAt: number | null;
}

const messageData = z.object({ endpoint: z.string(), body: z.string() });

export const WEBHOOK_MESSAGE = "webhook";

/** The outbox message that carries one delivery; its id is the `webhook-id`. */
export function deliveryMessage(delivery: WebhookDelivery): OutboxMessage {
	return {
		id: delivery.id,
		target: { webhook: delivery.endpoint },
		type: delivery.type,
		data: { endpoint: delivery.endpoint, body: delivery.body },
	};
}

interface DeliveryRow extends Record<string, SqlStorageValue> {
	id: string;
	endpoint: string;
	type: string;
	body: string;
	created_at: number;
	status: string;
	attempts: number;
	last_attempt_at: number | null;
	last_status: number | null;
	last_ms: number | null;
	last_error: string | null;
	last_response: string | null;
	next_attempt_at: number | null;
}

/** What one attempt came to, for the actor: the outbox's verdict, and a reason to disable the endpoint when it was parked. */
export interface AttemptResult {
	verdict: ExternalVerdict;
	disable?: { reason: string };
}

export class WebhookDeliveries {
	constructor(
		private readonly sql: SqlStorage,
		private readonly env: Env,
		private readonly host: { org(): string },
	) {
		sql.exec(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
			id TEXT PRIMARY KEY, endpoint TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
			status TEXT NOT NULL, attempts INTEGER NOT NULL, last_attempt_at INTEGER, last_status INTEGER, last_ms INTEGER,
			last_error TEXT, last_response TEXT, next_attempt_at INTEGER)`);
		sql.exec("CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (endpoint, created_at)");
	}

	get allowLocal(): boolean {
		return this.env.WEBHOOKS_ALLOW_LOCAL === "1" && this.env.ROOST_ENV === "development";
	}

	get maxAttempts(): number {
		return positiveInt(this.env.WEBHOOK_MAX_ATTEMPTS) ?? DEFAULT_MAX_ATTEMPTS;
	}

	/** The endpoint's signing secrets: the current one, and the previous one while its overlap lasts. */
	secrets(webhookId: string, endpoint: WebhookEndpoint, now: number): string[] | null {
		const key = this.env.WEBHOOK_SECRET_KEY;
		if (!key) return null;
		const previous = endpoint.previous && endpoint.previous.until > now ? [endpoint.previous.salt] : [];
		return [endpoint.salt, ...previous].map((salt) => deriveWebhookSecret(key, this.host.org(), webhookId, salt));
	}

	/** Sends one delivery and logs the attempt. `endpoint`: as the org's state has it now (undefined: deleted). */
	async attempt(message: PendingMessage, endpoint: WebhookEndpoint | undefined, now: () => number): Promise<AttemptResult> {
		const parsed = messageData.safeParse(message.data);
		if (!parsed.success) return { verdict: { settled: true } };
		const { endpoint: webhookId, body } = parsed.data;
		const started = now();
		const attempts = message.attempts + 1;
		const log = (status: DeliveryStatus, fields: Partial<DeliveryView> = {}) =>
			this.#record({
				id: message.id,
				endpoint: webhookId,
				type: message.type,
				body,
				createdAt: message.createdAt,
				status,
				attempts,
				at: started,
				...fields,
			});
		if (!endpoint) {
			log("failed", { error: "the endpoint was deleted" });
			return { verdict: { settled: true } };
		}
		if (!endpoint.enabled) {
			log("parked", { error: "the endpoint is disabled" });
			return { verdict: { settled: true } };
		}
		const unsafe = webhookUrlProblem(endpoint.url, { allowLocal: this.allowLocal });
		if (unsafe) {
			log("failed", { error: `url ${unsafe}` });
			return { verdict: { settled: true } };
		}
		const secrets = this.secrets(webhookId, endpoint, started);
		if (!secrets) {
			const retryAt = started + backoffDelay(attempts);
			log("retrying", { error: "WEBHOOK_SECRET_KEY is not set: nothing can be signed", nextAttemptAt: retryAt });
			return { verdict: { retryAt, error: "WEBHOOK_SECRET_KEY is not set" } };
		}
		const answer = await this.#post(endpoint.url, message.id, body, secrets, started, now);
		const ms = now() - started;
		const fields = { responseStatus: answer.status, ms, response: answer.text, error: answer.error };
		if (answer.status !== null && answer.status >= 200 && answer.status < 300) {
			log("delivered", fields);
			return { verdict: { settled: true } };
		}
		const retryable = answer.status === null || answer.status === 429 || answer.status >= 500;
		const error = answer.error ?? `HTTP ${answer.status}`;
		if (!retryable) {
			log("failed", { ...fields, error });
			return { verdict: { settled: true } };
		}
		if (attempts >= this.maxAttempts) {
			log("parked", { ...fields, error });
			return {
				verdict: { settled: true },
				disable: { reason: `delivery ${message.id} failed ${attempts} times; last: ${error}`.slice(0, 500) },
			};
		}
		const retryAt = now() + Math.max(answer.retryAfterMs ?? 0, backoffDelay(attempts));
		log("retrying", { ...fields, error, nextAttemptAt: retryAt });
		return { verdict: { retryAt, error } };
	}

	async #post(url: string, id: string, body: string, secrets: string[], at: number, now: () => number) {
		const timeoutMs = positiveInt(this.env.WEBHOOK_TIMEOUT_MS) ?? DEFAULT_TIMEOUT_MS;
		try {
			const response = await fetch(url, {
				method: "POST",
				// Redirects are not followed: a public URL must not bounce a delivery to a private one.
				redirect: "manual",
				headers: {
					"content-type": "application/json",
					"user-agent": "Roost-Webhooks/1",
					...webhookHeaders(secrets, id, Math.floor(at / 1000), body),
				},
				body,
				signal: AbortSignal.timeout(timeoutMs),
			});
			const text = await readStart(response);
			return { status: response.status, text, error: null, retryAfterMs: retryAfter(response.headers.get("retry-after"), now()) };
		} catch (error) {
			const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
			const detail = timedOut ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
			return { status: null, text: null, error: detail.slice(0, 500), retryAfterMs: null };
		}
	}

	#record(row: {
		id: string;
		endpoint: string;
		type: string;
		body: string;
		createdAt: number;
		status: DeliveryStatus;
		attempts: number;
		at: number;
		responseStatus?: number | null;
		ms?: number | null;
		error?: string | null;
		response?: string | null;
		nextAttemptAt?: number | null;
	}): void {
		this.sql.exec(
			`INSERT INTO webhook_deliveries (id, endpoint, type, body, created_at, status, attempts, last_attempt_at, last_status, last_ms, last_error, last_response, next_attempt_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, last_attempt_at = excluded.last_attempt_at,
			   last_status = excluded.last_status, last_ms = excluded.last_ms, last_error = excluded.last_error,
			   last_response = excluded.last_response, next_attempt_at = excluded.next_attempt_at`,
			row.id,
			row.endpoint,
			row.type,
			row.body,
			row.createdAt,
			row.status,
			row.attempts,
			row.at,
			row.responseStatus ?? null,
			row.ms ?? null,
			row.error ?? null,
			row.response ?? null,
			row.nextAttemptAt ?? null,
		);
	}

	/** An endpoint's deliveries, newest first: logged ones, and those still waiting for their first attempt in the outbox. */
	list(webhookId: string, query: { limit: number; status?: DeliveryStatus }): DeliveryView[] {
		// The status is filtered in SQL: filtering a page of the newest rows afterwards missed older matches (a failed
		// delivery behind hundreds of delivered ones).
		const logged = this.sql
			.exec<DeliveryRow>(
				"SELECT * FROM webhook_deliveries WHERE endpoint = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY created_at DESC, id DESC LIMIT ?3",
				webhookId,
				query.status ?? null,
				query.limit,
			)
			.toArray()
			.map(viewOf);
		const waiting =
			query.status === undefined || query.status === "pending"
				? this.sql
						.exec<{ id: string; type: string; created_at: number; next_attempt_at: number }>(
							`SELECT id, type, created_at, next_attempt_at FROM outbox WHERE target = ? AND attempts = 0
							 AND id NOT IN (SELECT id FROM webhook_deliveries) ORDER BY created_at DESC LIMIT ?`,
							JSON.stringify({ webhook: webhookId }),
							query.limit,
						)
						.toArray()
						.map(
							(row): DeliveryView => ({
								id: row.id,
								type: row.type,
								status: "pending",
								createdAt: row.created_at,
								attempts: 0,
								lastAttemptAt: null,
								responseStatus: null,
								ms: null,
								error: null,
								response: null,
								nextAttemptAt: row.next_attempt_at,
							}),
						)
				: [];
		return [...waiting, ...logged].sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id)).slice(0, query.limit);
	}

	/** A logged delivery of `webhookId`, with the body it sends, or null. */
	get(webhookId: string, id: string): (DeliveryView & { body: string }) | null {
		const row = this.sql.exec<DeliveryRow>("SELECT * FROM webhook_deliveries WHERE endpoint = ? AND id = ?", webhookId, id).toArray()[0];
		return row ? { ...viewOf(row), body: row.body } : null;
	}

	/** Whether the outbox still holds delivery `id` of `webhookId`, before or between attempts. */
	waiting(webhookId: string, id: string): boolean {
		return (
			this.sql.exec("SELECT 1 FROM outbox WHERE id = ? AND target = ?", id, JSON.stringify({ webhook: webhookId })).toArray().length > 0
		);
	}

	/** A delivery sent again by hand is pending once more; call in the transaction that re-records its outbox message. */
	requeued(id: string, at: number): void {
		this.sql.exec("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?", at, id);
	}

	/** Deliveries that settled long ago are dropped, so the log stays bounded (the events that caused them stay in the log). */
	prune(before: number): void {
		this.sql.exec("DELETE FROM webhook_deliveries WHERE status = 'delivered' AND created_at < ?", before);
	}
}

function viewOf(row: DeliveryRow): DeliveryView {
	return {
		id: row.id,
		type: row.type,
		status: row.status as DeliveryStatus,
		createdAt: row.created_at,
		attempts: row.attempts,
		lastAttemptAt: row.last_attempt_at,
		responseStatus: row.last_status,
		ms: row.last_ms,
		error: row.last_error,
		response: row.last_response,
		nextAttemptAt: row.next_attempt_at,
	};
}

/** At most RESPONSE_READ_BYTES of the body are read; the rest is cancelled, never buffered. */
async function readStart(response: Response): Promise<string | null> {
	if (!response.body) return null;
	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		while (size < RESPONSE_READ_BYTES) {
			const { done, value } = await reader.read();
			if (done) break;
			chunks.push(value);
			size += value.byteLength;
		}
	} finally {
		await reader.cancel().catch(() => {});
	}
	const bytes = new Uint8Array(Math.min(size, RESPONSE_READ_BYTES));
	let offset = 0;
	for (const chunk of chunks) {
		const part = chunk.subarray(0, bytes.length - offset);
		bytes.set(part, offset);
		offset += part.length;
		if (offset >= bytes.length) break;
	}
	return new TextDecoder().decode(bytes).slice(0, RESPONSE_KEPT_CHARS) || null;
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; capped at MAX_RETRY_AFTER_MS. */
export function retryAfter(header: string | null, now: number): number | null {
	if (!header) return null;
	const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - now;
	return Number.isFinite(seconds) ? Math.min(Math.max(0, seconds), MAX_RETRY_AFTER_MS) : null;
}
