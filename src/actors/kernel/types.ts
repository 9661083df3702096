/** The kernel's vocabulary: what a command plans, what an append answers, and what the debug reads report. */

import type { ActorError } from "../../core/outcome.ts";
import type { EventEnvelope, EventMeta, ProposedEvent, RecordedEvent } from "../../events/envelope.ts";
import type { OutboxMessage } from "../outbox.ts";
import type { Timer, TimerChange } from "../timers.ts";

export type { ChainReport, ReplayReport } from "../../core/reports.ts";
export type { ProjectionStatus } from "./projections.ts";

export interface AppendOptions {
	/** The version the caller last saw; a mismatch is a conflict, never an overwrite. */
	expectedVersion?: number;
	/** A retried action with the same id returns the first result instead of acting again. */
	clientActionId?: string;
	/** Merged into every event's metadata (each event's own meta wins). */
	meta?: EventMeta;
}

export interface AppendReceipt {
	version: number;
	appended: EventEnvelope[];
	/** Ids that were already in the log (or repeated in the batch) and were not appended again. */
	duplicates: string[];
}

/** Effects that must outlive the request, written in the same transaction as the events. */
export interface Effects {
	timers?: TimerChange[];
	outbox?: OutboxMessage[];
	/** The kernel's own rows that go with the events (a parked outbox row, the org's parked index); kernel parts only. */
	write?: () => void;
}

/**
 * What a command decides: the events to append, the effects they cause, and the answer to give. `P` narrows the
 * events to the kind's catalog (`ProposalOf<typeof catalog>`), so `tsc` refuses an event the kind does not know.
 */
export interface Plan<R, S = unknown, P extends ProposedEvent = ProposedEvent> {
	events: P[];
	/** The answer; sees the receipt (seqs, duplicates) and the state after the events. */
	result: (receipt: AppendReceipt, state: S) => R;
	/** Effects of the appended events; sees the receipt (seqs, duplicates) and the state after them. */
	effects?: (receipt: AppendReceipt, state: S) => Effects;
}

/** A command's decision as the kernel runs it: a plan from the state and version, or an error value. */
export type PlanOf<R, S, P extends ProposedEvent = ProposedEvent> = (state: S, version: number) => Plan<R, S, P> | ActorError;

/** What a timer's firing means: a plan, an error (retry later), or null (nothing to record). */
export type TimerPlan<S, P extends ProposedEvent = ProposedEvent> = Plan<unknown, S, P> | ActorError | null;

export interface EventPage {
	events: EventEnvelope[];
	/** Pass as `after` for the next page; null when this page reached the end. */
	next: number | null;
	/** Set when `after` was before the checkpoint: the page starts there, and the API answers 410 (compaction.ts). */
	gone?: { checkpoint: { seq: number; hash: string }; archive: string[] };
}

/** An exported event as `GET .../events?raw=true` gives it (the envelope without `actor`; the hash, if kept, is checked). */
export type ImportedEvent = RecordedEvent & { hash?: string };

export interface KernelStatus {
	outbox: { pending: number; oldestAt: number | null; nextAttemptAt: number | null; parked: number };
	/** The next timers by due time (at most 20); a parked one has `parkedAt` and does not fire. */
	timers: Pick<Timer, "name" | "kind" | "scheduledAt" | "dueAt" | "attempts" | "lastError" | "parkedAt">[];
}
