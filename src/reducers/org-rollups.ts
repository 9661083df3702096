/**
 * What rollups mean for an org, and how they are decided. Interactions accumulate into the hour
 * they ended in; each period's rollup is built from the rollups of the period below it (a day from
 * its hours, a week and a month from days, a year from months), and all-time grows with each day.
 * Pure: the instant a decision is made for comes in as `asOf`, and each decision is an event.
 */
import type { ProposalOf } from "../events/catalog.ts";
import type { Interaction } from "../events/interaction.ts";
import type { orgCatalog } from "../events/org.ts";
import { detectPatterns, type Finding, type RollupRecord } from "../patterns/detect.ts";
import { emptyMetrics, type Metrics, mergeAll, mergeMetrics, metricsOf } from "../patterns/metrics.ts";
import { BUILT_FROM, isDue, PERIODS, type Period, windowAt, windowStart } from "../patterns/windows.ts";

export interface RollupState {
	/** Hourly accumulators not rolled up yet, by hour start (ms, as a string key). */
	open: Record<string, Metrics>;
	/** Everything before this instant is rolled up, per period; null until the org exists. */
	through: Record<Period, number | null>;
	/** The latest rollups of each period, oldest first (older ones stay in the log). */
	recent: Record<Period, RollupRecord[]>;
	/** All time: the merge of every daily rollup. */
	all: Metrics;
	/** The latest patterns found, oldest first. */
	patterns: Finding[];
	/** The latest written reports, oldest first. */
	reports: ReportRecord[];
}

export interface ReportRecord {
	period: Period;
	start: number;
	end: number;
	provider: string;
	report: { headline: string; highlights: string[]; concerns: string[] };
}

/** How many rollups of each period the state keeps: enough to build the period above and to serve as a baseline. */
export const RETAIN: Record<Period, number> = { hourly: 72, daily: 62, weekly: 16, monthly: 36, yearly: 20 };
const RETAIN_PATTERNS = 200;
const RETAIN_REPORTS = 50;
/** Windows one decision rolls up at most; a longer backlog continues at the next firing. */
export const MAX_WINDOWS_PER_DECISION = 400;

export const initialRollups = (): RollupState => ({
	open: {},
	through: { hourly: null, daily: null, weekly: null, monthly: null, yearly: null },
	recent: { hourly: [], daily: [], weekly: [], monthly: [], yearly: [] },
	all: emptyMetrics(),
	patterns: [],
	reports: [],
});

/** Rollups start at the windows the org was created in. */
export function rollupsFrom(createdAt: number): RollupState {
	const state = initialRollups();
	for (const period of PERIODS) state.through[period] = windowStart(period, createdAt);
	return state;
}

/** An interaction goes to the hour it ended in, or, when that hour is already rolled up, to the hour it arrived in. */
export function recordInteraction(state: RollupState, interaction: Interaction, arrivedAt: number): RollupState {
	const through = state.through.hourly;
	const hour = windowStart("hourly", interaction.endedAt);
	const late = through !== null && hour < through;
	const bucket = late ? Math.max(windowStart("hourly", arrivedAt), through) : hour;
	const key = String(bucket);
	return { ...state, open: { ...state.open, [key]: mergeMetrics(state.open[key] ?? emptyMetrics(), metricsOf(interaction, late)) } };
}

export interface RollupCompleted {
	period: Period;
	start: number;
	end: number;
	metrics: Metrics;
	builtFrom: { period: Period | "interactions"; count: number };
}

export function applyRollup(state: RollupState, rollup: RollupCompleted): RollupState {
	const { period, start, end, metrics } = rollup;
	const through = state.through[period];
	if (through !== null && start < through) throw new Error(`${period} rollup of ${start} is before ${through}, which is already rolled up`);
	const record: RollupRecord = { period, start, end, metrics };
	const open = { ...state.open };
	if (period === "hourly") delete open[String(start)];
	return {
		...state,
		open,
		through: { ...state.through, [period]: end },
		recent: { ...state.recent, [period]: [...state.recent[period], record].slice(-RETAIN[period]) },
		all: period === "daily" ? mergeMetrics(state.all, metrics) : state.all,
	};
}

