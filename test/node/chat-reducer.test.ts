/** The chat's pure parts: what its events mean, the running summary, the offline responder's choices, bounded tool results. */
import { describe, expect, it } from "vitest";
import { coalesceDeltas } from "../../src/ai/coalesce.ts";
import { foldSummary, MAX_SUMMARY_CHARS, promptMessages, summaryStep } from "../../src/ai/history.ts";
import { decideTurn, OFFLINE_LABEL, toolsFor } from "../../src/ai/offline.ts";
import { bounded, topPages } from "../../src/ai/tools.ts";
import { chatCatalog } from "../../src/events/chat.ts";
import type { ProposedEvent } from "../../src/events/envelope.ts";
import {
	type ChatMessage,
	type ChatProposal,
	type ChatState,
	chatDefinition,
	decideChat,
	MAX_QUEUE,
	operationStatus,
	startNext,
} from "../../src/reducers/chat.ts";
import { fold } from "../../src/reducers/definition.ts";
import { deciderSpec, recorded } from "../support/decider-spec.ts";

const spec = deciderSpec(chatDefinition, decideChat, { provider: { kind: "test", model: "mock" } });
let n = 0;
/** A chat event as the log would hold it; ids and times count up. */
const event = (proposal: Omit<ChatProposal, "id" | "ts">): ChatProposal => ({ id: `e${++n}`, ts: 1000 + n, ...proposal }) as ChatProposal;
const asked = (op: string, text = `question ${op}`) =>
	event({ type: "chat.user_message", data: { messageId: `m-${op}`, operationId: op, text } });
const started = (op: string) =>
	event({ type: "llm.started", data: { operationId: op, messageId: `m-${op}`, provider: "test", model: "mock" } });
const token = (op: string, index: number, text: string) => event({ type: "llm.token", data: { operationId: op, index, text } });
const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const replied = (op: string, text: string) =>
	event({
		type: "chat.assistant_message",
		data: { operationId: op, messageId: `${op}:reply`, text, usage, finishReason: "stop", steps: 1, tokens: 1 },
	});
const failed = (op: string, retrying: boolean, attempt = 1) =>
	event({ type: "llm.error", data: { operationId: op, reason: "model_error", message: "boom", transient: true, retrying, attempt } });
const cancelled = (op: string) => event({ type: "chat.cancelled", data: { operationId: op, tokens: 0 } });

/** Given these events, the state is their fold. */
const given = (...events: ProposedEvent[]): ChatState => spec.given(...events).state;
/** Given these events, the last one is refused: no log can hold them. */
const refuses = (...events: ProposedEvent[]) => expect(() => given(...events)).toThrow();

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
		const running = [asked("a"), started("a"), token("a", 0, "x")];
		refuses(...running, token("a", 2, "gap"));
		refuses(...running, token("a", 0, "repeat"));
		refuses(...running, token("b", 1, "other"));
		refuses(asked("a"), started("a"), replied("a", "done"), token("a", 1, "late"));
	});

	it("a second answer cannot start while one runs", () => {
		refuses(asked("a"), started("a"), asked("b"), started("b"));
	});

	it("a retrying error restarts the text and keeps counting indexes; a final one fails the operation", () => {
		const retriedLog = [asked("a"), started("a"), token("a", 0, "half"), failed("a", true)];
		expect(given(...retriedLog).operation).toMatchObject({ attempt: 2, text: "", tokens: 1 });
		const next = given(...retriedLog, token("a", 1, "whole"));
		expect(next.operation?.text).toBe("whole");
		const gaveUp = given(...retriedLog, token("a", 1, "whole"), failed("a", false, 2));
		expect(gaveUp.operation).toBeNull();
		expect(operationStatus(gaveUp, "a")).toBe("failed");
	});

	it("cancelling drops a queued message or ends the running answer", () => {
		const log = [asked("a"), started("a"), asked("b"), cancelled("b")];
		const state = given(...log);
		expect(state.queue).toEqual([]);
		expect(operationStatus(state, "b")).toBe("cancelled");
		const stopped = given(...log, cancelled("a"));
		expect(stopped.operation).toBeNull();
		refuses(...log, cancelled("a"), cancelled("a"));
	});

	it(`at most ${MAX_QUEUE} messages wait behind the running answer, whoever appends them`, () => {
		const waiting = Array.from({ length: MAX_QUEUE }, (_, i) => asked(`q${i}`));
		const full = given(asked("a"), started("a"), ...waiting);
		expect(full.queue).toHaveLength(MAX_QUEUE);
		refuses(asked("a"), started("a"), ...waiting, asked("one-too-many"));
		// Once one starts, there is room again.
		expect(given(asked("a"), started("a"), ...waiting, replied("a", "done"), started("q0")).queue).toHaveLength(MAX_QUEUE - 1);
	});

	it("the next queued answer starts from the head of the queue", () => {
		const state = given(asked("a"), started("a"), asked("b"), asked("c"));
		expect(startNext(state.queue, { kind: "test", model: "mock" }, 5).map((e) => [e.id, e.data])).toEqual([
			["b:started", { operationId: "b", messageId: "m-b", provider: "test", model: "mock" }],
		]);
	});
});

