/**
 * The offline responder: a deterministic stand-in for a language model, used when no model can be reached
 * (`npm start` on a bare machine, local dev, tests). It goes through the same streamText loop as a real
 * model: first it calls the read tools that fit the question, then it streams an answer put together from
 * their results, word by word. Every answer starts with OFFLINE_LABEL so nobody mistakes it for a model's.
 */
import type {
	LanguageModelV4,
	LanguageModelV4CallOptions,
	LanguageModelV4Content,
	LanguageModelV4GenerateResult,
	LanguageModelV4Message,
	LanguageModelV4StreamPart,
	LanguageModelV4StreamResult,
	LanguageModelV4Usage,
} from "@ai-sdk/provider";

export const OFFLINE_LABEL = "[offline responder]";
export const OFFLINE_MODEL_ID = "roost-offline-responder";

type Call = { toolName: string; input: Record<string, unknown> };
type ToolOutcome = { toolName: string; output: unknown; error?: string };
type Turn = { kind: "tools"; calls: Call[] } | { kind: "text"; text: string };

export class OfflineResponder implements LanguageModelV4 {
	readonly specificationVersion = "v4";
	readonly provider = "roost";
	readonly modelId = OFFLINE_MODEL_ID;
	readonly supportedUrls = {};

	/** `tokenDelayMs`: pause between streamed words, so a person watching sees it stream; 0 streams at once. */
	constructor(readonly tokenDelayMs = 0) {}

	async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
		const turn = decideTurn(options);
		const content: LanguageModelV4Content[] =
			turn.kind === "tools"
				? turn.calls.map((call, i) => ({
						type: "tool-call",
						toolCallId: `offline-${i}`,
						toolName: call.toolName,
						input: JSON.stringify(call.input),
					}))
				: [{ type: "text", text: turn.text }];
		return {
			content,
			finishReason: { unified: turn.kind === "tools" ? "tool-calls" : "stop", raw: undefined },
			usage: usage(options, turn.kind === "text" ? words(turn.text).length : 0),
			warnings: [],
		};
	}

	async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
		const turn = decideTurn(options);
		const parts: LanguageModelV4StreamPart[] = [{ type: "stream-start", warnings: [] }];
		let deltas = 0;
		if (turn.kind === "tools") {
			turn.calls.forEach((call, i) => {
				parts.push({ type: "tool-call", toolCallId: `offline-${i}`, toolName: call.toolName, input: JSON.stringify(call.input) });
			});
		} else {
			parts.push({ type: "text-start", id: "offline" });
			for (const word of words(turn.text)) parts.push({ type: "text-delta", id: "offline", delta: word });
			deltas = words(turn.text).length;
			parts.push({ type: "text-end", id: "offline" });
		}
		parts.push({
			type: "finish",
			usage: usage(options, deltas),
			finishReason: { unified: turn.kind === "tools" ? "tool-calls" : "stop", raw: undefined },
		});
		const delay = this.tokenDelayMs;
		const signal = options.abortSignal;
		let next = 0;
		const stream = new ReadableStream<LanguageModelV4StreamPart>({
			async pull(controller) {
				const part = parts[next++];
				if (!part || signal?.aborted) {
					controller.close();
					return;
				}
				if (delay > 0 && part.type === "text-delta") await new Promise((resolve) => setTimeout(resolve, delay));
				controller.enqueue(part);
			},
		});
		return { stream };
	}
}

function words(text: string): string[] {
	return text.match(/\S+\s*|\s+/g) ?? [];
}

function usage(options: LanguageModelV4CallOptions, outputTokens: number): LanguageModelV4Usage {
	const inputTokens = options.prompt.reduce((n, message) => n + words(textOf(message)).length, 0);
	return {
		inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
		outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
	};
}

function textOf(message: LanguageModelV4Message): string {
	if (typeof message.content === "string") return message.content;
	return message.content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join(" ");
}

