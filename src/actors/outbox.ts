/**
 * The outbox: messages to other actors and queue sends, stored in the same transaction as the
 * events that cause them and delivered after commit until acknowledged. Each message has a stable
 * id, so a receiver that sees it twice (a retry after a lost ack) acts once.
 */
import { and, asc, count, eq, isNotNull, isNull, lte, min } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { ActorRef, EventMeta } from "../events/envelope.ts";
import { outbox } from "./schema.ts";

/** Queue bindings an actor may send to (see wrangler.jsonc). */
export type QueueBinding = "INTERACTIONS_QUEUE" | "CCTV_QUEUE" | "ORG_INTAKE_QUEUE";

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
	/** When it was parked (null: live). */
	parkedAt: number | null;
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

	/** Live messages ready to send at `now`, oldest first (parked ones wait for a retry). */
	ready(now: number, limit: number): PendingMessage[] {
		return this.db
			.select()
			.from(outbox)
			.where(and(lte(outbox.nextAttemptAt, now), isNull(outbox.parkedAt)))
			.orderBy(asc(outbox.createdAt), asc(outbox.id))
			.limit(limit)
			.all()
			.map(toPending);
	}

	get(id: string): PendingMessage | undefined {
		const row = this.db.select().from(outbox).where(eq(outbox.id, id)).get();
		return row ? toPending(row) : undefined;
	}

	/** Stops sending a message that failed too often, keeping it with its last error until it is retried or discarded. */
	park(message: PendingMessage, error: string, now: number): void {
		this.db
			.update(outbox)
			.set({ attempts: message.attempts + 1, lastError: error.slice(0, 2000), parkedAt: now })
			.where(eq(outbox.id, message.id))
			.run();
	}

	/** Sends a parked message again now, with its attempts counted from zero. */
	unpark(id: string, now: number): void {
		this.db.update(outbox).set({ parkedAt: null, attempts: 0, nextAttemptAt: now }).where(eq(outbox.id, id)).run();
	}

	/** How many messages are parked. */
	parkedCount(): number {
		return this.db.select({ n: count() }).from(outbox).where(isNotNull(outbox.parkedAt)).get()?.n ?? 0;
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
		return this.sql.exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM outbox WHERE parked_at IS NULL").one().at;
	}

	/** Live (unparked) messages still owed. */
	depth(): { pending: number; oldestAt: number | null; nextAttemptAt: number | null } {
		const row = this.db
			.select({ pending: count(), oldestAt: min(outbox.createdAt), nextAttemptAt: min(outbox.nextAttemptAt) })
			.from(outbox)
			.where(isNull(outbox.parkedAt))
			.get();
		return { pending: row?.pending ?? 0, oldestAt: row?.oldestAt ?? null, nextAttemptAt: row?.nextAttemptAt ?? null };
	}
}

function toPending(row: typeof outbox.$inferSelect): PendingMessage {
	return {
		id: row.id,
		target: JSON.parse(row.target) as OutboxTarget,
		type: row.type,
		data: JSON.parse(row.data),
		meta: JSON.parse(row.meta) as EventMeta,
		createdAt: row.createdAt,
		attempts: row.attempts,
		nextAttemptAt: row.nextAttemptAt,
		lastError: row.lastError,
		parkedAt: row.parkedAt,
	};
}