describe("decide", () => {
	const post = (op: string) => ({
		kind: "post_message" as const,
		messageId: `m-${op}`,
		operationId: op,
		text: `question ${op}`,
		clientActionId: `c-${op}`,
	});
	const startedAt = (op: string, ts: number) => ({
		id: `${op}:started`,
		type: "llm.started",
		ts,
		data: { operationId: op, messageId: `m-${op}`, provider: "test", model: "mock" },
		meta: { operationId: op },
	});

	it("a message to an idle chat starts its answer in the same batch; behind a running one it only queues", () => {
		const message = (op: string, ts: number) => ({
			id: `m-${op}`,
			type: "chat.user_message",
			ts,
			data: { messageId: `m-${op}`, operationId: op, text: `question ${op}`, clientActionId: `c-${op}` },
			meta: { operationId: op },
		});
		spec
			.given()
			.when(post("a"), { now: 50 })
			.thenDecides([message("a", 50), startedAt("a", 50)]);
		spec
			.given(asked("a"), started("a"))
			.when(post("b"), { now: 60 })
			.thenDecides([message("b", 60)]);
	});

	it(`a message beyond ${MAX_QUEUE} waiting ones is refused`, () => {
		const waiting = Array.from({ length: MAX_QUEUE }, (_, i) => asked(`q${i}`));
		spec
			.given(asked("a"), started("a"), ...waiting)
			.when(post("late"))
			.thenRefuses("rejected", /already waiting/);
	});

	it("cancelling the running answer ends it and starts the next; a queued one is only dropped; an unknown one is not found", () => {
		const log = [asked("a"), started("a"), token("a", 0, "x"), asked("b")];
		spec
			.given(...log)
			.when({ kind: "cancel", operationId: "a" }, { now: 70 })
			.thenDecides([{ id: "a:end", type: "chat.cancelled", ts: 70, data: { operationId: "a", tokens: 1 } }, startedAt("b", 70)]);
		spec
			.given(...log)
			.when({ kind: "cancel", operationId: "b" }, { now: 70 })
			.thenDecides([{ id: "b:end", type: "chat.cancelled", ts: 70, data: { operationId: "b", tokens: 0 } }]);
		spec
			.given(...log)
			.when({ kind: "cancel", operationId: "zz" })
			.thenRefuses("not_found");
	});

	it("tokens and tool calls take the next index of the running answer; for an ended answer nothing is decided", () => {
		const log = [asked("a"), started("a"), token("a", 0, "x")];
		spec
			.given(...log)
			.when({ kind: "token", operationId: "a", text: "y" }, { now: 80 })
			.thenDecides([{ id: "a:token:1", type: "llm.token", ts: 80, data: { operationId: "a", index: 1, text: "y" } }]);
		const call = {
			kind: "tool_called" as const,
			operationId: "a",
			step: 0,
			toolCallId: "t1",
			toolName: "get_patterns",
			input: { period: "daily" },
		};
		spec
			.given(...log)
			.when(call, { now: 80 })
			.thenDecides([
				{
					id: "a:call:0",
					type: "llm.tool_called",
					ts: 80,
					data: { operationId: "a", call: 0, step: 0, toolCallId: "t1", toolName: "get_patterns", input: { period: "daily" } },
				},
			]);
		spec
			.given(...log, replied("a", "x"))
			.when({ kind: "token", operationId: "a", text: "late" })
			.thenDecides([]);
	});

	it("completing records the reply with the answer's text, folds what exceeds the window, and starts the next answer", () => {
		const log = [asked("a"), started("a"), token("a", 0, "Hel"), token("a", 1, "lo"), asked("b")];
		const complete = { kind: "complete" as const, operationId: "a", usage, finishReason: "stop", steps: 1, keep: 1 };
		const decided = spec
			.given(...log)
			.when(complete, { now: 90 })
			.decided();
		if (!("events" in decided)) throw new Error("expected events");
		expect(decided.events.map((e) => e.type)).toEqual(["chat.assistant_message", "chat.summarized", "llm.started"]);
		expect(decided.events[0]).toMatchObject({ id: "a:end", data: { text: "Hello", tokens: 2, messageId: "a:reply" } });
		expect(decided.state.window.map((m) => m.text)).toEqual(["Hello", "question b"]);
		expect(decided.state.operation?.operationId).toBe("b");
	});

	it("a failure ends the answer with its attempt; a retry keeps it running", () => {
		const log = [asked("a"), started("a"), failed("a", true)];
		const fail = { kind: "fail" as const, operationId: "a", reason: "model_error" as const, message: "down", transient: false };
		spec
			.given(...log)
			.when(fail, { now: 99 })
			.thenDecides([
				{
					id: "a:end",
					type: "llm.error",
					ts: 99,
					data: { operationId: "a", reason: "model_error", message: "down", transient: false, retrying: false, attempt: 2 },
				},
			]);
		const retried = spec.given(asked("a"), started("a")).when({ kind: "retry", operationId: "a", message: "busy", attempt: 1 }).decided();
		expect(retried).toMatchObject({ events: [{ id: "a:error:1", data: { retrying: true } }], state: { operation: { attempt: 2 } } });
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
		const summarized = event({ type: "chat.summarized", data: step ?? { dropped: 1, summary: "" } });
		const after = fold(chatDefinition, recorded(chatCatalog, [summarized]), state);
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

	it("answers which pages were visited most this week from get_top_pages: the last 7 daily rollups' top pages summed", () => {
		const question = "Which pages were visited most this week?";
		expect(toolsFor(question)).toEqual([
			{ toolName: "get_top_pages", input: { days: 7 } },
			{ toolName: "search_sessions", input: {} },
		]);
		expect(toolsFor("What were the top pages this month?")[0]).toEqual({ toolName: "get_top_pages", input: { days: 30 } });
		const day = (label: string, topPages: { path: string; visits: number }[]) => ({ label, metrics: { web: { topPages } } });
		// The tool's result: daily rollups newest first, as the org lists them.
		const result = topPages({
			rollups: [
				day("2026-12-04", [
					{ path: "/p/trail-runner-gtx", visits: 8 },
					{ path: "/", visits: 4 },
				]),
				day("2026-12-03", [
					{ path: "/p/trail-runner-gtx", visits: 13 },
					{ path: "/cart", visits: 5 },
				]),
			],
		});
		expect(result).toEqual({
			days: 2,
			from: "2026-12-03",
			to: "2026-12-04",
			pages: [
				{ path: "/p/trail-runner-gtx", visits: 21 },
				{ path: "/cart", visits: 5 },
				{ path: "/", visits: 4 },
			],
		});
		const turn = decideTurn({
			prompt: [
				{ role: "user", content: [{ type: "text", text: question }] },
				{
					role: "tool",
					content: [{ type: "tool-result", toolCallId: "1", toolName: "get_top_pages", output: { type: "json", value: result } }],
				},
			],
			tools: [...tools, { type: "function" as const, name: "get_top_pages", inputSchema: {} }],
		});
		const text = turn.kind === "text" ? turn.text : "";
		expect(text).toContain(
			"Most visited pages in the 2 days from 2026-12-03 to 2026-12-04: /p/trail-runner-gtx (21 visits), /cart (5 visits), / (4 visits).",
		);
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
