/**
 * How streamAnswer turns a model's text deltas into tokens (each one an llm.token event in a chat): the first at once,
 * later ones sharing a token within the interval, and a burst cut into tokens of MAX_TOKEN_CHARS. Only the model is
 * mocked (MockLanguageModelV4); the interval is set far longer than the test, so nothing depends on how fast it runs.
 */
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { simulateReadableStream } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { MAX_TOKEN_CHARS, streamAnswer } from "../../src/ai/answer.ts";
import { withCoalescedDeltas } from "../../src/ai/coalesce.ts";

type Part = LanguageModelV4StreamPart;

const usage = {
	inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
	outputTokens: { total: 20, text: 20, reasoning: 0 },
};
const start: Part[] = [
	{ type: "stream-start", warnings: [] },
	{ type: "text-start", id: "t" },
];
const end: Part[] = [
	{ type: "text-end", id: "t" },
	{ type: "finish", usage, finishReason: { unified: "stop", raw: "stop" } },
];
const delta = (text: string): Part => ({ type: "text-delta", id: "t", delta: text });

/** Longer than any test runs: a token written before the stream ends was not waiting for the interval. */
const LONG_INTERVAL_MS = 60_000;

function answer(stream: ReadableStream<Part>, onToken: (text: string) => void = () => {}) {
	const tokens: string[] = [];
	const model = withCoalescedDeltas(new MockLanguageModelV4({ doStream: async () => ({ stream }) }));
	const outcome = streamAnswer(
		{
			model,
			instructions: "",
			messages: [{ role: "user", content: "Hi" }],
			tools: {},
			signal: new AbortController().signal,
			tokenIntervalMs: LONG_INTERVAL_MS,
		},
		{
			token: (text) => {
				tokens.push(text);
				onToken(text);
			},
			toolCalled: () => {},
			toolResult: () => {},
		},
	);
	return { tokens, outcome };
}

describe("tokens of an answer", () => {
	it("the first delta is written at once; deltas within the interval after it share one token, written when the answer ends", async () => {
		let controller!: ReadableStreamDefaultController<Part>;
		const stream = new ReadableStream<Part>({
			start(c) {
				controller = c;
				for (const part of start) c.enqueue(part);
			},
		});
		let firstWritten!: () => void;
		const first = new Promise<void>((resolve) => {
			firstWritten = resolve;
		});
		const { tokens, outcome } = answer(stream, () => firstWritten());
		controller.enqueue(delta("Hello"));
		await first;
		expect(tokens).toEqual(["Hello"]);
		controller.enqueue(delta(" wide"));
		await new Promise((resolve) => setTimeout(resolve, 20));
		controller.enqueue(delta(" world"));
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(tokens).toEqual(["Hello"]);
		for (const part of end) controller.enqueue(part);
		controller.close();
		expect(await outcome).toMatchObject({ kind: "done", text: "Hello wide world" });
		expect(tokens).toEqual(["Hello", " wide world"]);
	});

	it("a burst is written as soon as MAX_TOKEN_CHARS of it are waiting, and the tokens join to the answer", async () => {
		const deltas = Array.from({ length: 2000 }, (_, i) => `t${i % 1000} `);
		const { tokens, outcome } = answer(simulateReadableStream({ chunks: [...start, ...deltas.map(delta), ...end], chunkDelayInMs: null }));
		const text = deltas.join("");
		expect(await outcome).toMatchObject({ kind: "done", text });
		expect(tokens.join("")).toBe(text);
		// The first token is what arrived before the next turn of the event loop, the last what was left at the end;
		// every one in between was written when it reached MAX_TOKEN_CHARS.
		for (const token of tokens.slice(1, -1)) expect(token.length).toBeGreaterThanOrEqual(MAX_TOKEN_CHARS);
		expect(tokens.length).toBeLessThanOrEqual(Math.ceil(text.length / MAX_TOKEN_CHARS) + 2);
	});
});
