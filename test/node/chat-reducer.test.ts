/** The chat's pure parts: what its events mean, the running summary, the offline responder's choices, bounded tool results. */
import { describe, expect, it } from "vitest";
import { coalesceDeltas } from "../../src/ai/coalesce.ts";
import { foldSummary, MAX_SUMMARY_CHARS, promptMessages, summaryStep } from "../../src/ai/history.ts";
import { decideTurn, OFFLINE_LABEL, toolsFor } from "../../src/ai/offline.ts";
import { bounded } from "../../src/ai/tools.ts";
import { chatCatalog } from "../../src/events/chat.ts";
import type { RecordedEvent } from "../../src/events/envelope.ts";
import { type ChatMessage, type ChatState, chatDefinition, MAX_QUEUE, operationStatus, startNext } from "../../src/reducers/chat.ts";
import { fold } from "../../src/reducers/definition.ts";

let seq = 0;
const recorded = (type: string, data: unknown, ts = 1000 + seq): RecordedEvent => {
	const checked = chatCatalog.validate(type, data);
	if (!checked.ok) throw new Error(`${type}: ${JSON.stringify(checked.errors)}`);
	return { seq: ++seq, id: `e${seq}`, type, v: 1, ts, data: checked.data, meta: {} };
};
const asked = (op: string, text = `question ${op}`) => recorded("chat.user_message", { messageId: `m-${op}`, operationId: op, text });
const started = (op: string) => recorded("llm.started", { operationId: op, messageId: `m-${op}`, provider: "test", model: "mock" });
const token = (op: string, index: number, text: string) => recorded("llm.token", { operationId: op, index, text });
const replied = (op: string, text: string) =>
	recorded("chat.assistant_message", {
		operationId: op,
		messageId: `${op}:reply`,
		text,
		usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
		finishReason: "stop",
		steps: 1,
		tokens: 1,
	});
const failed = (op: string, retrying: boolean, attempt = 1) =>
	recorded("llm.error", { operationId: op, reason: "model_error", message: "boom", transient: true, retrying, attempt });

/** Given these events, the state is their fold. */
const given = (...events: RecordedEvent[]): ChatState => fold(chatDefinition, events);
const refuses = (state: ChatState, event: RecordedEvent) => expect(() => chatDefinition.evolve(state, event)).toThrow();

describe("an answer's life", () => {
	it("a message waits in the queue until its answer starts, then joins the window", () => {
		const queued = given(asked("a"));
		expect(queued.queue.map((q) => q.operationId)).toEqual(["a"]);
		expect(operationStatus(queued, "a")).toBe("queued");
		const running = given(asked("a"), started("a"));
		expect(running.queue).toEqual([]);
		expect(running.window.map((m) => [m.role, m.text])).toEqual([["user", "question a"]]);
		expect(running.operation).toMatchObject({ operationId: "a", tokens: 0, text: "", attempt: 1 });
	});

	it("tokens build the text in index order; the reply closes the operation and joins the window", () => {
		const state = given(asked("a"), started("a"), token("a", 0, "Hel"), token("a", 1, "lo"), replied("a", "Hello"));
		expect(state.operation).toBeNull();
		expect(state.window.map((m) => m.text)).toEqual(["question a", "Hello"]);
		expect(state.recent).toEqual([expect.objectContaining({ operationId: "a", status: "completed" })]);
		expect(state.usage).toEqual({ inputTokens: 3, outputTokens: 4 });
		expect(state.messages).toBe(2);
	});

	it("a token out of order, or for an answer that is not running, is refused", () => {
		const running = given(asked("a"), started("a"), token("a", 0, "x"));
		refuses(running, token("a", 2, "gap"));
		refuses(running, token("a", 0, "repeat"));
		refuses(running, token("b", 1, "other"));
		refuses(given(asked("a"), started("a"), replied("a", "done")), token("a", 1, "late"));
	});

	it("a second answer cannot start while one runs", () => {
		refuses(given(asked("a"), started("a"), asked("b")), started("b"));
	});

	it("a retrying error restarts the text and keeps counting indexes; a final one fails the operation", () => {
		const retried = given(asked("a"), started("a"), token("a", 0, "half"), failed("a", true));
		expect(retried.operation).toMatchObject({ attempt: 2, text: "", tokens: 1 });
		const next = chatDefinition.evolve(retried, token("a", 1, "whole"));
		expect(next.operation?.text).toBe("whole");
		const gaveUp = chatDefinition.evolve(next, failed("a", false, 2));
		expect(gaveUp.operation).toBeNull();
		expect(operationStatus(gaveUp, "a")).toBe("failed");
	});

	it("cancelling drops a queued message or ends the running answer", () => {
		const state = given(asked("a"), started("a"), asked("b"), recorded("chat.cancelled", { operationId: "b", tokens: 0 }));
		expect(state.queue).toEqual([]);
		expect(operationStatus(state, "b")).toBe("cancelled");
		const stopped = chatDefinition.evolve(state, recorded("chat.cancelled", { operationId: "a", tokens: 0 }));
		expect(stopped.operation).toBeNull();
		refuses(stopped, recorded("chat.cancelled", { operationId: "a", tokens: 0 }));
	});

	it(`at most ${MAX_QUEUE} messages wait behind the running answer, whoever appends them`, () => {
		const waiting = Array.from({ length: MAX_QUEUE }, (_, i) => asked(`q${i}`));
		const full = given(asked("a"), started("a"), ...waiting);
		expect(full.queue).toHaveLength(MAX_QUEUE);
		refuses(full, asked("one-too-many"));
		// Once one starts, there is room again.
		expect(chatDefinition.evolve(chatDefinition.evolve(full, replied("a", "done")), started("q0")).queue).toHaveLength(MAX_QUEUE - 1);
	});

	it("the next queued answer starts from the head of the queue", () => {
		const state = given(asked("a"), started("a"), asked("b"), asked("c"));
		expect(startNext(state.queue, { kind: "test", model: "mock" }, 5).map((e) => [e.id, e.data])).toEqual([
			["b:started", { operationId: "b", messageId: "m-b", provider: "test", model: "mock" }],
		]);
	});
});

