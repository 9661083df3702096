/**
 * Reports on rollups. A model writes them (AI SDK generateObject with `reportSchema`) when one is
 * configured; otherwise `offlineReport` builds one from the same metrics and findings, and says so.
 * Pure: the offline report is a function of its inputs.
 */
import { z } from "zod";
import type { Finding } from "./detect.ts";
import type { MetricsView } from "./metrics.ts";
import { type Period, type Window, windowLabel } from "./windows.ts";

export const reportSchema = z.object({
	headline: z.string().min(1).max(200).describe("One sentence: what mattered most in this window."),
	highlights: z.array(z.string().max(300)).max(5).describe("Up to five notable facts, each with its number."),
	concerns: z.array(z.string().max(300)).max(5).describe("Up to five things that need attention; empty if none."),
});
export type Report = z.infer<typeof reportSchema>;

export const OFFLINE_LABEL = "offline report (no model configured): built from the metrics";

const minutes = (ms: number | null) => (ms === null ? "n/a" : `${Math.round(ms / 6000) / 10} min`);

export function offlineReport(period: Period, window: Window, metrics: MetricsView, findings: readonly Finding[]): Report {
	const label = windowLabel(period, window);
	const { web, cctv, chat } = metrics;
	const headline =
		metrics.interactions === 0
			? `${label}: no interactions (${OFFLINE_LABEL}).`
			: `${label}: ${metrics.interactions} interactions — ${metrics.bySource.web} web, ${metrics.bySource.cctv} CCTV, ${metrics.bySource.chat} chat (${OFFLINE_LABEL}).`;
	const highlights: string[] = [];
	if (web.sessions > 0) {
		highlights.push(
			`${web.sessions} web visits, ${web.pageViews} page views, median visit ${minutes(web.medianSessionMs)} (p90 ${minutes(web.p90SessionMs)}).`,
		);
		const top = web.topPages.slice(0, 3).map((p) => `${p.path} (${p.visits})`);
		if (top.length > 0) highlights.push(`Top pages: ${top.join(", ")}.`);
	}
	if (cctv.episodes > 0) highlights.push(`${cctv.episodes} camera episodes, ${cctv.frames} frames, ${cctv.motionFrames} with motion.`);
	if (chat.conversations > 0) highlights.push(`${chat.conversations} chats with ${chat.messages} messages.`);
	const concerns = findings.slice(0, 5).map((f) => `${f.type.replaceAll("_", " ")} (confidence ${f.confidence}): ${f.detail}.`);
	if (web.errors > 0 && concerns.length < 5) concerns.push(`${web.errors} client errors across ${web.sessions} visits.`);
	return { headline: headline.slice(0, 200), highlights: highlights.slice(0, 5), concerns: concerns.slice(0, 5) };
}

/** The prompt a model gets: the window, the metrics and the findings as JSON, nothing else. */
export function reportPrompt(period: Period, window: Window, metrics: MetricsView, findings: readonly Finding[]): string {
	return [
		`Write a short report for an analytics dashboard on the ${period} rollup for ${windowLabel(period, window)} (UTC).`,
		"Use only the numbers below; do not invent any. Mention the patterns found, if any.",
		`Metrics: ${JSON.stringify(metrics)}`,
		`Patterns: ${JSON.stringify(findings.map(({ type, metric, value, confidence, detail }) => ({ type, metric, value, confidence, detail })))}`,
	].join("\n");
}
