/** What the org shows of its rollups, patterns and reports: views built from its state, never from the log. */
import type { Finding, RollupRecord } from "../patterns/detect.ts";
import { describeMetrics, type MetricsView } from "../patterns/metrics.ts";
import { type Period, type PeriodOrAll, type Window, windowLabel } from "../patterns/windows.ts";
import type { OrgState } from "../reducers/org.ts";
import type { ReportRecord } from "../reducers/org-rollups.ts";

export interface RollupView extends Window {
	period: PeriodOrAll;
	label: string;
	metrics: MetricsView;
}

export interface RollupRun {
	period: Period;
	window: Window;
	/** True when the window was already rolled up: nothing was appended. */
	duplicate: boolean;
	rollup: RollupView | null;
}

export interface PatternsView {
	period: PeriodOrAll;
	rollups: RollupView[];
	patterns: Finding[];
	reports: ReportRecord[];
}

export function rollupView(record: RollupRecord): RollupView {
	return {
		period: record.period,
		start: record.start,
		end: record.end,
		label: windowLabel(record.period, record),
		metrics: describeMetrics(record.metrics),
	};
}

/** Rollups of one period (newest first), the patterns found in them and the reports written on them; `all` is all time. */
export function patternsView(state: OrgState, query: { period: PeriodOrAll; limit?: number }): PatternsView {
	const limit = Math.min(Math.max(1, query.limit ?? 24), 200);
	const { rollups, createdAt } = state;
	if (query.period === "all") {
		const through = rollups.through.daily;
		const rollup =
			createdAt === null || through === null
				? []
				: [{ period: "all" as const, start: createdAt, end: through, label: "all time", metrics: describeMetrics(rollups.all) }];
		return {
			period: "all",
			rollups: rollup,
			patterns: rollups.patterns.slice(-limit).reverse(),
			reports: rollups.reports.slice(-limit).reverse(),
		};
	}
	const period = query.period;
	return {
		period,
		rollups: rollups.recent[period].slice(-limit).reverse().map(rollupView),
		patterns: rollups.patterns
			.filter((f) => f.period === period)
			.slice(-limit)
			.reverse(),
		reports: rollups.reports
			.filter((r) => r.period === period)
			.slice(-limit)
			.reverse(),
	};
}
