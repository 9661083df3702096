/**
 * Faults in the middle of a chat answer's token stream: the chat object is aborted at a random moment of a
 * streaming answer (abortAllDurableObjects, as a crash or a deploy would), or fails at a random token append (the
 * kernel's fault seam, throwing or aborting). Every answer still ends exactly once, with `llm.error` (`interrupted`
 * after a restart, `model_error` after a failed append) or with the complete message; its token indexes are
 * gap-free from 0, nothing of it follows its end, and the chain verifies.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { EventPage } from "../../src/actors/actor.ts";
import { armFault, disarmFault } from "../../src/actors/faults.ts";
import { setTestModel } from "../../src/ai/provider.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import type { ChatState } from "../../src/reducers/chat.ts";
import { ControlledModel, scriptedModel, textParts } from "./chat-models.ts";
import { uniqueId } from "./helpers.ts";
import { expectIntact, figure, propertyOptions, runs, settle } from "./reliability-support.ts";

const ORG = "acme-chat-faults";
const chat = (id: string) => env.CHAT.getByName(actorName(ORG, id));

afterEach(() => {
	disarmFault();
	setTestModel(null);
});

async function events(id: string): Promise<EventEnvelope[]> {
	const out: EventEnvelope[] = [];
	for (let after = 0; ; ) {
		const page = (await chat(id).readEvents({ after, limit: 1000 })) as unknown as EventPage;
		out.push(...page.events);
		if (page.next === null) return out;
		after = page.next;
	}
}

async function state(id: string): Promise<ChatState> {
	const read = await chat(id).readState();
	if (!read.ok) throw new Error(read.error.detail);
	return read.value.state as ChatState;
}

/** Waits until the chat has no open answer (reading it also wakes it after an abort). */
async function idle(id: string): Promise<void> {
	for (let i = 0; i < 500; i++) {
		const s = await settle<ChatState>(state(id));
		if (s.ok && s.value.operation === null) return;
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	throw new Error(`chat ${id} never went idle`);
}

/** The answer ended once, its tokens are gap-free from 0, and nothing of it follows its end. */
function expectEndedOnce(all: EventEnvelope[], operationId: string): EventEnvelope {
	const ofOp = all.filter((e) => (e.data as { operationId?: string }).operationId === operationId);
	const ends = ofOp.filter((e) => e.id === `${operationId}:end`);
	expect(ends).toHaveLength(1);
	const end = ends[0] as EventEnvelope;
	expect(["llm.error", "chat.assistant_message", "chat.cancelled"]).toContain(end.type);
	expect(ofOp.at(-1)?.id).toBe(end.id);
	const tokens = ofOp.filter((e) => e.type === "llm.token").map((e) => (e.data as { index: number }).index);
	expect(tokens).toEqual(tokens.map((_, i) => i));
	return end;
}

async function post(id: string, text: string): Promise<string> {
	const outcome = await chat(id).postMessage({ text, clientActionId: uniqueId("m") });
	if (!outcome.ok) throw new Error(outcome.error.detail);
	return outcome.value.operationId;
}

describe("a chat object aborted in the middle of a streaming answer", () => {
	const numRuns = runs(100);
	it(`ends the answer with llm.error interrupted (or complete), gap-free, after the restart (${numRuns} random aborts)`, async () => {
		const tally = { runs: 0, interrupted: 0, completed: 0, other: 0, tokensBeforeAbort: 0, lostEnds: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.record({
					deltas: fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 25 }),
					waitMs: fc.nat(25),
					finish: fc.boolean(),
					queued: fc.boolean(),
				}),
				async (sc) => {
					const model = new ControlledModel();
					setTestModel(model.model);
					const id = uniqueId("abort");
					const operationId = await post(id, "Stream until I stop you");
					const next = sc.queued ? await post(id, "And then this") : undefined;
					await model.called();
					// Deltas a few milliseconds apart become several token appends; the abort comes after a random share of them.
					for (const [i, delta] of sc.deltas.entries()) {
						model.delta(delta);
						if (i % 3 === 2) await new Promise((resolve) => setTimeout(resolve, 6));
					}
					if (sc.finish) model.finish();
					for (let i = 0; i < 100 && sc.deltas.length > 0 && ((await state(id)).operation?.tokens ?? 1) < 1; i++) {
						await new Promise((resolve) => setTimeout(resolve, 2));
					}
					await new Promise((resolve) => setTimeout(resolve, sc.waitMs));
					tally.tokensBeforeAbort += (await state(id)).operation?.tokens ?? 0;
					await abortAllDurableObjects();
					// The queued answer starts after the restart; this model finishes it at once.
					setTestModel(scriptedModel(textParts(["after ", "restart"])));
					await idle(id);
					const all = await events(id);
					const end = expectEndedOnce(all, operationId);
					if (end.type === "llm.error") {
						tally.interrupted++;
						expect(end.data).toMatchObject({ reason: "interrupted", retrying: false });
					} else if (end.type === "chat.assistant_message") tally.completed++;
					else tally.other++;
					if (next) expect(all.some((e) => e.id === `${next}:started`)).toBe(true);
					tally.runs++;
					await expectIntact(chat(id));
				},
			),
			propertyOptions(numRuns),
		);
		figure("chat stream aborts", tally);
		expect(tally.interrupted).toBeGreaterThan(numRuns / 3);
	}, 600_000);
});

describe("a chat whose token append fails", () => {
	const numRuns = runs(100);
	it(`ends the answer with llm.error, gap-free, and answers the next message (${numRuns} random faults)`, async () => {
		const tally = { runs: 0, fired: 0, aborts: 0, modelError: 0, interrupted: 0, completed: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.record({ deltas: fc.integer({ min: 1, max: 30 }), at: fc.nat(30), mode: fc.constantFrom("throw" as const, "abort" as const) }),
				async (sc) => {
					const model = new ControlledModel();
					setTestModel(model.model);
					const id = uniqueId("fail");
					const operationId = await post(id, "Stream, then fail");
					await model.called();
					// The message and llm.started were the first append; the fault hits one of the next few (a token, or the end:
					// deltas that come close together share a token, so there may be few appends).
					armFault({ point: "append.before-commit", object: actorName(ORG, id), after: sc.at % 3, mode: sc.mode });
					for (let i = 0; i < sc.deltas; i++) {
						model.delta(`d${i} `);
						await new Promise((resolve) => setTimeout(resolve, 1));
					}
					model.finish();
					await idle(id);
					const report = disarmFault();
					tally.runs++;
					if (report.fired) tally.fired++;
					if (report.fired && sc.mode === "abort") tally.aborts++;
					const all = await events(id);
					const end = expectEndedOnce(all, operationId);
					const reason = (end.data as { reason?: string }).reason;
					if (end.type === "chat.assistant_message") tally.completed++;
					else if (reason === "interrupted") tally.interrupted++;
					else tally.modelError++;
					if (report.fired) expect(end.type).toBe("llm.error");
					// The chat is not stuck: the next message is answered in full.
					const again = new ControlledModel();
					setTestModel(again.model);
					const next = await post(id, "Still there?");
					await again.called();
					again.delta("yes");
					again.finish();
					await idle(id);
					expect(expectEndedOnce(await events(id), next).type).toBe("chat.assistant_message");
					await expectIntact(chat(id));
				},
			),
			propertyOptions(numRuns),
		);
		figure("chat append faults", tally);
		expect(tally.fired).toBeGreaterThanOrEqual(Math.floor(numRuns * 0.8));
	}, 600_000);
});
