/**
 * The PatternAnalyzerContainer: a Durable Object in front of the container built from
 * containers/pattern-analyzer (max 2 instances, asleep after 10 minutes idle). Orgs use it when
 * PATTERN_ANALYZER is "container"; otherwise the same analysis runs in the Worker.
 */
import { Container, getRandom } from "@cloudflare/containers";
import type { Env } from "../env.ts";
import type { AnalyzeRequest, AnalyzeResponse } from "../patterns/analyzer.ts";

export const MAX_ANALYZER_INSTANCES = 2;

export class PatternAnalyzerContainer extends Container<Env> {
	override defaultPort = 8080;
	override sleepAfter = "10m";
}

/** Sends one analysis to a container instance; throws if the container cannot answer. */
export async function analyzeInContainer(env: Env, request: AnalyzeRequest): Promise<AnalyzeResponse> {
	if (!env.PATTERN_ANALYZER_CONTAINER) throw new Error("no PATTERN_ANALYZER_CONTAINER binding");
	const container = await getRandom(env.PATTERN_ANALYZER_CONTAINER, MAX_ANALYZER_INSTANCES);
	const res = await container.fetch("http://analyzer/analyze", {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(request),
	});
	if (!res.ok) throw new Error(`pattern analyzer answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
	return res.json<AnalyzeResponse>();
}
