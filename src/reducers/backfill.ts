/**
 * What a backfill (POST /v1/orgs/{org}/backfill, docs/api.md) decides for a camera and a chat: past data, checked
 * against the clock in the context, becomes events whose ids derive from the data, so a repeated backfill finds them
 * stored and counts nothing twice. Pure. A web session's backfill is its ordinary batch (src/reducers/session.ts).
 */
import type { BackfilledBatch } from "../events/camera.ts";
import { MAX_BACKFILL_BATCH_MS } from "../events/camera.ts";
import type { FieldError, ProposalOf } from "../events/catalog.ts";
import type { BackfilledMessage, chatCatalog } from "../events/chat.ts";
import { derivedId } from "../events/envelope.ts";
import { MAX_BACKFILL_AGE_MS } from "../events/session.ts";
import type { Refusal } from "./definition.ts";

type BatchBackfilled = { id: string; type: "camera.batch_backfilled"; ts: number; data: BackfilledBatch };

/** An instant a backfill may carry: not after `now`, not more than MAX_BACKFILL_AGE_MS before it. */
function pastError(path: string, at: number, now: number): FieldError[] {
	if (at > now) return [{ path, message: "is in the future; a backfill takes past data only" }];
	if (at < now - MAX_BACKFILL_AGE_MS) return [{ path, message: "is more than 400 days ago" }];
	return [];
}

const invalid = (errors: FieldError[]): Refusal => ({ kind: "invalid", detail: "Backfilled data must be in the past 400 days.", errors });

/** Each batch once (by its start and end), at its end; refused as a whole, naming each bad field, when any is out of bounds. */
export function decideBatchBackfill(batches: readonly BackfilledBatch[], now: number): BatchBackfilled[] | Refusal {
	const errors = batches.flatMap((batch, i) => {
		const out = [...pastError(`batches[${i}].start`, batch.start, now), ...pastError(`batches[${i}].end`, batch.end, now)];
		if (batch.end < batch.start) out.push({ path: `batches[${i}].end`, message: "is before start" });
		else if (batch.end - batch.start > MAX_BACKFILL_BATCH_MS)
			out.push({ path: `batches[${i}].end`, message: "is more than a day after start" });
		return out;
	});
	if (errors.length > 0) return invalid(errors);
	const seen = new Set<string>();
	return batches.flatMap((batch) => {
		const id = derivedId(`backfill:${batch.start}-${batch.end}`);
		if (seen.has(id)) return [];
		seen.add(id);
		return [{ id, type: "camera.batch_backfilled" as const, ts: batch.end, data: batch }];
	});
}

type MessageBackfilled = Extract<ProposalOf<typeof chatCatalog>, { type: "chat.message_backfilled" }>;

/** A short, stable digest of a message's text (FNV-1a, 32 bits), so its event id repeats with the message. */
function digest(text: string): string {
	let hash = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
	return hash.toString(16).padStart(8, "0");
}

/**
 * Each message once, at its time, in time order; each user message opens an exchange (`exchange`: the id of its
 * first message) that the messages after it, up to the next user message, belong to. Messages before the first
 * user message belong to the first exchange.
 */
export function decideMessageBackfill(messages: readonly BackfilledMessage[], now: number): MessageBackfilled[] | Refusal {
	const errors = messages.flatMap((message, i) => {
		const out = pastError(`messages[${i}].at`, message.at, now);
		const previous = messages[i - 1];
		if (previous && message.at < previous.at) out.push({ path: `messages[${i}].at`, message: "is before the message above it" });
		return out;
	});
	if (errors.length > 0) return invalid(errors);
	const ids = messages.map((m) => derivedId(`backfill:${m.at}:${m.role}:${digest(m.text)}`));
	const firstUser = messages.findIndex((m) => m.role === "user");
	let exchange = ids[Math.max(firstUser, 0)] ?? "";
	const seen = new Set<string>();
	return messages.flatMap((message, i) => {
		const id = ids[i] as string;
		if (message.role === "user" && i >= firstUser) exchange = id;
		if (seen.has(id)) return [];
		seen.add(id);
		return [{ id, type: "chat.message_backfilled" as const, ts: message.at, data: { role: message.role, text: message.text, exchange } }];
	});
}
