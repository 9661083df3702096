/**
 * One attempt at an answer: streamText over the model with the chat's tools, in a loop of at most `maxSteps`
 * steps, turned into calls on a sink (tokens, tool calls, tool results) in the order the model produced them.
 *
 * Text deltas are coalesced: deltas that arrive while the event loop is busy (a burst from a fast model) join
 * one token, up to `maxDeltasPerToken`; a delta that arrives on its own is written on the next turn of the
 * event loop. A model streaming over the network thus gets about one token per delta, and no delta waits for
 * a timer. Pending text is always written before a tool event and before the attempt ends, so nothing reorders.
 */
import { APICallError, type LanguageModel, type ModelMessage, RetryError, stepCountIs, streamText, type ToolSet } from "ai";
import type { Usage } from "../events/chat.ts";

export const MAX_STEPS = 5;
export const DEFAULT_MAX_OUTPUT_TOKENS = 1024;
/** Most model deltas one token event holds. */
export const MAX_DELTAS_PER_TOKEN = 64;

export interface AnswerSink {
	/** Text to append as the next token (never empty). */
	token(text: string): void;
	toolCalled(call: { toolCallId: string; toolName: string; input: unknown; step: number }): void;
	toolResult(result: { toolCallId: string; toolName: string; output: unknown; error?: string }): void;
}

export type AnswerOutcome =
	| { kind: "done"; text: string; usage: Usage; finishReason: string; steps: number }
	| { kind: "aborted" }
	| { kind: "failed"; message: string; transient: boolean };

export interface AnswerRequest {
	model: LanguageModel;
	instructions: string;
	messages: ModelMessage[];
	tools: ToolSet;
	signal: AbortSignal;
	maxOutputTokens?: number;
	maxSteps?: number;
	maxDeltasPerToken?: number;
}

/** Buffers deltas and writes them as tokens: at once when full, else on the next macrotask. */
class TokenBuffer {
	#text = "";
	#deltas = 0;
	#scheduled = false;
	written = "";
	/** A write that failed on the timer; the reader raises it. */
	error: unknown;

	constructor(
		private readonly write: (text: string) => void,
		private readonly max: number,
	) {}

	push(delta: string): void {
		if (!delta) return;
		this.#text += delta;
		this.#deltas++;
		if (this.#deltas >= this.max) this.flush();
		else if (!this.#scheduled) {
			this.#scheduled = true;
			setTimeout(() => {
				this.#scheduled = false;
				try {
					this.flush();
				} catch (error) {
					// Raised again where the stream is read, so a failed write fails the attempt instead of escaping.
					this.error ??= error;
				}
			}, 0);
		}
	}

	flush(): void {
		if (!this.#text) return;
		const text = this.#text;
		this.#text = "";
		this.#deltas = 0;
		this.written += text;
		this.write(text);
	}

	/** Drops buffered text (the answer was cancelled). */
	discard(): void {
		this.#text = "";
		this.#deltas = 0;
	}
}

/** Whether retrying the same request could succeed: rate limits, overload, 5xx, timeouts, dropped connections. */
export function isTransient(error: unknown): boolean {
	if (RetryError.isInstance(error)) return isTransient(error.lastError);
	if (APICallError.isInstance(error))
		return error.isRetryable || (error.statusCode !== undefined && (error.statusCode === 429 || error.statusCode >= 500));
	const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
	return /timeout|timed out|ECONNRESET|ECONNREFUSED|network|fetch failed|socket hang up|overloaded|capacity|temporarily|unavailable|rate limit|\b(429|5\d\d)\b/i.test(
		text,
	);
}

export function errorMessage(error: unknown): string {
	const text = error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error);
	return (text || "unknown error").slice(0, 2000);
}

const count = (n: number | undefined) => (typeof n === "number" && Number.isFinite(n) ? n : null);

export async function streamAnswer(request: AnswerRequest, sink: AnswerSink): Promise<AnswerOutcome> {
	const maxSteps = request.maxSteps ?? MAX_STEPS;
	const buffer = new TokenBuffer((text) => sink.token(text), request.maxDeltasPerToken ?? MAX_DELTAS_PER_TOKEN);
	let failure: unknown;
	let failed = false;
	let steps = 0;
	let finishReason = "unknown";
	let usage: Usage = { inputTokens: null, outputTokens: null, totalTokens: null };
	try {
		const result = streamText({
			model: request.model,
			instructions: request.instructions,
			messages: request.messages,
			tools: request.tools,
			// The instructions ask for an answer within the steps; a model that keeps calling tools is stopped here.
			// (Forcing toolChoice "none" on the last step fails outright when a model ignores it.)
			stopWhen: stepCountIs(maxSteps),
			maxOutputTokens: request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
			// Retries are the chat's own (one, recorded as llm.error), not the SDK's silent ones.
			maxRetries: 0,
			abortSignal: request.signal,
			onError: () => {},
		});
		for await (const part of result.fullStream) {
			switch (part.type) {
				case "text-delta":
					buffer.push(part.text);
					break;
				case "start-step":
					steps++;
					break;
				case "tool-call":
					buffer.flush();
					sink.toolCalled({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input, step: steps - 1 });
					break;
				case "tool-result":
					if (part.preliminary) break;
					buffer.flush();
					sink.toolResult({ toolCallId: part.toolCallId, toolName: part.toolName, output: part.output });
					break;
				case "tool-error":
					buffer.flush();
					sink.toolResult({ toolCallId: part.toolCallId, toolName: part.toolName, output: null, error: errorMessage(part.error) });
					break;
				case "error":
					if (!failed) failure = part.error;
					failed = true;
					break;
				case "abort":
					buffer.discard();
					return { kind: "aborted" };
				case "finish":
					finishReason = part.finishReason;
					usage = {
						inputTokens: count(part.totalUsage.inputTokens),
						outputTokens: count(part.totalUsage.outputTokens),
						totalTokens: count(part.totalUsage.totalTokens),
					};
					break;
				default:
					break;
			}
			if (request.signal.aborted) {
				buffer.discard();
				return { kind: "aborted" };
			}
			if (buffer.error) throw buffer.error;
		}
		if (buffer.error) throw buffer.error;
	} catch (error) {
		if (request.signal.aborted) {
			buffer.discard();
			return { kind: "aborted" };
		}
		failure = error;
		failed = true;
	}
	if (request.signal.aborted) {
		buffer.discard();
		return { kind: "aborted" };
	}
	buffer.flush();
	if (failed) return { kind: "failed", message: errorMessage(failure), transient: isTransient(failure) };
	if (!buffer.written && steps >= maxSteps && finishReason === "tool-calls") {
		buffer.push(`I looked up data in ${maxSteps} steps but did not get to an answer. Please ask a narrower question.`);
		buffer.flush();
	}
	return { kind: "done", text: buffer.written, usage, finishReason, steps };
}
