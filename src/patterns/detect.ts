/**
 * Patterns found in rollups by deterministic code: spikes and drops against the trailing baseline
 * of the same period, new top pages, rising errors, and camera offline streaks. Pure: the same
 * rollups always give the same findings, in the same order.
 */
import { type Metrics, topOf } from "./metrics.ts";
import type { Period, Window } from "./windows.ts";

export interface RollupRecord extends Window {
	period: Period;
	metrics: Metrics;
}

export const PATTERN_TYPES = ["spike", "drop", "new_top_page", "rising_errors", "camera_offline_streak"] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

export interface Finding {
	/** Stable per window, type and metric, so re-running a rollup never records a pattern twice. */
	id: string;
	type: PatternType;
	period: Period;
	window: Window;
	source: "web" | "cctv" | "chat" | "all";
	metric: string;
	value: number;
	/** 0..1 */
	confidence: number;
	baseline: { mean: number; std: number; n: number; from: number | null; to: number | null };
	detail: string;
}

/** How many earlier rollups of the same period make the baseline, and the fewest that count as one. */
export const BASELINE: Record<Period, { size: number; min: number }> = {
	hourly: { size: 24, min: 6 },
	daily: { size: 14, min: 5 },
	weekly: { size: 8, min: 4 },
	monthly: { size: 6, min: 3 },
	yearly: { size: 3, min: 2 },
};

/** The series watched for spikes and drops. */
export const SERIES: { metric: string; source: Finding["source"]; read: (m: Metrics) => number }[] = [
	{ metric: "interactions", source: "all", read: (m) => m.interactions },
	{ metric: "web.sessions", source: "web", read: (m) => m.web.sessions },
	{ metric: "web.errors", source: "web", read: (m) => m.web.errors },
	{ metric: "cctv.motionFrames", source: "cctv", read: (m) => m.cctv.motionFrames },
	{ metric: "chat.messages", source: "chat", read: (m) => m.chat.messages },
];

/** A z-score at or beyond this is a spike (or a drop). */
export const Z_THRESHOLD = 3;
/** Counts below this are never called a spike, nor baselines below it a drop: small numbers are noise. */
export const MIN_COUNT = 5;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function stats(values: readonly number[]): { mean: number; std: number } {
	const mean = values.reduce((a, b) => a + b, 0) / values.length;
	const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
	return { mean, std: Math.sqrt(variance) };
}

/** Confidence grows from 0.5 at the threshold towards 1 as the z-score grows. */
export const zConfidence = (z: number) => round3(1 - 0.5 * Math.exp(-(Math.abs(z) - Z_THRESHOLD) / 2));

/**
 * Findings for `current`, given the earlier rollups of its period (oldest first). Only the last
 * BASELINE[period].size of them are used, and nothing is found without BASELINE[period].min.
 */
export function detectPatterns(current: RollupRecord, earlier: readonly RollupRecord[]): Finding[] {
	const { size, min } = BASELINE[current.period];
	const history = earlier.filter((r) => r.period === current.period && r.end <= current.start).slice(-size);
	const window = { start: current.start, end: current.end };
	const base = { period: current.period, window };
	const findings: Finding[] = [];
	const idOf = (type: PatternType, metric: string) => `pattern:${current.period}:${current.start}:${type}:${metric}`;

	if (history.length >= min) {
		const from = history[0]?.start ?? null;
		const to = history.at(-1)?.end ?? null;
		for (const series of SERIES) {
			const values = history.map((r) => series.read(r.metrics));
			const value = series.read(current.metrics);
			const { mean, std } = stats(values);
			// The spread never counts as smaller than counting noise (√mean) or 1.
			const z = (value - mean) / Math.max(std, Math.sqrt(mean), 1);
			const baseline = { mean: round3(mean), std: round3(std), n: history.length, from, to };
			if (z >= Z_THRESHOLD && value >= MIN_COUNT) {
				findings.push({
					...base,
					id: idOf("spike", series.metric),
					type: "spike",
					source: series.source,
					metric: series.metric,
					value,
					confidence: zConfidence(z),
					baseline,
					detail: `${series.metric} was ${value} against a baseline of ${round3(mean)} ± ${round3(std)} (z = ${round3(z)})`,
				});
			} else if (z <= -Z_THRESHOLD && mean >= MIN_COUNT) {
				findings.push({
					...base,
					id: idOf("drop", series.metric),
					type: "drop",
					source: series.source,
					metric: series.metric,
					value,
					confidence: zConfidence(z),
					baseline,
					detail: `${series.metric} fell to ${value} against a baseline of ${round3(mean)} ± ${round3(std)} (z = ${round3(z)})`,
				});
			}
		}

		const known = new Set(history.flatMap((r) => topOf(r.metrics.web.pages, 10).map((p) => p.key)));
		topOf(current.metrics.web.pages, 5).forEach(({ key, count }, rank) => {
			if (count < MIN_COUNT || known.has(key)) return;
			findings.push({
				...base,
				id: idOf("new_top_page", `rank${rank + 1}`),
				type: "new_top_page",
				source: "web",
				metric: `web.pages:${key}`,
				value: count,
				confidence: round3(Math.min(0.95, 0.5 + count / (count + 2 * MIN_COUNT))),
				baseline: { mean: 0, std: 0, n: history.length, from, to },
				detail: `${key} is a top page with ${count} visits; it was not among the top 10 pages of the previous ${history.length} ${current.period} rollups`,
			});
		});

		const rate = (m: Metrics) => m.web.errors / Math.max(1, m.web.sessions);
		const recent = [...history.slice(-3), current].map((r) => rate(r.metrics));
		const baselineRate = stats(history.map((r) => rate(r.metrics))).mean;
		const rising = recent.length === 4 && recent.every((r, i) => i === 0 || r > (recent[i - 1] ?? 0));
		const currentRate = rate(current.metrics);
		if (rising && current.metrics.web.errors >= 3 && currentRate >= 2 * baselineRate) {
			findings.push({
				...base,
				id: idOf("rising_errors", "web.errorRate"),
				type: "rising_errors",
				source: "web",
				metric: "web.errorRate",
				value: round3(currentRate),
				confidence: round3(Math.min(0.95, 0.6 + 0.1 * (currentRate / Math.max(baselineRate, 0.01) - 2))),
				baseline: { mean: round3(baselineRate), std: 0, n: history.length, from, to },
				detail: `errors per session rose in each of the last four ${current.period} rollups, to ${round3(currentRate)} (baseline ${round3(baselineRate)})`,
			});
		}
	}

	const length = current.end - current.start;
	const offline = current.metrics.cctv.offlineMs;
	if (offline >= length / 2) {
		findings.push({
			...base,
			id: idOf("camera_offline_streak", "cctv.offlineMs"),
			type: "camera_offline_streak",
			source: "cctv",
			metric: "cctv.offlineMs",
			value: offline,
			confidence: round3(Math.min(1, offline / length)),
			baseline: { mean: 0, std: 0, n: 0, from: null, to: null },
			detail: `cameras were offline for ${Math.round(offline / 60_000)} of the window's ${Math.round(length / 60_000)} minutes (summed over cameras)`,
		});
	}
	return findings;
}
