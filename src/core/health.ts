/**
 * Health figures of actors and the thresholds that turn them amber or red (docs/operations.md). Pure: the API
 * computes the status with it and the dashboard shows it, so both say the same.
 */

/** One actor's own figures (`GET .../{kind}/{id}/health`). */
export interface ActorHealth {
	version: number;
	outbox: { pending: number; oldestAgeMs: number | null; parked: number };
	timers: { live: number; overdue: number; parked: number };
	sockets: number;
	/** Events appended since the newest snapshot (the tail a wake folds); null: no snapshot yet. */
	snapshotLagEvents: number | null;
	storageBytes: number;
}

export type HealthStatus = "ok" | "amber" | "red";

/** A timer is overdue when its due time is this far behind the clock (an alarm is normally on time to the second). */
export const OVERDUE_AFTER_MS = 60_000;

/** Past these figures a kind turns amber, or red. */
export const HEALTH_THRESHOLDS = {
	/** Age of the oldest undelivered outbox message. */
	outboxAgeMs: { amber: 5 * 60_000, red: 60 * 60_000 },
	/** Overdue timers. */
	overdueTimers: { amber: 1, red: 10 },
	/** Parked items: any is work nobody will do until someone acts. */
	parked: { amber: 1, red: 1 },
} as const;

/** The figures of one kind across the actors probed. */
export interface KindHealth {
	/** Actors of this kind the org follows (active sessions, cameras); the org counts as one. */
	followed: number;
	/** How many of them were asked for their figures (at most MAX_PROBED_PER_KIND). */
	probed: number;
	outboxPending: number;
	oldestUndeliveredAgeMs: number | null;
	overdueTimers: number;
	parked: number;
	sockets: number;
	/** The largest snapshot lag among the probed actors. */
	snapshotLagEvents: number | null;
	storageBytes: number;
	status: HealthStatus;
}

const maxOrNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** Adds actors' figures up into one kind's; `parked` is the org's count for the kind (it hears of all of them). */
export function kindHealth(followed: number, actors: readonly ActorHealth[], parked: number): KindHealth {
	const sum = (pick: (h: ActorHealth) => number) => actors.reduce((total, h) => total + pick(h), 0);
	const figures = {
		followed,
		probed: actors.length,
		outboxPending: sum((h) => h.outbox.pending),
		oldestUndeliveredAgeMs: actors.reduce<number | null>((m, h) => maxOrNull(m, h.outbox.oldestAgeMs), null),
		overdueTimers: sum((h) => h.timers.overdue),
		parked: Math.max(
			parked,
			sum((h) => h.outbox.parked + h.timers.parked),
		),
		sockets: sum((h) => h.sockets),
		snapshotLagEvents: actors.reduce<number | null>((m, h) => maxOrNull(m, h.snapshotLagEvents), null),
		storageBytes: sum((h) => h.storageBytes),
	};
	return { ...figures, status: statusOf(figures) };
}

/** The worst of the thresholds a kind's figures pass. */
export function statusOf(figures: { oldestUndeliveredAgeMs: number | null; overdueTimers: number; parked: number }): HealthStatus {
	const t = HEALTH_THRESHOLDS;
	const age = figures.oldestUndeliveredAgeMs ?? 0;
	if (age >= t.outboxAgeMs.red || figures.overdueTimers >= t.overdueTimers.red || figures.parked >= t.parked.red) return "red";
	if (age >= t.outboxAgeMs.amber || figures.overdueTimers >= t.overdueTimers.amber || figures.parked >= t.parked.amber) return "amber";
	return "ok";
}
