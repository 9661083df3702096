/**
 * Timers on the alarm: fires due timers through the actor's handler (or a kernel timer's own), moves each on in
 * the transaction of the events its firing appends, retries a failing one with backoff and parks one that failed PARK_AFTER_ATTEMPTS times or whose plan
 * can never pass validation. Delivered at least once: a firing is only moved on when its events commit.
 */

import { log } from "../../core/log.ts";
import { type ActorError, fail, type Outcome, ok } from "../../core/outcome.ts";
import { backoffDelay } from "../backoff.ts";
import { faultPoint } from "../faults.ts";
import type { Timer, TimerChange, TimerSpec } from "../timers.ts";
import type { AlarmPart } from "./alarm.ts";
import type { KernelHost } from "./host.ts";
import { invalidTimers } from "./stage.ts";
import type { PlanOf, TimerPlan } from "./types.ts";

const MAX_TIMERS_PER_ALARM = 1000;

export interface TimerHandlers<S> {
	/** The actor kind's handler: what a due timer's firing means. */
	onTimer(timer: Timer, state: S): TimerPlan<S> | Promise<TimerPlan<S>>;
	/** Runs a plan on the append path, moving `firing` on in its transaction. */
	run(plan: PlanOf<unknown, S>, firing: Timer): Outcome<unknown>;
	/** Timers the kernel's own parts keep (by name), fired by them instead of the kind's handler. */
	kernelTimers: Record<string, (timer: Timer) => Promise<void>>;
	/** Whether a timer that has failed `attempts` times is parked rather than retried. */
	parksAfter(attempts: number): boolean;
	/** Parks a timer, recording it in the actor's log (src/actors/kernel/parking.ts). */
	park(timer: Timer, detail: string, reason: "attempts" | "invalid"): void;
}

export class TimerPart<S> implements AlarmPart {
	constructor(
		private readonly host: KernelHost<S>,
		private readonly handlers: TimerHandlers<S>,
	) {}

	nextDueAt(): number | null {
		return this.host.timers.earliestDue();
	}

	async onAlarm(now: number): Promise<number> {
		let fired = 0;
		// Bounded per alarm so one wake never runs unbounded; the re-armed alarm picks up the rest at once.
		while (fired < MAX_TIMERS_PER_ALARM) {
			const due = this.host.timers.due(now, Math.min(200, MAX_TIMERS_PER_ALARM - fired));
			if (due.length === 0) return fired;
			for (const timer of due) {
				await this.#fire(timer, now);
				fired++;
			}
		}
		return fired;
	}

	/** Sets or cancels timers outside a command (no events). Sandboxes are refused by the caller. */
	change(changes: TimerChange[]): Outcome<{ timers: number }> {
		const bad = invalidTimers(changes);
		if (bad) return bad;
		this.host.ctx.storage.transactionSync(() => this.host.timers.apply(changes, this.host.now()));
		this.host.ctx.waitUntil(this.host.rearm());
		return ok({ timers: this.host.timers.count() });
	}

	/** Sets a kernel timer unless it is set already. */
	ensure(name: string, spec: TimerSpec): void {
		if (this.host.timers.get(name)) return;
		this.change([{ name, spec }]);
	}

	/** Cancels a kernel timer if it is set. */
	cancel(name: string): void {
		if (!this.host.timers.get(name)) return;
		this.change([{ name, cancel: true }]);
	}

	async #fire(timer: Timer, now: number): Promise<void> {
		const own = Object.hasOwn(this.handlers.kernelTimers, timer.name) ? this.handlers.kernelTimers[timer.name] : undefined;
		if (own) return own(timer);
		let outcome: Outcome<unknown>;
		try {
			faultPoint("timer.before-handler", this.host.ctx);
			const pending = this.handlers.onTimer(timer, this.host.head.state);
			// Only an async handler yields here; its plan must not rely on state read before its await.
			const planned = pending instanceof Promise ? await pending : pending;
			faultPoint("timer.after-handler", this.host.ctx);
			outcome = this.handlers.run(() => planned ?? { events: [], result: () => null }, timer);
		} catch (error) {
			outcome = fail({ kind: "rejected", detail: error instanceof Error ? error.message : String(error) });
		}
		if (!outcome.ok) this.#failed(timer, outcome.error, now);
	}

	#failed(timer: Timer, error: ActorError, now: number): void {
		if (error.kind === "invalid") {
			// Its plan failed validation: the same state gives the same plan, so a retry would fail forever. Surface it instead.
			const detail = `${error.detail} ${error.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`.trim();
			this.handlers.park(timer, detail, "invalid");
			return;
		}
		const attempts = timer.attempts + 1;
		if (this.handlers.parksAfter(attempts)) {
			this.handlers.park(timer, error.detail, "attempts");
			return;
		}
		const retryAt = now + backoffDelay(attempts);
		const { kind, id } = this.host.actor;
		log("warn", "timer failed", { actorKind: kind, actorId: id, timer: timer.name, attempts, retryAt, error: error.detail });
		this.host.ctx.storage.transactionSync(() => this.host.timers.failed(timer, error.detail, retryAt));
	}
}
