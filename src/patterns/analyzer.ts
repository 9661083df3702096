/**
 * The pattern analyzer's request and answer: the same deterministic detection the Worker runs,
 * packaged so it can run in the PatternAnalyzerContainer (containers/pattern-analyzer) instead.
 * Pure.
 */
import { detectPatterns, type Finding, type RollupRecord } from "./detect.ts";

export interface AnalyzeRequest {
	/** The rollup to analyse. */
	current: RollupRecord;
	/** Earlier rollups of the same period, oldest first: the baseline. */
	earlier: RollupRecord[];
}

export interface AnalyzeResponse {
	findings: Finding[];
	analyzer: string;
}

export function analyze(request: AnalyzeRequest, analyzer: string): AnalyzeResponse {
	return { findings: detectPatterns(request.current, request.earlier), analyzer };
}

/** Checks the shape a caller sent, naming the first field that is wrong. */
export function checkAnalyzeRequest(body: unknown): { ok: true; request: AnalyzeRequest } | { ok: false; path: string; message: string } {
	const record = (value: unknown, path: string): string | null => {
		if (!value || typeof value !== "object") return `${path} must be an object`;
		const r = value as Record<string, unknown>;
		if (typeof r.period !== "string") return `${path}.period must be a period`;
		if (typeof r.start !== "number" || typeof r.end !== "number") return `${path}.start and .end must be numbers`;
		if (!r.metrics || typeof r.metrics !== "object") return `${path}.metrics must be an object`;
		return null;
	};
	if (!body || typeof body !== "object") return { ok: false, path: "(body)", message: "must be a JSON object" };
	const { current, earlier } = body as Record<string, unknown>;
	const bad = record(current, "current");
	if (bad) return { ok: false, path: "current", message: bad };
	if (!Array.isArray(earlier)) return { ok: false, path: "earlier", message: "must be an array of rollups" };
	for (const [i, r] of earlier.entries()) {
		const wrong = record(r, `earlier[${i}]`);
		if (wrong) return { ok: false, path: `earlier[${i}]`, message: wrong };
	}
	return { ok: true, request: { current: current as RollupRecord, earlier: earlier as RollupRecord[] } };
}