describe("history and summary", () => {
	const message = (i: number): ChatMessage => ({
		role: i % 2 ? "assistant" : "user",
		messageId: `m${i}`,
		operationId: `o${i}`,
		text: `Message ${i} opens here. Then goes on at length.`,
		ts: Date.UTC(2026, 10, 20, 12, i),
		seq: i + 1,
	});

	it("folding keeps each message's opening sentence, with who said it and when", () => {
		expect(foldSummary(null, [message(0), message(1)])).toBe(
			"- user at 2026-11-20T12:00Z: Message 0 opens here.\n- assistant at 2026-11-20T12:01Z: Message 1 opens here.",
		);
	});

	it("a summary that grows too long gives up its oldest lines and says how many", () => {
		let summary: string | null = null;
		for (let i = 0; i < 200; i++) summary = foldSummary(summary, [message(i)]);
		expect(summary?.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS + 40);
		expect(summary).toMatch(/^\(\d+ older messages omitted\)\n/);
		expect(summary).toContain("Message 199 opens here.");
	});

	it("a summary step folds exactly what exceeds the window, and the reducer drops it", () => {
		const window = Array.from({ length: 7 }, (_, i) => message(i));
		expect(summaryStep(window, null, 7)).toBeNull();
		const step = summaryStep(window, null, 4);
		expect(step?.dropped).toBe(3);
		const state: ChatState = { ...chatDefinition.initialState(), window };
		const after = chatDefinition.evolve(state, recorded("chat.summarized", step));
		expect(after.window.map((m) => m.messageId)).toEqual(["m3", "m4", "m5", "m6"]);
		expect(after.summary).toBe(step?.summary);
	});

	it("the model sees at most the last N messages, ending with the question", () => {
		const window = Array.from({ length: 5 }, (_, i) => message(i));
		expect(promptMessages(window, 3).map((m) => m.content)).toEqual(window.slice(2).map((m) => m.text));
	});
});