/** What to do now: call tools for the latest question if none has answered yet, else answer from what they said. */
export function decideTurn(options: Pick<LanguageModelV4CallOptions, "prompt" | "tools" | "toolChoice">): Turn {
	const { prompt } = options;
	let lastUser = -1;
	prompt.forEach((message, i) => {
		if (message.role === "user") lastUser = i;
	});
	const question = lastUser >= 0 ? textOf(prompt[lastUser] as LanguageModelV4Message).trim() : "";
	const outcomes: ToolOutcome[] = [];
	for (const message of prompt.slice(lastUser + 1)) {
		if (message.role !== "tool" && message.role !== "assistant") continue;
		for (const part of message.content) {
			if (typeof part === "string" || part.type !== "tool-result") continue;
			const out = part.output;
			if (out.type === "json" || out.type === "text") outcomes.push({ toolName: part.toolName, output: out.value });
			else if (out.type === "error-text") outcomes.push({ toolName: part.toolName, output: null, error: out.value });
			else if (out.type === "error-json") outcomes.push({ toolName: part.toolName, output: null, error: JSON.stringify(out.value) });
		}
	}
	const available = new Set((options.tools ?? []).filter((t) => t.type === "function").map((t) => t.name));
	if (outcomes.length === 0 && available.size > 0 && options.toolChoice?.type !== "none") {
		const calls = toolsFor(question).filter((call) => available.has(call.toolName));
		if (calls.length > 0) return { kind: "tools", calls };
	}
	return { kind: "text", text: answer(question, outcomes) };
}

function periodIn(question: string): string {
	if (/\bhour/.test(question)) return "hourly";
	if (/\bweek/.test(question)) return "weekly";
	if (/\bmonth/.test(question)) return "monthly";
	if (/\byear/.test(question)) return "yearly";
	if (/all[- ]time|\bever\b/.test(question)) return "all";
	return "daily";
}

/** How many days "the most visited pages" of a question covers: by default 7 ("this week"). */
function daysIn(question: string): number {
	if (/\bmonth/.test(question)) return 30;
	if (/\byesterday\b|\bday\b/.test(question)) return 1;
	return 7;
}

