/**
 * Chat answers end to end: HTTP in, a real chat actor (storage, sockets, restarts), a mock model streaming out.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { APICallError } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { afterEach, describe, expect, it } from "vitest";
import { OFFLINE_LABEL } from "../../src/ai/offline.ts";
import { setTestModel } from "../../src/ai/provider.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import type { ChatState } from "../../src/reducers/chat.ts";
import { ControlledModel, scriptedModel, textParts, toolCallParts, words } from "./chat-models.ts";
import { allEvents, call, expectProblem, getJson, Subscriber, uniqueId } from "./helpers.ts";

const ORG = "acme-chat";
const chatPath = (chat: string) => `/v1/orgs/${ORG}/chats/${chat}`;

afterEach(() => setTestModel(null));

async function post(chat: string, text: string, clientActionId = uniqueId("m")) {
	const res = await call(`${chatPath(chat)}/messages`, { method: "POST", body: JSON.stringify({ text, clientActionId }) });
	expect(res.status, await res.clone().text()).toBe(202);
	return res.json<{ messageId: string; operationId: string; version: number; queued: boolean }>();
}

async function cancel(chat: string, operationId: string) {
	return call(`${chatPath(chat)}/cancel`, { method: "POST", body: JSON.stringify({ operationId }) });
}

const ended = (operationId: string) => (s: Subscriber) =>
	s
		.events()
		.some(
			(e) =>
				e.id === `${operationId}:end` ||
				(e.type === "llm.error" &&
					(e.data as { operationId: string }).operationId === operationId &&
					!(e.data as { retrying: boolean }).retrying),
		);

const tokensOf = (events: EventEnvelope[], operationId: string) =>
	events
		.filter((e) => e.type === "llm.token" && (e.data as { operationId: string }).operationId === operationId)
		.map((e) => e.data as { index: number; text: string });

const ofOperation = (events: EventEnvelope[], operationId: string) =>
	events.filter((e) => (e.data as { operationId?: string }).operationId === operationId);

async function state(chat: string): Promise<ChatState> {
	return (await getJson<{ state: ChatState }>(`${chatPath(chat)}/state`)).state;
}

describe("a chat answer", () => {
	it("streams tokens in order with gap-free indexes from 0, and ends with the full text and usage", async () => {
		const deltas = words(40);
		setTestModel(scriptedModel(textParts(deltas)));
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const accepted = await post(chat, "Say forty words");
		expect(accepted).toMatchObject({ messageId: expect.any(String), operationId: expect.any(String), queued: false, version: 2 });
		await sub.until(ended(accepted.operationId));

		const events = sub.events();
		expect(events.slice(0, 2).map((e) => e.type)).toEqual(["chat.user_message", "llm.started"]);
		expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
		const tokens = tokensOf(events, accepted.operationId);
		expect(tokens.map((t) => t.index)).toEqual(tokens.map((_, i) => i));
		expect(tokens.map((t) => t.text).join("")).toBe(deltas.join(""));
		const last = events.at(-1);
		expect(last?.type).toBe("chat.assistant_message");
		expect(last?.data).toMatchObject({
			operationId: accepted.operationId,
			text: deltas.join(""),
			usage: { inputTokens: 10, outputTokens: 20, totalTokens: 30 },
			finishReason: "stop",
			steps: 1,
			tokens: tokens.length,
		});
		for (const event of events) expect(event.meta.operationId).toBe(accepted.operationId);
		expect(events.find((e) => e.type === "llm.started")?.data).toMatchObject({ provider: "test", messageId: accepted.messageId });
		const after = await state(chat);
		expect(after.operation).toBeNull();
		expect(after.window.map((m) => m.role)).toEqual(["user", "assistant"]);
		expect(after.recent).toEqual([expect.objectContaining({ operationId: accepted.operationId, status: "completed" })]);
		sub.close();
		expect((await getJson<{ ok: boolean }>(`${chatPath(chat)}/verify`)).ok).toBe(true);
	});

	it("a repeated clientActionId returns the first answer's ids and appends nothing", async () => {
		setTestModel(scriptedModel(textParts(["once"])));
		const chat = uniqueId("c");
		const first = await post(chat, "hello", "same-action");
		const again = await post(chat, "hello", "same-action");
		expect(again).toEqual(first);
		const events = await allEvents(chatPath(chat));
		expect(events.filter((e) => e.type === "chat.user_message")).toHaveLength(1);
	});

	it("records each tool call and result, and stops a model that keeps calling tools after 5 steps", async () => {
		const model = scriptedModel(toolCallParts([{ id: "c", name: "get_chat_history", input: { limit: 5 } }]));
		setTestModel(model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Keep calling tools");
		await sub.until(ended(operationId));

		expect(model.doStreamCalls).toHaveLength(5);
		const events = sub.events();
		const called = events
			.filter((e) => e.type === "llm.tool_called")
			.map((e) => e.data as { call: number; step: number; toolName: string });
		const results = events
			.filter((e) => e.type === "llm.tool_result")
			.map((e) => e.data as { call: number; output: { messages: unknown[] } });
		expect(called.map((c) => c.call)).toEqual([0, 1, 2, 3, 4]);
		expect(called.map((c) => c.step)).toEqual([0, 1, 2, 3, 4]);
		expect(called.every((c) => c.toolName === "get_chat_history")).toBe(true);
		expect(results.map((r) => r.call)).toEqual([0, 1, 2, 3, 4]);
		expect(results[0]?.output.messages).toEqual([expect.objectContaining({ role: "user", text: "Keep calling tools" })]);
		// Each call is followed by its result before the next step's call.
		expect(events.filter((e) => e.type.startsWith("llm.tool")).map((e) => e.type)).toEqual(
			Array.from({ length: 10 }, (_, i) => (i % 2 ? "llm.tool_result" : "llm.tool_called")),
		);
		const reply = events.at(-1);
		expect(reply?.type).toBe("chat.assistant_message");
		expect(reply?.data).toMatchObject({ steps: 5, finishReason: "tool-calls" });
		expect((reply?.data as { text?: string } | undefined)?.text).toContain("did not get to an answer");
		sub.close();
	});

	it("tools read the org's interactions and patterns through the org actor", async () => {
		const org = env.ORG.getByName(actorName(ORG, ORG));
		await call(`/v1/orgs/${ORG}`); // seeds the fixture org
		const interaction = {
			id: uniqueId("session:s1:visit"),
			source: "web",
			actor: { kind: "session", id: "s1" },
			startedAt: 1_800_000_000_000,
			endedAt: 1_800_000_600_000,
			summary: { visit: 1, pageViews: 3, pages: ["/", "/shoes"], userId: "u-42" },
		};
		const received = await org.receive({
			id: `${interaction.id}>org`,
			from: { kind: "session", org: ORG, id: "s1" },
			type: "interaction",
			data: interaction,
			meta: {},
		});
		expect(received.ok).toBe(true);
		const model = scriptedModel(
			toolCallParts([
				{ id: "a", name: "get_interactions", input: { limit: 50 } },
				{ id: "b", name: "get_patterns", input: { period: "daily" } },
				{ id: "c", name: "search_sessions", input: { userId: "u-42" } },
				{ id: "d", name: "get_top_pages", input: { days: 7 } },
			]),
			textParts(["Found ", "them."]),
		);
		setTestModel(model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "What do we know?");
		await sub.until(ended(operationId));
		const results = Object.fromEntries(
			sub
				.events()
				.filter((e) => e.type === "llm.tool_result")
				.map((e) => [(e.data as { toolName: string }).toolName, e.data as { output: Record<string, unknown>; error?: string }]),
		);
		expect(results.get_interactions?.output.interactions).toEqual(
			expect.arrayContaining([expect.objectContaining({ id: interaction.id })]),
		);
		expect(results.get_patterns?.error).toBeUndefined();
		expect(results.get_patterns?.output).toMatchObject({ period: "daily", rollups: expect.any(Array), patterns: expect.any(Array) });
		expect(results.search_sessions?.output.sessions).toEqual([expect.objectContaining({ session: "s1", interactionId: interaction.id })]);
		// No daily rollup yet: no days and no pages, but an answer, not an error.
		expect(results.get_top_pages?.error).toBeUndefined();
		expect(results.get_top_pages?.output).toEqual({ days: 0, from: null, to: null, pages: [] });
		// The second step saw the tool results.
		const secondPrompt = JSON.stringify(model.doStreamCalls[1]?.prompt);
		expect(secondPrompt).toContain(interaction.id);
		expect(sub.events().at(-1)?.data).toMatchObject({ text: "Found them.", steps: 2 });
		sub.close();
	});

	it("a tool that fails is recorded as a tool result with its error, and the model goes on", async () => {
		setTestModel(
			scriptedModel(toolCallParts([{ id: "x", name: "search_sessions", input: { from: "not a date" } }]), textParts(["Sorry."])),
		);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Visits since whenever?");
		await sub.until(ended(operationId));
		const result = sub.events().find((e) => e.type === "llm.tool_result");
		expect(result?.data).toMatchObject({
			toolName: "search_sessions",
			output: null,
			error: expect.stringContaining("not an ISO 8601 date"),
		});
		expect(sub.events().at(-1)?.data).toMatchObject({ text: "Sorry." });
		sub.close();
	});
});

describe("cancellation", () => {
	it("cancel mid-stream stops the model, appends chat.cancelled, and nothing of the answer after it", async () => {
		const model = new ControlledModel();
		setTestModel(model.model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Talk for a long time");
		await model.called();
		for (const word of ["one ", "two ", "three "]) {
			model.delta(word);
			const before = tokensOf(sub.events(), operationId).length;
			await sub.until((s) => tokensOf(s.events(), operationId).length > before);
		}
		const res = await cancel(chat, operationId);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ operationId, status: "cancelled" });
		await sub.until((s) => s.events().some((e) => e.type === "chat.cancelled"));
		expect(model.aborted()).toBe(true);
		model.delta("four ");
		model.finish();
		await new Promise((resolve) => setTimeout(resolve, 100));

		const events = await allEvents(chatPath(chat));
		const op = ofOperation(events, operationId);
		expect(op.at(-1)).toMatchObject({ type: "chat.cancelled", data: { operationId, tokens: 3 } });
		expect(op.filter((e) => e.type === "llm.token").map((e) => (e.data as { text: string }).text)).toEqual(["one ", "two ", "three "]);
		expect(op.some((e) => e.type === "chat.assistant_message")).toBe(false);
		expect((await state(chat)).operation).toBeNull();

		// Cancelling again writes nothing and says how it ended.
		const version = events.length;
		const again = await cancel(chat, operationId);
		expect(await again.json()).toMatchObject({ operationId, status: "cancelled", version });
		sub.close();
	});

	it("cancelling a queued message drops it: its answer never starts, and the one queued after it runs next", async () => {
		const model = new ControlledModel();
		setTestModel(model.model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const first = await post(chat, "First");
		await model.called();
		const dropped = await post(chat, "Never mind this one");
		const third = await post(chat, "Third");
		const res = await cancel(chat, dropped.operationId);
		expect(await res.json()).toMatchObject({ operationId: dropped.operationId, status: "cancelled" });
		model.delta("one");
		model.finish();
		await model.called(2);
		model.delta("three");
		model.finish();
		await sub.until(ended(third.operationId));
		const events = sub.events();
		expect(events.some((e) => e.id === `${dropped.operationId}:started`)).toBe(false);
		expect(events.find((e) => e.id === `${dropped.operationId}:end`)).toMatchObject({ type: "chat.cancelled" });
		expect(events.filter((e) => e.type === "chat.assistant_message").map((e) => (e.data as { operationId: string }).operationId)).toEqual([
			first.operationId,
			third.operationId,
		]);
		sub.close();
	});

	it("at most 20 messages wait behind a running answer; the 21st is refused", async () => {
		const model = new ControlledModel();
		setTestModel(model.model);
		const chat = uniqueId("c");
		const running = await post(chat, "Running");
		await model.called();
		for (let i = 0; i < 20; i++) await post(chat, `Waiting ${i}`);
		const res = await call(`${chatPath(chat)}/messages`, {
			method: "POST",
			body: JSON.stringify({ text: "One too many", clientActionId: uniqueId("m") }),
		});
		await expectProblem(res, 422);
		expect((await state(chat)).queue).toHaveLength(20);
		// Let the queue drain quickly, so nothing is left running after the test.
		setTestModel(scriptedModel(textParts(["ok"])));
		await cancel(chat, running.operationId);
		const sub = await Subscriber.open(chatPath(chat));
		await sub.until((s) => s.events().filter((e) => e.type === "chat.assistant_message").length === 20);
		expect((await state(chat)).queue).toEqual([]);
		sub.close();
	});

	it("an unknown operation is 404", async () => {
		const chat = uniqueId("c");
		await expectProblem(await cancel(chat, "no-such-operation"), 404);
	});
});

describe("model errors", () => {
	const overloaded = () =>
		new APICallError({ message: "model overloaded", url: "https://model.test", requestBodyValues: {}, statusCode: 503, isRetryable: true });

	it("a transient error is recorded and retried once; the retry's text is the answer", async () => {
		const model = new ControlledModel();
		setTestModel(model.model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Hello?");
		await model.called();
		model.delta("half an ");
		await sub.until((s) => tokensOf(s.events(), operationId).length === 1);
		model.fail(overloaded());
		await model.called(2);
		model.delta("whole ");
		model.delta("answer");
		model.finish();
		await sub.until(ended(operationId));

		const op = ofOperation(sub.events(), operationId);
		expect(op.map((e) => e.type)).toEqual([
			"chat.user_message",
			"llm.started",
			"llm.token",
			"llm.error",
			...op.slice(4, -1).map(() => "llm.token"),
			"chat.assistant_message",
		]);
		expect(op[3]?.data).toMatchObject({ reason: "model_error", message: "model overloaded", transient: true, retrying: true, attempt: 1 });
		const tokens = tokensOf(op, operationId);
		expect(tokens.map((t) => t.index)).toEqual(tokens.map((_, i) => i));
		expect(op.at(-1)?.data).toMatchObject({ text: "whole answer", tokens: tokens.length });
		sub.close();
	});

	it("a second transient error ends the answer with llm.error", async () => {
		const model = scriptedModel([
			{ type: "stream-start", warnings: [] },
			{ type: "error", error: overloaded() },
		]);
		setTestModel(model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Hello?");
		await sub.until(ended(operationId));
		const errors = sub
			.events()
			.filter((e) => e.type === "llm.error")
			.map((e) => e.data);
		expect(errors).toEqual([
			expect.objectContaining({ retrying: true, attempt: 1, transient: true }),
			expect.objectContaining({ retrying: false, attempt: 2, transient: true, message: "model overloaded" }),
		]);
		expect(model.doStreamCalls).toHaveLength(2);
		expect((await state(chat)).recent.at(-1)).toMatchObject({ operationId, status: "failed" });
		sub.close();
	});

	it("an error that is not transient ends the answer at once, without a retry", async () => {
		const bad = new APICallError({
			message: "bad request",
			url: "https://model.test",
			requestBodyValues: {},
			statusCode: 400,
			isRetryable: false,
		});
		let calls = 0;
		setTestModel(
			new MockLanguageModelV4({
				doStream: async () => {
					calls++;
					throw bad;
				},
			}),
		);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Hello?");
		await sub.until(ended(operationId));
		expect(calls).toBe(1);
		expect(
			sub
				.events()
				.filter((e) => e.type === "llm.error")
				.map((e) => e.data),
		).toEqual([expect.objectContaining({ retrying: false, transient: false, attempt: 1, message: "bad request" })]);
		sub.close();
	});
});

describe("queueing", () => {
	it("a second message while an answer runs is queued and answered after it, never interleaved", async () => {
		const model = new ControlledModel();
		setTestModel(model.model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const first = await post(chat, "First question");
		await model.called();
		model.delta("first ");
		const second = await post(chat, "Second question");
		expect(second.queued).toBe(true);
		expect((await state(chat)).queue).toEqual([expect.objectContaining({ operationId: second.operationId })]);
		model.delta("answer");
		model.finish();
		await model.called(2);
		model.delta("second answer");
		model.finish();
		await sub.until(ended(second.operationId));

		const events = sub.events();
		const opOf = (e: EventEnvelope) => e.meta.operationId;
		const firstEnd = events.findIndex((e) => e.id === `${first.operationId}:end`);
		const secondStart = events.findIndex((e) => e.id === `${second.operationId}:started`);
		// The second message is in the log at once; its answer starts in the same batch that ends the first.
		expect(events.findIndex((e) => e.type === "chat.user_message" && opOf(e) === second.operationId)).toBeLessThan(firstEnd);
		expect(secondStart).toBe(firstEnd + 1);
		expect(events.slice(secondStart).every((e) => opOf(e) === second.operationId)).toBe(true);
		expect(events.filter((e) => e.type === "chat.assistant_message").map((e) => (e.data as { text: string }).text)).toEqual([
			"first answer",
			"second answer",
		]);
		// The second answer's prompt has the first exchange, in order, then its own question.
		expect(model.calls[1]?.options.prompt.filter((m) => m.role !== "system").map((m) => m.role)).toEqual(["user", "assistant", "user"]);
		sub.close();
	});
});

describe("subscribers", () => {
	it("a client that connects mid-answer gets the tokens so far, then the live ones, without gap or repeat; so does one that reconnects", async () => {
		const model = new ControlledModel();
		setTestModel(model.model);
		const chat = uniqueId("c");
		const watcher = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Count");
		await model.called();
		for (let i = 0; i < 5; i++) {
			model.delta(`${i} `);
			await watcher.until((s) => tokensOf(s.events(), operationId).length === i + 1);
		}
		const started = watcher.events().find((e) => e.type === "llm.started");
		const midway = watcher.events()[3];
		const late = await Subscriber.open(chatPath(chat), started?.seq ?? 0);
		const resumed = await Subscriber.open(chatPath(chat), midway?.seq ?? 0);
		for (let i = 5; i < 10; i++) model.delta(`${i} `);
		model.finish();
		await watcher.until(ended(operationId));
		await late.until(ended(operationId));
		await resumed.until(ended(operationId));

		const all = watcher.events();
		expect(late.events().map((e) => e.seq)).toEqual(all.filter((e) => e.seq > (started?.seq ?? 0)).map((e) => e.seq));
		expect(resumed.events().map((e) => e.seq)).toEqual(all.filter((e) => e.seq > (midway?.seq ?? 0)).map((e) => e.seq));
		expect(
			tokensOf(late.events(), operationId)
				.map((t) => t.text)
				.join(""),
		).toBe("0 1 2 3 4 5 6 7 8 9 ");
		for (const s of [watcher, late, resumed]) s.close();
	});

	it("two clients see the same stream", async () => {
		setTestModel(scriptedModel(textParts(words(30))));
		const chat = uniqueId("c");
		const a = await Subscriber.open(chatPath(chat));
		const b = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "Same for both");
		await a.until(ended(operationId));
		await b.until(ended(operationId));
		expect(a.events().map((e) => [e.seq, e.id, e.hash])).toEqual(b.events().map((e) => [e.seq, e.id, e.hash]));
		expect(a.events()).toEqual(await allEvents(chatPath(chat)));
		a.close();
		b.close();
	});
});

describe("restart", () => {
	it("an object restarted mid-answer appends llm.error interrupted, then answers the queued message", async () => {
		const stalled = new ControlledModel();
		setTestModel(stalled.model);
		const chat = uniqueId("c");
		const first = await post(chat, "This answer will be cut off");
		await stalled.called();
		stalled.delta("partial ");
		const second = await post(chat, "And then this one");
		expect(second.queued).toBe(true);
		// As a crash or a deploy would: the instance is torn down with its answer in flight; storage stays.
		await abortAllDurableObjects();

		setTestModel(scriptedModel(textParts(["after ", "restart"])));
		const sub = await Subscriber.open(chatPath(chat));
		await sub.until(ended(second.operationId));
		const events = sub.events();
		const interrupted = events.find((e) => e.id === `${first.operationId}:end`);
		expect(interrupted).toMatchObject({
			type: "llm.error",
			data: { operationId: first.operationId, reason: "interrupted", retrying: false },
		});
		expect(events.at(-1)).toMatchObject({
			type: "chat.assistant_message",
			data: { operationId: second.operationId, text: "after restart" },
		});
		const after = await state(chat);
		expect(after.operation).toBeNull();
		expect(after.recent.map((r) => [r.operationId, r.status])).toEqual([
			[first.operationId, "failed"],
			[second.operationId, "completed"],
		]);
		sub.close();
	});
});

describe("history", () => {
	it("the model sees the last 20 messages and a running summary of older ones; the log keeps them all", async () => {
		const model = scriptedModel(textParts(["ok."]));
		setTestModel(model);
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		for (let i = 1; i <= 12; i++) {
			const { operationId } = await post(chat, `Question ${i}. With more words after the first sentence.`);
			await sub.until(ended(operationId));
		}
		const last = model.doStreamCalls.at(-1);
		const messages = last?.prompt.filter((m) => m.role !== "system") ?? [];
		expect(messages).toHaveLength(20);
		expect(JSON.stringify(messages.at(-1))).toContain("Question 12.");
		// 23 messages with the new question: the oldest 3 are in the summary, so the window opens on the second reply.
		expect(messages[0]).toMatchObject({ role: "assistant" });
		expect(JSON.stringify(messages[1])).toContain("Question 3.");
		const system = JSON.stringify(last?.prompt.filter((m) => m.role === "system"));
		expect(system).toContain("Summary of the earlier conversation");
		expect(system).toContain("Question 2.");
		expect(system).not.toContain("With more words");
		const events = await allEvents(chatPath(chat));
		expect(events.filter((e) => e.type === "chat.user_message")).toHaveLength(12);
		expect(events.filter((e) => e.type === "chat.summarized").length).toBeGreaterThan(0);
		expect((await state(chat)).window).toHaveLength(19);
		sub.close();
	});
});

describe("the offline responder", () => {
	it("answers from the org's data through the same tools, labelled in every answer", async () => {
		const chat = uniqueId("c");
		const sub = await Subscriber.open(chatPath(chat));
		const { operationId } = await post(chat, "What happened recently, and any patterns this week?");
		await sub.until(ended(operationId));
		const events = sub.events();
		expect(events.find((e) => e.type === "llm.started")?.data).toMatchObject({ provider: "offline" });
		expect(
			events
				.filter((e) => e.type === "llm.tool_called")
				.map((e) => (e.data as { toolName: string }).toolName)
				.sort(),
		).toEqual(["get_interactions", "get_patterns"]);
		const reply = events.at(-1)?.data as { text: string };
		expect(reply.text.startsWith(OFFLINE_LABEL)).toBe(true);
		expect(reply.text).toContain("weekly");
		expect(
			tokensOf(events, operationId)
				.map((t) => t.text)
				.join(""),
		).toBe(reply.text);
		sub.close();

		// The answered question reaches the org as a chat interaction, with the tools it used.
		const id = `chat:${chat}:${operationId}`;
		type ChatInteraction = { id: string; source: string; summary: { messages: number; toolCalls: Record<string, number> } };
		let found: ChatInteraction | undefined;
		for (let i = 0; i < 100 && !found; i++) {
			const page = await getJson<{ interactions: ChatInteraction[] }>(`/v1/orgs/${ORG}/interactions?limit=1000`);
			found = page.interactions.find((x) => x.id === id);
			if (!found) await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(found).toMatchObject({ source: "chat", summary: { messages: 2, toolCalls: { get_interactions: 1, get_patterns: 1 } } });
	});
});
