/**
 * One attempt at an answer: streamText over the model with the chat's tools, in a loop of at most `maxSteps`
 * steps, turned into calls on a sink (tokens, tool calls, tool results) in the order the model produced them.
 *
 * Text deltas are coalesced, because every token event is a transaction that writes rows (the event's and its index
 * entries'): a delta written after a quiet spell (the answer's first always is) goes out on the next turn of the event
 * loop, while deltas that come within `tokenIntervalMs` (50 ms) of the last write share a token, written when the
 * interval is up or as soon as it holds MAX_TOKEN_CHARS (2 KB) of text, whichever comes first (src/ai/coalesce.ts
 * merges a burst before streamText sees it). The stream thus shows text at most 50 ms after the model produced it, at
 * most 20 times a second, and never makes the model wait. Pending text is always written before a tool event and
 * before the attempt ends, so nothing reorders.
 */
import { APICallError, type LanguageModel, type ModelMessage, RetryError, stepCountIs, streamText, type ToolSet } from "ai";
import type { Usage } from "../events/chat.ts";

export const MAX_STEPS = 5;
export const DEFAULT_MAX_OUTPUT_TOKENS = 1024;
/**
 * A token event is written as soon as it holds this much text. At one event per DEFAULT_TOKEN_INTERVAL_MS that is
 * 40 KB/s, five to ten times the fastest hosted models' output (1,000–2,000 tokens/s of about 4 characters), so only
 * a burst (a replayed or cached answer, the bench's mock) reaches it. It keeps an event, and its socket frame, near
 * 2 KB (the text that crossed the mark is written with it).
 */
export const MAX_TOKEN_CHARS = 2048;
/**
 * Least time between two token events while deltas keep coming; each append is a transaction that writes rows. 50 ms is
 * 20 updates a second, under the 100 ms a person perceives as instantaneous: the text still appears to stream as it
 * comes, while a model at 50–100 tokens/s writes 2.5–5 of its tokens per event instead of one.
 */
export const DEFAULT_TOKEN_INTERVAL_MS = 50;

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
	tokenIntervalMs?: number;
}

/**
 * Buffers deltas and writes them as tokens. A delta that finds the last write at least `intervalMs` old (the first
 * of an answer always does) is written on the next turn of the event loop (so a burst arriving in one turn joins it);
 * one that comes sooner waits until the interval has passed, joined by whatever else arrives meanwhile.
 * MAX_TOKEN_CHARS of text in the buffer are written at once.
 */
class TokenBuffer {
	#text = "";
	#timer: ReturnType<typeof setTimeout> | undefined;
	#lastWrite = 0;
	written = "";
	/** A write that failed on the timer; the reader raises it. */
	error: unknown;

	constructor(
		private readonly write: (text: string) => void,
		private readonly intervalMs: number,
	) {}

	/** Adds a delta; true when that filled the buffer and it was written now. */
	push(delta: string): boolean {
		if (!delta) return false;
		this.#text += delta;
		if (this.#text.length >= MAX_TOKEN_CHARS) {
			this.flush();
			return true;
		}
		if (this.#timer === undefined) {
			const wait = Math.max(0, this.#lastWrite + this.intervalMs - Date.now());
			this.#timer = setTimeout(() => {
				this.#timer = undefined;
				try {
					this.flush();
				} catch (error) {
					// Raised again where the stream is read, so a failed write fails the attempt instead of escaping.
					this.error ??= error;
				}
			}, wait);
		}
		return false;
	}

	flush(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
		if (!this.#text) return;
		const text = this.#text;
		this.#text = "";
		this.#lastWrite = Date.now();
		this.written += text;
		this.write(text);
	}

	/** Drops buffered text (the answer was cancelled). */
	discard(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#text = "";
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
	const buffer = new TokenBuffer((text) => sink.token(text), request.tokenIntervalMs ?? DEFAULT_TOKEN_INTERVAL_MS);
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
					// A full buffer was just written: let the sockets send it before reading on (a burst would otherwise
					// reach subscribers only at its end).
					if (buffer.push(part.text)) await new Promise((resolve) => setTimeout(resolve, 0));
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
