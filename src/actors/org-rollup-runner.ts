/**
 * The org's rollups, I/O side: the rollup timers, a rollup run on demand, and the follow-up timers each completed
 * rollup gets (its analysis in the PatternAnalyzerContainer when configured, then its report). What a rollup holds
 * is decided by the pure org decider (src/reducers/org-rollups.ts); this part only schedules and calls out.
 */
import { errorText, log } from "../core/log.ts";
import type { ActorError, Outcome } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import type { EventMeta } from "../events/envelope.ts";
import { analyze } from "../patterns/analyzer.ts";
import type { Finding, RollupRecord } from "../patterns/detect.ts";
import { describeMetrics } from "../patterns/metrics.ts";
import { PERIODS, type Period, SCHEDULE, type Window } from "../patterns/windows.ts";
import { writeReport } from "../patterns/write-report.ts";
import { isRefusal, type Refusal } from "../reducers/definition.ts";
import { isRolledUp, type OrgCommand, type OrgProposal, type OrgState } from "../reducers/org.ts";
import { lastCompleteWindow } from "../reducers/org-rollups.ts";
import type { AppendReceipt, Plan, TimerPlan } from "./actor.ts";
import { type RollupRun, rollupView } from "./org-views.ts";
import { analyzeInContainer } from "./pattern-analyzer.ts";
import type { Timer, TimerChange, TimerStore } from "./timers.ts";

/** The rollup timers every org runs (UTC): hourly at :00, daily 02:00, weekly Monday 03:00, monthly the 1st 04:00, yearly 1 January 05:00. */
export const ROLLUP_TIMERS: TimerChange[] = PERIODS.map((period) => ({ name: `rollup:${period}`, spec: { cron: SCHEDULE[period].cron } }));

type RollupRecordRef = { period: Period } & Window;

/** What the rollup part needs of the org actor. */
export interface RollupHost {
	env: Env;
	org(): string;
	state(): OrgState;
	now(): number;
	timers: TimerStore;
	/** Decides `command` on `state` at `version` (and the time `asOf`, default now). */
	decide(command: OrgCommand, state: OrgState, version: number, asOf?: number): OrgProposal[] | Refusal;
	/** A plan appending what `command` decides on the current state. */
	decided(command: OrgCommand): Plan<null, OrgState, OrgProposal> | ActorError;
	execute<R>(meta: EventMeta, plan: (state: OrgState, version: number) => Plan<R, OrgState, OrgProposal> | ActorError): Outcome<R>;
	version(): number;
}

export class OrgRollupRunner {
	constructor(readonly host: RollupHost) {}

	/** Whether pattern analysis is sent to the PatternAnalyzerContainer instead of running here. */
	get analyzeInContainer(): boolean {
		return this.host.env.PATTERN_ANALYZER === "container";
	}

	get reportPeriods(): Period[] {
		const configured = (this.host.env.ROLLUP_REPORTS ?? PERIODS.join(",")).split(",").map((p) => p.trim());
		return PERIODS.filter((p) => configured.includes(p));
	}

	/** Runs the rollup of `period`'s last complete window now (and whatever it is built from); a window already rolled up is a duplicate. */
	run(period: Period, meta: EventMeta): Outcome<RollupRun> {
		const asOf = this.host.now();
		const window = lastCompleteWindow(period, asOf);
		const command: OrgCommand = { kind: "roll_up", detect: !this.analyzeInContainer, forceUpTo: { period, window } };
		return this.host.execute(meta, (state, version): Plan<RollupRun, OrgState, OrgProposal> | ActorError => {
			const events = this.host.decide(command, state, version, asOf);
			if (isRefusal(events)) return events;
			const missing = ROLLUP_TIMERS.filter((t) => !this.host.timers.get(t.name));
			if (events.length === 0 && isRolledUp(state, period, window)) {
				const record = state.rollups.recent[period].find((r) => r.start === window.start);
				return {
					events: [],
					result: () => ({ period, window, duplicate: true, rollup: record ? rollupView(record) : null }),
					effects: () => ({ timers: missing }),
				};
			}
			const plan = this.#rollupPlan(events);
			return {
				...plan,
				result: (receipt) => {
					const done = appendedRollups(events, receipt).find((r) => r.period === period && r.start === window.start);
					return { period, window, duplicate: false, rollup: done ? rollupView(done) : null };
				},
				effects: (receipt, after) => ({ timers: [...(plan.effects?.(receipt, after).timers ?? []), ...missing] }),
			};
		});
	}

