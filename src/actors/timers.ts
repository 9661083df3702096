/**
 * Named timers (once, every interval, cron in UTC) stored in SQLite and multiplexed onto the
 * object's single alarm. Cron expressions are parsed by croner, never by hand.
 */
import { Cron } from "croner";
import { and, asc, count, eq, isNotNull, isNull, lte, min } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { timers } from "./schema.ts";

export type TimerSpec = { once: number } | { every: number } | { cron: string };

/** A change to one timer, written in the same transaction as the events that cause it. */
export type TimerChange = { name: string; spec: TimerSpec; payload?: unknown } | { name: string; cancel: true };

export interface Timer {
	name: string;
	kind: "once" | "every" | "cron";
	spec: TimerSpec;
	/** The instant this firing is for. */
	scheduledAt: number;
	dueAt: number;
	payload: unknown;
	attempts: number;
	lastError: string | null;
	/** When a failure that retrying cannot fix parked it; null while it is live. */
	parkedAt: number | null;
}

export const MIN_INTERVAL_MS = 1_000;

/** Throws with a readable message when a spec cannot be scheduled. */
export function checkSpec(spec: TimerSpec): void {
	if ("once" in spec) {
		if (!Number.isSafeInteger(spec.once) || spec.once < 0) throw new Error("once must be an instant in ms");
	} else if ("every" in spec) {
		if (!Number.isSafeInteger(spec.every) || spec.every < MIN_INTERVAL_MS) throw new Error(`every must be at least ${MIN_INTERVAL_MS} ms`);
	} else {
		new Cron(spec.cron, { timezone: "UTC", paused: true });
	}
}

/** The first firing at or after `from` (cron: strictly after). */
export function firstFiring(spec: TimerSpec, from: number): number {
	if ("once" in spec) return spec.once;
	if ("every" in spec) return from + spec.every;
	return nextCron(spec.cron, from);
}

/** The next cron instant strictly after `after`, in UTC. */
export function nextCron(expression: string, after: number): number {
	const next = new Cron(expression, { timezone: "UTC", paused: true }).nextRun(new Date(after));
	if (!next) throw new Error(`cron "${expression}" has no future run`);
	return next.getTime();
}

/**
 * The firing after one that was scheduled for `scheduledAt` and ran at `now`, or null for a
 * one-off. Firings missed while the object was down collapse into the one that just ran.
 */
export function followingFiring(spec: TimerSpec, scheduledAt: number, now: number): number | null {
	if ("once" in spec) return null;
	if ("every" in spec) {
		const behind = Math.max(0, now - scheduledAt);
		return scheduledAt + (Math.floor(behind / spec.every) + 1) * spec.every;
	}
	return nextCron(spec.cron, Math.max(now, scheduledAt));
}

const kindOf = (spec: TimerSpec): Timer["kind"] => ("once" in spec ? "once" : "every" in spec ? "every" : "cron");
const specText = (spec: TimerSpec): string => ("once" in spec ? String(spec.once) : "every" in spec ? String(spec.every) : spec.cron);
const parseSpec = (kind: string, text: string): TimerSpec =>
	kind === "once" ? { once: Number(text) } : kind === "every" ? { every: Number(text) } : { cron: text };

export class TimerStore {
	constructor(
		private readonly db: DrizzleSqliteDODatabase,
		private readonly sql: SqlStorage,
	) {}

	/**
	 * Applies changes in order; setting a timer that exists replaces it (rescheduling is idempotent).
	 * Returns the earliest due time among the timers it set, or null when it only cancelled.
	 */
	apply(changes: readonly TimerChange[], now: number): number | null {
		let earliest: number | null = null;
		for (const change of changes) {
			if ("cancel" in change) {
				this.db.delete(timers).where(eq(timers.name, change.name)).run();
				continue;
			}
			checkSpec(change.spec);
			const at = firstFiring(change.spec, now);
			if (earliest === null || at < earliest) earliest = at;
			const row = {
				name: change.name,
				kind: kindOf(change.spec),
				spec: specText(change.spec),
				scheduledAt: at,
				dueAt: at,
				payload: JSON.stringify(change.payload ?? null),
				attempts: 0,
				lastError: null,
			};
			// Every session append re-arms its inactivity timer: plain SQL, not a query built each time.
			this.sql.exec(
				`INSERT INTO timers (name, kind, spec, scheduled_at, due_at, payload, attempts, last_error) VALUES (?, ?, ?, ?, ?, ?, 0, NULL)
				 ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, spec = excluded.spec, scheduled_at = excluded.scheduled_at,
				 due_at = excluded.due_at, payload = excluded.payload, attempts = 0, last_error = NULL, parked_at = NULL`,
				row.name,
				row.kind,
				row.spec,
				row.scheduledAt,
				row.dueAt,
				row.payload,
			);
		}
		return earliest;
	}

