/**
 * The append path: a command's plan is checked (client action id, expected version), staged, and committed with
 * its effects and any due snapshot in one transaction; then the head moves on and subscribers hear of it.
 *
 * Everything between reading the head and committing is synchronous (DO SQLite is), so two requests never
 * interleave inside an append.
 */
import { metricsFor } from "../../core/metrics.ts";
import { fail, type Outcome, ok } from "../../core/outcome.ts";
import type { EventEnvelope, ProposedEvent } from "../../events/envelope.ts";
import { faultPoint } from "../faults.ts";
import type { Timer } from "../timers.ts";
import type { AlarmSchedule } from "./alarm.ts";
import { type KernelHost, reducerTag } from "./host.ts";
import type { Projections } from "./projections.ts";
import { invalidTimers, type Staged, stage } from "./stage.ts";
import type { AppendOptions, AppendReceipt, Effects, Plan, PlanOf } from "./types.ts";

const NO_IDS: ReadonlySet<string> = new Set();

/** The plan's effects and the actor's commit effects together: timers, messages and both sides' own writes, none dropped. */
export function withCommitEffects(planned: Effects, always: Effects): Effects {
	if (!always.outbox?.length && !always.timers?.length && !always.write) return planned;
	const writes = [planned.write, always.write].filter((write) => write !== undefined);
	return {
		timers: [...(planned.timers ?? []), ...(always.timers ?? [])],
		outbox: [...(planned.outbox ?? []), ...(always.outbox ?? [])],
		...(writes.length > 0
			? {
					write: () => {
						for (const write of writes) write();
					},
				}
			: {}),
	};
}

/** SQLite's refusal of a second row with a stored event id (the events table's unique id index). */
function isDuplicateIdError(error: unknown): boolean {
	return error instanceof Error && error.message.includes("UNIQUE constraint failed: events.id");
}

export class AppendPath<S> {
	/** Fault-injection seam between the statements of an append's rows (src/actors/faults.ts; no-op unless a test arms it). */
	readonly #afterRows: () => void;

	constructor(
		private readonly host: KernelHost<S>,
		private readonly schedule: AlarmSchedule,
		/** The kind's inline projections, written in the same transaction as the events. */
		private readonly projections: Projections<S>,
		private readonly publish: (envelopes: readonly EventEnvelope[]) => void,
		/** Effects the actor adds to every commit, whatever the plan (the org's webhook deliveries). */
		private readonly commitEffects: (receipt: AppendReceipt, state: S) => Effects = () => ({}),
	) {
		this.#afterRows = () => faultPoint("append.after-rows", host.ctx);
	}

	/** Runs a plan; `firing`: the timer it handles, moved on in the same transaction. Sandboxes are checked by the caller. */
	run<R>(options: AppendOptions, plan: PlanOf<R, S>, firing?: Timer): Outcome<R> {
		const { host } = this;
		const { head } = host;
		if (options.clientActionId) {
			const prior = host.clientActions.resultOf(options.clientActionId);
			if (prior !== undefined) return ok(JSON.parse(prior) as R);
		}
		if (options.expectedVersion !== undefined && options.expectedVersion !== head.version) {
			return fail({
				kind: "conflict",
				detail: `expected version ${options.expectedVersion} but the actor is at ${head.version}`,
				currentVersion: head.version,
			});
		}
		const decided = plan(head.state, head.version);
		if ("kind" in decided) return fail(decided);
		// Optimistic duplicate check: the first attempt assumes no proposed id is stored yet, and the events
		// table's unique id index settles it inside the commit. A batch that does repeat a stored id (an SDK
		// retry) rolls back and is staged again knowing which ids exist. That saves a lookup on every append.
		try {
			// Once compacted, the deleted rows' ids live in compacted_ids, which the unique index does not see: look them up.
			return this.#commit(decided, options, this.host.log.compacted ? this.host.log.existingIds(idsOf(decided.events)) : NO_IDS, firing);
		} catch (error) {
			if (!isDuplicateIdError(error)) throw error;
			return this.#commit(decided, options, this.host.log.existingIds(idsOf(decided.events)), firing);
		}
	}

	/** Stages the plan's events (`existing`: ids known to be stored) and commits them with their effects. */
	#commit<R>(decided: Plan<R, S>, options: AppendOptions, existing: ReadonlySet<string>, firing?: Timer): Outcome<R> {
		const { host } = this;
		const staged = stage(host.definition, host.actor, host.head, decided.events, options.meta, existing);
		if (!staged.ok) return staged;
		const { rows, envelopes, state, duplicates } = staged.value;
		const version = host.head.version + rows.length;
		const receipt: AppendReceipt = { version, appended: envelopes, duplicates };
		const result = decided.result(receipt, state);
		// A sandbox's events cause nothing outside it: no timers, no messages to the org or to queues.
		const effects = host.meta.isSandbox
			? {}
			: withCommitEffects(decided.effects?.(receipt, state) ?? {}, this.commitEffects(receipt, state));
		const badTimer = invalidTimers(effects.timers);
		if (badTimer) return badTimer;
		// faultPoint: test-only seams (src/actors/faults.ts), no-ops unless a reliability test arms them.
		faultPoint("append.before-commit", host.ctx);
		const started = Date.now();
		const earliestSet = this.#write(staged.value, version, options.clientActionId, result, effects, firing);
		if (rows.length > 0) metricsFor(host.env.METRICS).append(host.actor.org, host.actor.kind, rows.length, Date.now() - started);
		if (rows.length > 0) host.meta.identityCommitted();
		host.head.state = state;
		host.head.version = version;
		host.head.hash = rows.at(-1)?.hash ?? host.head.hash;
		this.publish(envelopes);
		if (firing || effects.outbox?.length || effects.write || (effects.timers?.length && !this.schedule.covers(earliestSet)))
			host.ctx.waitUntil(host.rearm());
		return ok(result);
	}

	/** The one transaction of an append; returns the earliest due time among the timers it set (null: none). */
	#write(
		staged: Staged<S>,
		version: number,
		clientActionId: string | undefined,
		result: unknown,
		effects: Effects,
		firing?: Timer,
	): number | null {
		const { host } = this;
		const { rows, state, envelopes } = staged;
		const snapshotDue = rows.length > 0 && Math.floor(version / host.snapshotEvery) > Math.floor(host.head.version / host.snapshotEvery);
		const now = host.now();
		let earliestSet: number | null = null;
		host.ctx.storage.transactionSync(() => {
			host.log.insert(rows, this.#afterRows);
			this.projections.apply(envelopes);
			faultPoint("append.after-projections", host.ctx);
			if (clientActionId) host.clientActions.record(clientActionId, result, version);
			if (rows.length > 0) host.meta.storeIdentity(host.actor);
			// A firing whose plan sets its own timer again (a session's visit whose end moved on) is rescheduled by that
			// upsert alone: moving it on first would delete and re-insert its row, two rows written more.
			if (firing && !effects.timers?.some((change) => change.name === firing.name)) host.timers.advance(firing, now);
			if (effects.timers?.length) earliestSet = host.timers.apply(effects.timers, now);
			if (effects.outbox?.length) host.outbox.add(effects.outbox, now);
			effects.write?.();
			if (snapshotDue) {
				faultPoint("append.before-snapshot", host.ctx);
				host.snapshots.write(version, reducerTag(host.definition), state);
				faultPoint("append.after-snapshot", host.ctx);
			}
		});
		return earliestSet;
	}
}

const idsOf = (events: readonly ProposedEvent[]): string[] => events.map((event) => event.id).filter((id) => typeof id === "string");