/** The tools a question calls for, by its words; a question that names none gets the interactions and the day's patterns. */
export function toolsFor(questionText: string): Call[] {
	const question = questionText.toLowerCase();
	const calls: Call[] = [];
	if (/\bpages?\b/.test(question) && /\bmost\b|\btop\b|popular|busiest/.test(question)) {
		// The most visited pages of a stretch of time: the daily rollups that cover it (a week or a month so far is not
		// rolled up as one until it ends).
		calls.push({ toolName: "get_top_pages", input: { days: daysIn(question) } });
	} else if (/pattern|trend|spike|rollup|busiest|popular|\btop\b|rate|metric/.test(question)) {
		calls.push({ toolName: "get_patterns", input: { period: periodIn(question) } });
	}
	if (/session|visit|user|page|who\b|customer/.test(question)) {
		const input: Record<string, unknown> = {};
		const user = /\buser(?:\s+id)?\s+["']?([\w.@:-]+)/.exec(questionText)?.[1];
		if (user) input.userId = user;
		const page = /(?:^|\s)(\/[\w\-/.]*)/.exec(questionText)?.[1];
		if (page) input.page = page;
		calls.push({ toolName: "search_sessions", input });
	}
	if (/interaction|recent|latest|happen|activity|new\b|camera|cctv/.test(question)) {
		calls.push({ toolName: "get_interactions", input: { limit: 20 } });
	}
	if (/earlier|history|said|asked|previous|conversation|before/.test(question)) {
		calls.push({ toolName: "get_chat_history", input: { limit: 10 } });
	}
	if (calls.length === 0) {
		calls.push({ toolName: "get_interactions", input: { limit: 20 } }, { toolName: "get_patterns", input: { period: "daily" } });
	}
	return calls;
}

const iso = (ms: unknown) =>
	typeof ms === "number" && Number.isFinite(ms) ? new Date(ms).toISOString().replace(".000Z", "Z") : "an unknown time";
const record = (value: unknown): Record<string, unknown> =>
	value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const quote = (text: string, max = 80) => `"${text.length > max ? `${text.slice(0, max - 1)}…` : text}"`;

function describeOutcome({ toolName, output, error }: ToolOutcome): string {
	if (error) return `The ${toolName} tool failed: ${error}.`;
	const out = record(output);
	switch (toolName) {
		case "get_interactions": {
			const items = list(out.interactions).map(record);
			if (items.length === 0) return "The org has recorded no interactions yet.";
			const bySource = new Map<string, number>();
			for (const item of items) bySource.set(String(item.source), (bySource.get(String(item.source)) ?? 0) + 1);
			const sources = [...bySource].map(([source, n]) => `${n} ${source}`).join(", ");
			const last = items.at(-1) ?? {};
			const more = out.next !== null && out.next !== undefined ? " There are more after these." : "";
			return `Interactions on this page: ${items.length} (${sources}). The last one, ${String(record(last.actor).kind ?? last.source)} ${String(record(last.actor).id ?? last.id)}, ended at ${iso(last.endedAt)}.${more}`;
		}
		case "search_sessions": {
			const sessions = list(out.sessions).map(record);
			if (sessions.length === 0)
				return out.rebuilding
					? "The session index is rebuilding; ask again in a moment."
					: "No ended web visit matches, in the whole history.";
			const first = sessions[0] ?? {};
			const summary = record(first.summary);
			const pages = list(summary.pages).slice(0, 5).map(String).join(", ");
			return `Ended web visits found: ${sessions.length}. The most recent, session ${String(first.session)}, ended at ${iso(first.endedAt)} with ${Number(summary.pageViews ?? 0)} page views${pages ? ` (${pages})` : ""}${summary.userId ? ` by user ${String(summary.userId)}` : ""}.`;
		}
		case "get_patterns": {
			const rollups = list(out.rollups);
			const patterns = list(out.patterns).map(record);
			const period = String(out.period ?? "the period");
			if (rollups.length === 0 && patterns.length === 0) return `No ${period} rollups or patterns yet.`;
			const named = patterns
				.slice(0, 3)
				.map((p) => String(p.detail ?? p.summary ?? p.description ?? p.type ?? JSON.stringify(p).slice(0, 80)))
				.join("; ");
			const latest = record(rollups[0]);
			const metrics = record(latest.metrics);
			const totals =
				latest.label !== undefined
					? ` The latest, ${String(latest.label)}, counted ${Number(metrics.interactions ?? 0)} interactions.`
					: "";
			return `For ${period}: ${rollups.length} rollups and ${patterns.length} patterns${named ? `, among them: ${named}` : ""}.${totals}`;
		}
		case "get_top_pages": {
			const pages = list(out.pages).map(record);
			if (pages.length === 0) return "No daily rollup with web visits yet, so no page counts.";
			const days = Number(out.days ?? 0);
			const span = days === 1 ? String(out.to) : `the ${days} days from ${String(out.from)} to ${String(out.to)}`;
			const top = pages.slice(0, 5).map((p) => `${String(p.path)} (${Number(p.visits ?? 0)} visits)`);
			return `Most visited pages in ${span}: ${top.join(", ")}.`;
		}
		case "get_chat_history": {
			const messages = list(out.messages).map(record);
			const asked = messages.filter((m) => m.role === "user").map((m) => String(m.text));
			if (messages.length === 0) return "This chat has no earlier messages.";
			const earlier = asked.length > 1 ? ` Before this, you asked ${quote(asked.at(-2) ?? "")}.` : "";
			return `This chat has ${Number(out.total ?? messages.length)} messages so far.${earlier}`;
		}
		default:
			return `${toolName} answered ${JSON.stringify(output).slice(0, 120)}.`;
	}
}

function answer(question: string, outcomes: ToolOutcome[]): string {
	const lines = [`${OFFLINE_LABEL} No language model is configured, so this answer is put together from the org's data.`];
	if (question) lines.push(`You asked: ${quote(question, 120)}.`);
	if (outcomes.length === 0) lines.push("No tool was available to look anything up.");
	for (const outcome of outcomes) lines.push(describeOutcome(outcome));
	lines.push("Ask about interactions, patterns, web visits (by user or page) or this chat's history.");
	return lines.join(" ");
}
