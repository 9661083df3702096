/**
 * The outbox: messages to other actors and queue sends, stored in the same transaction as the
 * events that cause them and delivered after commit until acknowledged. Each message has a stable
 * id, so a receiver that sees it twice (a retry after a lost ack) acts once.
 */
import { asc, count, eq, lte, min } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { ActorRef, EventMeta } from "../events/envelope.ts";
import { outbox } from "./schema.ts";

/** Queue bindings an actor may send to (see wrangler.jsonc). */
export type QueueBinding = "INTERACTIONS_QUEUE" | "CCTV_QUEUE";

/** `webhook`: one of the org's webhook endpoints, by id; the actor's own `deliverExternal` sends it (src/actors/org-webhooks.ts). */
export type OutboxTarget = { actor: ActorRef } | { queue: QueueBinding } | { webhook: string };

export interface OutboxMessage {
	/** Stable id; receivers dedupe by it. Derive it from the causing event's id. */
	id: string;
	target: OutboxTarget;
	type: string;
	data: unknown;
	meta?: EventMeta;
}

/** What a receiving actor (or queue consumer) gets. */
export interface ActorMessage {
	id: string;
	from: ActorRef;
	type: string;
	data: unknown;
	meta: EventMeta;
}

export interface PendingMessage extends OutboxMessage {
	createdAt: number;
	attempts: number;
	nextAttemptAt: number;
	lastError: string | null;
}

export class OutboxStore {
	constructor(
		private readonly db: DrizzleSqliteDODatabase,
		private readonly sql: SqlStorage,
	) {}

	/** Records messages; one already recorded under the same id is left as it is. Call inside the events' transaction. */
	add(messages: readonly OutboxMessage[], now: number): void {
		for (const m of messages) {
			this.db
				.insert(outbox)
				.values({
					id: m.id,
					target: JSON.stringify(m.target),
					type: m.type,
					data: JSON.stringify(m.data),
					meta: JSON.stringify(m.meta ?? {}),
					createdAt: now,
					attempts: 0,
					nextAttemptAt: now,
				})
				.onConflictDoNothing()
				.run();
		}
	}

	/** Messages ready to send at `now`, oldest first. */
	ready(now: number, limit: number): PendingMessage[] {
		return this.db
			.select()
			.from(outbox)
			.where(lte(outbox.nextAttemptAt, now))
			.orderBy(asc(outbox.createdAt), asc(outbox.id))
			.limit(limit)
			.all()
			.map((row) => ({
				id: row.id,
				target: JSON.parse(row.target) as OutboxTarget,
				type: row.type,
				data: JSON.parse(row.data),
				meta: JSON.parse(row.meta) as EventMeta,
				createdAt: row.createdAt,
				attempts: row.attempts,
				nextAttemptAt: row.nextAttemptAt,
				lastError: row.lastError,
			}));
	}

	acknowledged(id: string): void {
		this.db.delete(outbox).where(eq(outbox.id, id)).run();
	}

	failed(message: PendingMessage, error: string, retryAt: number): void {
		this.db
			.update(outbox)
			.set({ attempts: message.attempts + 1, lastError: error.slice(0, 2000), nextAttemptAt: retryAt })
			.where(eq(outbox.id, message.id))
			.run();
	}

	/** The earliest retry time of any pending message, or null: read on every re-arm, so plain SQL. */
	nextAttemptAt(): number | null {
		return this.sql.exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM outbox").one().at;
	}

	depth(): { pending: number; oldestAt: number | null; nextAttemptAt: number | null } {
		const row = this.db
			.select({ pending: count(), oldestAt: min(outbox.createdAt), nextAttemptAt: min(outbox.nextAttemptAt) })
			.from(outbox)
			.get();
		return { pending: row?.pending ?? 0, oldestAt: row?.oldestAt ?? null, nextAttemptAt: row?.nextAttemptAt ?? null };
	}
}