	/** The plan for a rollup, analysis or report timer; undefined for a timer this part does not own. */
	onTimer(timer: Timer, state: OrgState): TimerPlan<OrgState, OrgProposal> | Promise<TimerPlan<OrgState, OrgProposal>> | undefined {
		if (timer.name.startsWith("rollup:")) {
			const events = this.host.decide({ kind: "roll_up", detect: !this.analyzeInContainer }, state, this.host.version());
			return isRefusal(events) ? events : this.#rollupPlan(events);
		}
		if (timer.name.startsWith("report:")) return this.#reportPlan(timer.payload as RollupRecordRef);
		if (timer.name.startsWith("analyze:")) return this.#analyzePlan(timer.payload as RollupRecordRef);
		return undefined;
	}

	/**
	 * Rollups and patterns to append. Right after, each rollup gets its analysis (when the container
	 * does it) and then its report, as timers: they survive a restart and retry on failure.
	 */
	#rollupPlan(events: OrgProposal[]): Plan<null, OrgState, OrgProposal> {
		return {
			events,
			result: () => null,
			effects: (receipt) => {
				const rollups = appendedRollups(events, receipt);
				const ref = (r: RollupRecord) => ({ period: r.period, start: r.start, end: r.end });
				const at = this.host.now();
				return {
					timers: rollups.flatMap((r) => [
						...(this.analyzeInContainer ? [{ name: `analyze:${r.period}:${r.start}`, spec: { once: at }, payload: ref(r) }] : []),
						// Timers due at one instant fire by name, so "analyze:" runs before "report:" and the report sees the patterns.
						...(this.reportPeriods.includes(r.period)
							? [{ name: `report:${r.period}:${r.start}`, spec: { once: at }, payload: ref(r) }]
							: []),
					]),
				};
			},
		};
	}

	/**
	 * Sends one rollup and its baseline to the PatternAnalyzerContainer and records what it finds.
	 * If the container cannot answer, the same analysis runs here, so no rollup goes unanalysed.
	 */
	async #analyzePlan(ref: RollupRecordRef): Promise<TimerPlan<OrgState, OrgProposal>> {
		const records = this.host.state().rollups.recent[ref.period];
		const current = records.find((r) => r.start === ref.start);
		if (!current) return null;
		const request = { current, earlier: records.filter((r) => r.end <= current.start) };
		let findings: Finding[];
		try {
			findings = (await analyzeInContainer(this.host.env, request)).findings;
		} catch (error) {
			log("warn", "pattern analyzer container unavailable, analysing in the Worker", { org: this.host.org(), error: errorText(error) });
			findings = analyze(request, "worker").findings;
		}
		return this.host.decided({ kind: "record_patterns", findings });
	}

	/** Writes the report on one rollup. The rollup is read after the await: only the report's text comes from before it. */
	async #reportPlan(ref: RollupRecordRef): Promise<TimerPlan<OrgState, OrgProposal>> {
		const state = this.host.state();
		const findings = state.rollups.patterns.filter((f) => f.period === ref.period && f.window.start === ref.start);
		const record = state.rollups.recent[ref.period].find((r) => r.start === ref.start);
		if (!record) return null;
		const written = await writeReport(this.host.env, ref.period, ref, describeMetrics(record.metrics), findings);
		return this.host.decided({ kind: "record_report", ref, written });
	}
}

/** The rollups among the decided `events` that the receipt appended (a duplicate id was not), as they were decided. */
function appendedRollups(events: readonly OrgProposal[], receipt: AppendReceipt): RollupRecord[] {
	const appended = new Set(receipt.appended.map((e) => e.id));
	return events.flatMap((e) => (e.type === "org.rollup_completed" && appended.has(e.id) ? [e.data] : []));
}