describe("the offline responder", () => {
	it("picks the tools a question names, and a default pair otherwise", () => {
		expect(toolsFor("Any patterns this month?")).toEqual([{ toolName: "get_patterns", input: { period: "monthly" } }]);
		expect(toolsFor("Which visits did user u-7 make to /shoes?")).toEqual([
			{ toolName: "search_sessions", input: { userId: "u-7", page: "/shoes" } },
		]);
		expect(toolsFor("What did I ask earlier?")).toEqual([{ toolName: "get_chat_history", input: { limit: 10 } }]);
		expect(toolsFor("Hello").map((c) => c.toolName)).toEqual(["get_interactions", "get_patterns"]);
	});

	const tools = ["get_interactions", "get_patterns", "search_sessions", "get_chat_history"].map((name) => ({
		type: "function" as const,
		name,
		inputSchema: {},
	}));

	it("calls tools first, then answers from their results, labelled", () => {
		const question = { role: "user" as const, content: [{ type: "text" as const, text: "Anything recent?" }] };
		expect(decideTurn({ prompt: [question], tools })).toEqual({
			kind: "tools",
			calls: [{ toolName: "get_interactions", input: { limit: 20 } }],
		});
		const turn = decideTurn({
			prompt: [
				question,
				{
					role: "tool",
					content: [
						{
							type: "tool-result",
							toolCallId: "1",
							toolName: "get_interactions",
							output: {
								type: "json",
								value: {
									interactions: [{ id: "i1", source: "web", actor: { kind: "session", id: "s9" }, endedAt: Date.UTC(2026, 10, 20) }],
									next: null,
								},
							},
						},
					],
				},
			],
			tools,
		});
		expect(turn.kind).toBe("text");
		const text = turn.kind === "text" ? turn.text : "";
		expect(text.startsWith(OFFLINE_LABEL)).toBe(true);
		expect(text).toContain("Interactions on this page: 1 (1 web). The last one, session s9, ended at 2026-11-20T00:00:00Z.");
	});

	it("answers at once when it has no tools", () => {
		const turn = decideTurn({ prompt: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] });
		expect(turn).toMatchObject({ kind: "text", text: expect.stringContaining("No tool was available") });
	});
});

describe("tool results", () => {
	it("a result over the limit is cut down to fit, and says so", () => {
		const big = { interactions: Array.from({ length: 500 }, (_, i) => ({ id: `i${i}`, summary: "x".repeat(100) })), next: 500 };
		const cut = bounded(big, 6000) as { interactions: unknown[]; truncated: boolean; next: number };
		expect(JSON.stringify(cut).length).toBeLessThanOrEqual(6000);
		expect(cut.truncated).toBe(true);
		expect(cut.next).toBe(500);
		expect(cut.interactions.length).toBeGreaterThan(10);
	});

	it("a small result is left as it is, as plain JSON", () => {
		expect(bounded({ a: [1, 2] })).toEqual({ a: [1, 2] });
		expect(bounded({ a: undefined, b: 1 })).toStrictEqual({ b: 1 });
		expect(bounded(undefined)).toBeNull();
	});
});

describe("coalescing a model's stream", () => {
	type Part = import("@ai-sdk/provider").LanguageModelV4StreamPart;
	const deltaPart = (i: number): Part => ({ type: "text-delta", id: "t", delta: `d${i} ` });
	const drain = async (stream: ReadableStream<Part>) => {
		const out: Part[] = [];
		for await (const part of stream as unknown as AsyncIterable<Part>) out.push(part);
		return out;
	};
	const textOf = (parts: Part[]) => parts.map((p) => (p.type === "text-delta" ? p.delta : "")).join("");

	it("a burst of queued deltas goes through as few parts, in order, with other parts kept between", async () => {
		const parts: Part[] = [
			...Array.from({ length: 150 }, (_, i) => deltaPart(i)),
			{ type: "tool-call", toolCallId: "c", toolName: "x", input: "{}" },
			...Array.from({ length: 10 }, (_, i) => deltaPart(150 + i)),
		];
		const source = new ReadableStream<Part>({
			start(controller) {
				for (const part of parts) controller.enqueue(part);
				controller.close();
			},
		});
		const out = await drain(coalesceDeltas(source, 64));
		expect(out.map((p) => p.type)).toEqual(["text-delta", "text-delta", "text-delta", "tool-call", "text-delta"]);
		expect(textOf(out)).toBe(textOf(parts));
	});

	it("deltas that arrive one per turn of the event loop pass one by one", async () => {
		let i = 0;
		const source = new ReadableStream<Part>({
			async pull(controller) {
				await new Promise((resolve) => setTimeout(resolve, 5));
				if (i === 5) controller.close();
				else controller.enqueue(deltaPart(i++));
			},
		});
		const out = await drain(coalesceDeltas(source));
		expect(out.map((p) => (p.type === "text-delta" ? p.delta : p.type))).toEqual(["d0 ", "d1 ", "d2 ", "d3 ", "d4 "]);
	});
});
