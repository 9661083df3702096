/**
 * The provider choice, and each real provider wired end to end against a stand-in: a fake Workers AI binding, and a
 * fake OpenAI-compatible endpoint behind a stubbed fetch. Nothing leaves the process.
 */
import { streamText } from "ai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { errorMessage, isTransient, streamAnswer } from "../../src/ai/answer.ts";
import { chooseModel, DEFAULT_WORKERS_AI_MODEL } from "../../src/ai/provider.ts";

const encoder = new TextEncoder();
const sse = (events: unknown[]) =>
	new ReadableStream<Uint8Array>({
		start(controller) {
			for (const event of events)
				controller.enqueue(encoder.encode(`data: ${typeof event === "string" ? event : JSON.stringify(event)}\n\n`));
			controller.close();
		},
	});

/** A Workers AI binding that streams `words` and records what it was asked. */
function fakeAi(words: string[]) {
	const calls: { model: string; inputs: Record<string, unknown> }[] = [];
	const binding = {
		run: async (model: string, inputs: Record<string, unknown>) => {
			calls.push({ model, inputs });
			return sse([...words.map((response) => ({ response })), "[DONE]"]);
		},
	};
	return { binding: binding as unknown as Ai, calls };
}

afterEach(() => {
	vi.unstubAllGlobals();
	vi.restoreAllMocks();
});

describe("choosing a model", () => {
	const binding = fakeAi([]).binding;

	it("auto: an OpenAI-compatible URL first, then the AI binding, then the offline responder", () => {
		expect(chooseModel({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", AI: binding })).toMatchObject({
			kind: "openai-compatible",
			modelId: "llama3.2",
		});
		expect(chooseModel({ AI: binding })).toMatchObject({ kind: "workers-ai", modelId: DEFAULT_WORKERS_AI_MODEL });
		expect(chooseModel({})).toMatchObject({ kind: "offline", label: expect.stringContaining("offline") });
		expect(chooseModel({ AI_PROVIDER: "auto", WORKERS_AI_MODEL: "@cf/other/model", AI: binding }).modelId).toBe("@cf/other/model");
	});

	it("an explicit choice wins; one that is not configured falls back to the offline responder", () => {
		vi.spyOn(console, "warn").mockImplementation(() => {});
		expect(chooseModel({ AI_PROVIDER: "offline", AI: binding, OPENAI_BASE_URL: "http://x/v1" }).kind).toBe("offline");
		expect(chooseModel({ AI_PROVIDER: "workers-ai", AI: binding, OPENAI_BASE_URL: "http://x/v1" }).kind).toBe("workers-ai");
		expect(chooseModel({ AI_PROVIDER: "workers-ai" }).kind).toBe("offline");
		expect(chooseModel({ AI_PROVIDER: "openai-compatible" }).kind).toBe("offline");
		expect(chooseModel({ AI_PROVIDER: "openai-compatible", OPENAI_BASE_URL: "http://x/v1", OPENAI_MODEL: "qwen3" })).toMatchObject({
			kind: "openai-compatible",
			modelId: "qwen3",
		});
	});
});

describe("Workers AI through its binding", () => {
	it("streams the model's text and asks for the configured model with max_tokens raised from its default of 256", async () => {
		const ai = fakeAi(["Hello", " from", " Workers AI"]);
		const { model } = chooseModel({ AI: ai.binding });
		const tokens: string[] = [];
		const outcome = await streamAnswer(
			{ model, instructions: "Be brief.", messages: [{ role: "user", content: "Hi" }], tools: {}, signal: new AbortController().signal },
			{ token: (text) => tokens.push(text), toolCalled: () => {}, toolResult: () => {} },
		);
		expect(outcome).toMatchObject({ kind: "done", text: "Hello from Workers AI" });
		expect(tokens.join("")).toBe("Hello from Workers AI");
		expect(ai.calls[0]?.model).toBe(DEFAULT_WORKERS_AI_MODEL);
		expect(ai.calls[0]?.inputs).toMatchObject({ max_tokens: 1024, stream: true });
	});

	it("a capacity error from the binding counts as transient", async () => {
		const binding = {
			run: async () => {
				throw new Error("3040: Capacity temporarily exceeded, please try again.");
			},
		} as unknown as Ai;
		const outcome = await streamAnswer(
			{
				model: chooseModel({ AI: binding }).model,
				instructions: "",
				messages: [{ role: "user", content: "Hi" }],
				tools: {},
				signal: new AbortController().signal,
			},
			{ token: () => {}, toolCalled: () => {}, toolResult: () => {} },
		);
		expect(outcome).toMatchObject({ kind: "failed", transient: true });
	});
});

describe("an OpenAI-compatible endpoint", () => {
	it("streams chat completions from OPENAI_BASE_URL with the key and model configured", async () => {
		const requests: { url: string; body: Record<string, unknown>; auth: string | null }[] = [];
		vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
			const url = String(input instanceof Request ? input.url : input);
			requests.push({ url, body: JSON.parse(String(init?.body)), auth: new Headers(init?.headers).get("authorization") });
			const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
				id: "c1",
				object: "chat.completion.chunk",
				created: 1,
				model: "llama3.2",
				choices: [{ index: 0, delta, finish_reason: finish }],
			});
			const body = sse([
				chunk({ role: "assistant", content: "Local " }),
				chunk({ content: "answer" }),
				{ ...chunk({}, "stop"), usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
				"[DONE]",
			]);
			return new Response(body, { headers: { "content-type": "text/event-stream" } });
		});
		const { model, kind } = chooseModel({
			OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
			OPENAI_API_KEY: "sk-local",
			OPENAI_MODEL: "llama3.2",
		});
		expect(kind).toBe("openai-compatible");
		const result = streamText({ model, prompt: "Hi", maxOutputTokens: 1024, maxRetries: 0 });
		expect(await result.text).toBe("Local answer");
		expect((await result.totalUsage).outputTokens).toBe(2);
		expect(requests[0]).toMatchObject({
			url: "http://127.0.0.1:11434/v1/chat/completions",
			auth: "Bearer sk-local",
			body: { model: "llama3.2", stream: true, max_tokens: 1024 },
		});
	});
});

describe("errors", () => {
	it("rate limits, overload, 5xx and dropped connections are transient; bad requests are not", () => {
		expect(isTransient(new Error("fetch failed"))).toBe(true);
		expect(isTransient(new Error("Request timed out"))).toBe(true);
		expect(isTransient(new Error("upstream returned 503"))).toBe(true);
		expect(isTransient(new Error("Invalid tool schema"))).toBe(false);
		expect(errorMessage("x".repeat(5000))).toHaveLength(2000);
	});
});