	/** Moves a timer that just fired on to its next firing, or removes a one-off. */
	advance(timer: Timer, now: number): void {
		const next = followingFiring(timer.spec, timer.scheduledAt, now);
		if (next === null) this.db.delete(timers).where(eq(timers.name, timer.name)).run();
		else
			this.db
				.update(timers)
				.set({ scheduledAt: next, dueAt: next, attempts: 0, lastError: null, parkedAt: null })
				.where(eq(timers.name, timer.name))
				.run();
	}

	/** Keeps a timer whose handler failed, and tries it again after a backoff. */
	failed(timer: Timer, error: string, retryAt: number): void {
		this.#failure(timer, error, { dueAt: retryAt });
	}

	/**
	 * Keeps a timer whose handler failed in a way a retry cannot fix (its plan is invalid): it stops firing,
	 * keeping its last error and attempts for the kernel status, until something sets it again (which unparks it).
	 */
	park(timer: Timer, error: string, now: number): void {
		this.#failure(timer, error, { parkedAt: now });
	}

	#failure(timer: Timer, error: string, then: { dueAt: number } | { parkedAt: number }): void {
		this.db
			.update(timers)
			.set({ attempts: timer.attempts + 1, lastError: error.slice(0, 2000), ...then })
			.where(eq(timers.name, timer.name))
			.run();
	}

	/** Live timers whose due time is at or before `before` (overdue ones, for health). */
	overdue(before: number): number {
		return (
			this.db
				.select({ n: count() })
				.from(timers)
				.where(and(lte(timers.dueAt, before), isNull(timers.parkedAt)))
				.get()?.n ?? 0
		);
	}

	/** Fires a parked timer again now, with its attempts counted from zero. */
	unpark(name: string, now: number): void {
		this.db.update(timers).set({ parkedAt: null, attempts: 0, dueAt: now }).where(eq(timers.name, name)).run();
	}

	/** How many timers are parked. */
	parkedCount(): number {
		return this.db.select({ n: count() }).from(timers).where(isNotNull(timers.parkedAt)).get()?.n ?? 0;
	}

	/** Live timers due at or before `now`, earliest first (ties by name, so order is deterministic). */
	due(now: number, limit: number): Timer[] {
		return this.db
			.select()
			.from(timers)
			.where(and(lte(timers.dueAt, now), isNull(timers.parkedAt)))
			.orderBy(asc(timers.dueAt), asc(timers.name))
			.limit(limit)
			.all()
			.map(toTimer);
	}

	/**
	 * A live timer's due time (one that has not failed and is not parked), or null. Plain SQL: the session asks it on
	 * every batch (src/actors/session.ts).
	 */
	liveAt(name: string): number | null {
		const row = this.sql
			.exec<{ at: number }>("SELECT due_at AS at FROM timers WHERE name = ? AND attempts = 0 AND parked_at IS NULL", name)
			.toArray()[0];
		return row ? row.at : null;
	}

	get(name: string): Timer | undefined {
		const row = this.db.select().from(timers).where(eq(timers.name, name)).get();
		return row ? toTimer(row) : undefined;
	}

	list(limit = 100): Timer[] {
		return this.db.select().from(timers).orderBy(asc(timers.dueAt), asc(timers.name)).limit(limit).all().map(toTimer);
	}

	earliestDue(): number | null {
		return (
			this.db
				.select({ at: min(timers.dueAt) })
				.from(timers)
				.where(isNull(timers.parkedAt))
				.get()?.at ?? null
		);
	}

	count(): number {
		return this.db.select({ n: count() }).from(timers).get()?.n ?? 0;
	}
}

function toTimer(row: typeof timers.$inferSelect): Timer {
	return {
		name: row.name,
		kind: row.kind as Timer["kind"],
		spec: parseSpec(row.kind, row.spec),
		scheduledAt: row.scheduledAt,
		dueAt: row.dueAt,
		payload: JSON.parse(row.payload),
		attempts: row.attempts,
		lastError: row.lastError,
		parkedAt: row.parkedAt,
	};
}
