/**
 * Writes the report on one rollup: with the configured model (AI SDK generateObject against
 * `reportSchema`), or offline from the same metrics, labelled so. A model that fails falls back to
 * the offline report rather than losing it, and the provider field says what happened.
 */
import { generateObject } from "ai";
import { chooseModel } from "../ai/provider.ts";
import { errorText, log } from "../core/log.ts";
import type { Env } from "../env.ts";
import type { Finding } from "./detect.ts";
import type { MetricsView } from "./metrics.ts";
import { offlineReport, type Report, reportPrompt, reportSchema } from "./report.ts";
import type { Period, Window } from "./windows.ts";

/** Enough for a headline and ten short lines; Workers AI would otherwise stop at 256 tokens. */
const REPORT_MAX_TOKENS = 800;

export async function writeReport(
	env: Env,
	period: Period,
	window: Window,
	metrics: MetricsView,
	findings: readonly Finding[],
): Promise<{ provider: string; report: Report }> {
	const choice = chooseModel(env);
	// The offline responder writes chat answers, not objects: the offline report is built from the metrics instead.
	if (choice.kind === "offline") return { provider: "offline", report: offlineReport(period, window, metrics, findings) };
	try {
		const { object } = await generateObject({
			model: choice.model,
			schema: reportSchema,
			prompt: reportPrompt(period, window, metrics, findings),
			maxOutputTokens: REPORT_MAX_TOKENS,
			maxRetries: 1,
		});
		return { provider: choice.label, report: object };
	} catch (error) {
		log("warn", "report model failed, writing it offline", {
			period,
			windowStart: window.start,
			provider: choice.label,
			error: errorText(error),
		});
		return { provider: `offline (${choice.label} failed)`, report: offlineReport(period, window, metrics, findings) };
	}
}