export function applyPattern(state: RollupState, finding: Finding): RollupState {
	return { ...state, patterns: [...state.patterns, finding].slice(-RETAIN_PATTERNS) };
}

export function applyReport(state: RollupState, report: ReportRecord): RollupState {
	return { ...state, reports: [...state.reports, report].slice(-RETAIN_REPORTS) };
}

/** The next window of `period` waiting to be rolled up, if it is due and what it is built from is complete. */
function nextDue(state: RollupState, period: Period, asOf: number, forced: boolean): { start: number; end: number } | null {
	const from = state.through[period];
	if (from === null) return null;
	const window = windowAt(period, from);
	if (!isDue(period, window, asOf, forced)) return null;
	if (period !== "hourly") {
		const lower = state.through[BUILT_FROM[period]];
		if (lower === null || lower < window.end) return null;
	}
	return window;
}

export interface RollupOptions {
	/** Roll up the periods up to and including this one as soon as their windows end (ad hoc runs). */
	forceUpTo?: Period;
	/** Find patterns here (default); false when the pattern analyzer container does it afterwards. */
	detect?: boolean;
}

/**
 * Every rollup due at `asOf`, oldest window first (a lower period first on ties, so a day always
 * follows its last hour), each followed by the patterns it shows.
 */
export function decideRollups(state: RollupState, asOf: number, options: RollupOptions = {}): ProposalOf<typeof orgCatalog>[] {
	const { forceUpTo, detect = true } = options;
	const events: ProposalOf<typeof orgCatalog>[] = [];
	const forcedRank = forceUpTo === undefined ? -1 : PERIODS.indexOf(forceUpTo);
	let working = state;
	for (let n = 0; n < MAX_WINDOWS_PER_DECISION; n++) {
		let pick: { period: Period; start: number; end: number } | null = null;
		for (const [rank, period] of PERIODS.entries()) {
			const due = nextDue(working, period, asOf, rank <= forcedRank);
			if (due && (!pick || due.end < pick.end)) pick = { period, ...due };
		}
		if (!pick) break;
		const { period, start, end } = pick;
		const rollup: RollupCompleted =
			period === "hourly"
				? {
						period,
						start,
						end,
						metrics: working.open[String(start)] ?? emptyMetrics(),
						builtFrom: { period: "interactions", count: working.open[String(start)]?.interactions ?? 0 },
					}
				: buildFromLower(working, period, start, end);
		const earlier = working.recent[period];
		events.push({ id: `rollup:${period}:${start}`, type: "org.rollup_completed", ts: asOf, data: rollup });
		working = applyRollup(working, rollup);
		if (!detect) continue;
		for (const finding of detectPatterns({ period, start, end, metrics: rollup.metrics }, earlier)) {
			events.push({ id: finding.id, type: "org.pattern_detected", ts: asOf, data: finding });
			working = applyPattern(working, finding);
		}
	}
	return events;
}

function buildFromLower(state: RollupState, period: Exclude<Period, "hourly">, start: number, end: number): RollupCompleted {
	const lower = BUILT_FROM[period];
	const parts = state.recent[lower].filter((r) => r.start >= start && r.end <= end);
	return { period, start, end, metrics: mergeAll(parts.map((r) => r.metrics)), builtFrom: { period: lower, count: parts.length } };
}

/** The last window of `period` that has ended by `asOf`: what an ad hoc run rolls up. */
export function lastCompleteWindow(period: Period, asOf: number): { start: number; end: number } {
	const current = windowStart(period, asOf);
	// The window before the one that contains asOf: step back one millisecond and take its window.
	return windowAt(period, windowStart(period, current - 1));
}
