/**
 * Mock language models for the chat tests (MockLanguageModelV4 from ai/test). The tests run in the same isolate as
 * the chat actors, so `setTestModel` hands a mock to them; only the model is mocked: storage, alarms and sockets are real.
 *
 * A `ControlledModel` streams what the test tells it to, when it tells it to. Its stream polls a plain array on a
 * short timer inside the actor, rather than being fed from the test: promises and streams must not cross between
 * the test's request context and the actor's.
 */
import type { LanguageModelV4CallOptions, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { simulateReadableStream } from "ai";
import { MockLanguageModelV4 } from "ai/test";

export const usage = {
	inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
	outputTokens: { total: 20, text: 20, reasoning: 0 },
};

export function textParts(deltas: readonly string[]): LanguageModelV4StreamPart[] {
	return [
		{ type: "stream-start", warnings: [] },
		{ type: "text-start", id: "t" },
		...deltas.map((delta): LanguageModelV4StreamPart => ({ type: "text-delta", id: "t", delta })),
		{ type: "text-end", id: "t" },
		{ type: "finish", usage, finishReason: { unified: "stop", raw: "stop" } },
	];
}

export function toolCallParts(calls: { id: string; name: string; input: unknown }[]): LanguageModelV4StreamPart[] {
	return [
		{ type: "stream-start", warnings: [] },
		...calls.map(
			(c): LanguageModelV4StreamPart => ({ type: "tool-call", toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) }),
		),
		{ type: "finish", usage, finishReason: { unified: "tool-calls", raw: "tool_calls" } },
	];
}

/** A model whose successive calls stream these parts, each delta on its own turn of the event loop (as over a network). */
export function scriptedModel(...calls: LanguageModelV4StreamPart[][]): MockLanguageModelV4 {
	let n = 0;
	return new MockLanguageModelV4({
		doStream: async () => {
			const chunks = calls[Math.min(n++, calls.length - 1)] ?? [];
			return { stream: simulateReadableStream({ chunks, chunkDelayInMs: 0 }) };
		},
	});
}

export const words = (count: number, prefix = "w") => Array.from({ length: count }, (_, i) => `${prefix}${i} `);

interface Call {
	parts: LanguageModelV4StreamPart[];
	closed: boolean;
	error?: unknown;
	options: LanguageModelV4CallOptions;
}

/** A model the test drives: each call's stream waits for `delta`, `finish` or `fail` from the test. */
export class ControlledModel {
	readonly calls: Call[] = [];
	readonly model: MockLanguageModelV4;

	constructor() {
		this.model = new MockLanguageModelV4({
			doStream: async (options) => {
				const call: Call = {
					parts: [
						{ type: "stream-start", warnings: [] },
						{ type: "text-start", id: "t" },
					],
					closed: false,
					options,
				};
				this.calls.push(call);
				const stream = new ReadableStream<LanguageModelV4StreamPart>({
					async pull(controller) {
						while (call.parts.length === 0 && !call.closed && !call.error && !options.abortSignal?.aborted) {
							await new Promise((resolve) => setTimeout(resolve, 2));
						}
						if (options.abortSignal?.aborted) return controller.close();
						const part = call.parts.shift();
						if (part) return controller.enqueue(part);
						if (call.error) return controller.error(call.error);
						controller.close();
					},
				});
				return { stream };
			},
		});
	}

	#current(): Call {
		const call = this.calls.at(-1);
		if (!call) throw new Error("the model has not been called yet");
		return call;
	}

	delta(text: string): void {
		this.#current().parts.push({ type: "text-delta", id: "t", delta: text });
	}

	finish(): void {
		const call = this.#current();
		call.parts.push({ type: "text-end", id: "t" }, { type: "finish", usage, finishReason: { unified: "stop", raw: "stop" } });
		call.closed = true;
	}

	fail(error: unknown): void {
		this.#current().error = error;
	}

	aborted(): boolean {
		return this.#current().options.abortSignal?.aborted ?? false;
	}

	async called(times = 1, timeoutMs = 5000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (this.calls.length < times) {
			if (Date.now() > deadline) throw new Error(`the model was called ${this.calls.length} times, not ${times}`);
			await new Promise((resolve) => setTimeout(resolve, 5));
		}
	}
}
