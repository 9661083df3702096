/**
 * The chat actor: a user message starts an operation (an answer), which streams from the model as llm.token
 * events, with the model's tool calls and their results as events too, and ends with the assistant's message,
 * an error or a cancellation. One answer runs at a time; messages that arrive meanwhile queue behind it.
 *
 * Each append is one synchronous `execute` (one transaction, then pushed to subscribers); the stream itself
 * runs as async work inside the object after the request that started it has been answered.
 */
import { uuidv7 } from "uuidv7";
import { type AnswerOutcome, MAX_STEPS, streamAnswer } from "../ai/answer.ts";
import { withCoalescedDeltas } from "../ai/coalesce.ts";
import { historyMessages, instructions, promptMessages } from "../ai/history.ts";
import { chooseModel } from "../ai/provider.ts";
import { bounded, chatTools, type HistoryMessage, type Json, type OrgReader } from "../ai/tools.ts";
import { actorName } from "../core/identity.ts";
import { errorText, log } from "../core/log.ts";
import { metricsFor } from "../core/metrics.ts";
import { fail, type Outcome, ok } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import { type BackfilledMessage, type ChatCancelInput, type ChatMessageInput, chatCatalog } from "../events/chat.ts";
import type { EventMeta } from "../events/envelope.ts";
import { INTERACTION_MESSAGE, type Interaction } from "../events/interaction.ts";
import { storedEventOf } from "../events/stored.ts";
import { decideMessageBackfill } from "../reducers/backfill.ts";
import {
	type ChatCommand,
	type ChatContext,
	type ChatProposal,
	type ChatState,
	chatDefinition,
	decideChat,
	type OperationStatus,
	operationEventId,
	operationStatus,
	type RunningOperation,
} from "../reducers/chat.ts";
import { isRefusal } from "../reducers/definition.ts";
import { EventSourcedActor } from "./actor.ts";
import type { OutboxMessage } from "./outbox.ts";

export interface MessageAccepted {
	messageId: string;
	operationId: string;
	version: number;
	/** True when an earlier answer was still running: this one starts when the ones before it end. */
	queued: boolean;
}

export interface CancelResult {
	operationId: string;
	/** The operation's status after the call: `cancelled`, or how it had already ended. */
	status: OperationStatus | "ended";
	version: number;
}

const DEFAULT_MAX_OUTPUT_TOKENS = 1024;

export class ChatActor extends EventSourcedActor<ChatState, ChatProposal> {
	/** The loop that runs answers, while one is running in this instance. */
	#runner: Promise<void> | undefined;
	/** Aborts the model call of the running operation. */
	#abort: AbortController | undefined;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, chatDefinition);
	}

	/** Appends the user's message and starts its answer now, or queues it behind the running one. */
	postMessage(input: ChatMessageInput, meta: EventMeta = {}): Outcome<MessageAccepted> {
		const messageId = uuidv7();
		const operationId = uuidv7();
		const command: ChatCommand = { kind: "post_message", messageId, operationId, text: input.text, clientActionId: input.clientActionId };
		const outcome = this.execute<MessageAccepted>(
			{ clientActionId: input.clientActionId, meta: { ...meta, clientActionId: input.clientActionId } },
			(state, version) => {
				const events = decideChat(command, state, this.#context(version));
				if (isRefusal(events)) return events;
				const queued = state.operation !== null;
				return { events, result: (receipt) => ({ messageId, operationId, version: receipt.version, queued }) };
			},
		);
		this.#ensureRunner();
		return outcome;
	}

	/** Stops a running answer, or drops a queued one; an operation that already ended is left as it was. */
	cancel(input: ChatCancelInput, meta: EventMeta = {}): Outcome<CancelResult> {
		const { operationId } = input;
		const status = operationStatus(this.state, operationId);
		if (status !== "running" && status !== "queued") {
			if (status !== "unknown") return ok({ operationId, status, version: this.version });
			if (this.log.existingIds([operationEventId.end(operationId)]).size > 0)
				return ok({ operationId, status: "ended", version: this.version });
			return fail({ kind: "not_found", detail: `this chat has no operation ${operationId}` });
		}
		const outcome = this.execute<CancelResult>({ meta: { ...meta, operationId } }, (state, version) => {
			const events = decideChat({ kind: "cancel", operationId }, state, this.#context(version));
			if (isRefusal(events)) return events;
			return { events, result: (receipt) => ({ operationId, status: "cancelled", version: receipt.version }) };
		});
		if (outcome.ok && status === "running") this.#abort?.abort();
		this.#ensureRunner();
		return outcome;
	}

	/** An answer still open when the object starts again was cut off by the restart: close it, and start the next. */
	protected override onWake(): void {
		const op = this.state.operation;
		// A sandbox's imported operation is a record of the past, not an answer this instance was writing.
		if (!op || this.isSandbox) return;
		const message = "the chat restarted while this answer was being written";
		this.#end(op, { kind: "fail", operationId: op.operationId, reason: "interrupted", message, transient: false });
		this.#ensureRunner();
	}

	// ---- running answers -----------------------------------------------------------------

	#context(version: number): ChatContext {
		const choice = chooseModel(this.env);
		return { now: this.now(), version, provider: { kind: choice.kind, model: choice.modelId } };
	}

	#ensureRunner(): void {
		// A sandbox never calls a model, whatever its imported state says is running or queued.
		if (this.#runner || !this.state.operation || this.isSandbox) return;
		const runner = this.#runAll().finally(() => {
			this.#runner = undefined;
		});
		this.#runner = runner;
		this.ctx.waitUntil(runner);
	}

	/** Runs the open operation, then the next one each end starts, until the chat is idle. */
	async #runAll(): Promise<void> {
		for (let op = this.state.operation; op; op = this.state.operation) {
			try {
				await this.#run(op);
			} catch (error) {
				log("error", "chat answer failed unexpectedly", {
					org: this.actor.org,
					actorId: this.actor.id,
					operationId: op.operationId,
					error: errorText(error),
				});
				this.#fail(op, error instanceof Error ? error.message : String(error), false);
			}
			// Whatever happened, this operation must not stay open, or the loop would run it again.
			const still = this.state.operation;
			if (still?.operationId === op.operationId) this.#fail(still, "the answer ended without a result", false);
		}
	}

	async #run(op: RunningOperation): Promise<void> {
		const operationId = op.operationId;
		const choice = chooseModel(this.env);
		const model = withCoalescedDeltas(choice.model);
		const controller = new AbortController();
		this.#abort = controller;
		const keep = historyMessages(this.env.CHAT_HISTORY_MESSAGES);
		const configured = Number(this.env.CHAT_MAX_OUTPUT_TOKENS);
		const maxOutputTokens = Number.isSafeInteger(configured) && configured > 0 ? configured : DEFAULT_MAX_OUTPUT_TOKENS;
		const org: OrgReader = this.env.ORG.getByName(actorName(this.actor.org, this.actor.org));
		const tools = chatTools({ org, history: (query) => this.#history(query) });
		try {
			for (let attempt = op.attempt; ; attempt++) {
				const calls = new Map<string, number>();
				const recordCall = (toolCallId: string, toolName: string, input: Json, step: number) => {
					const call = this.#decideRunning(controller, { kind: "tool_called", operationId, step, toolCallId, toolName, input });
					if (call?.type === "llm.tool_called") calls.set(toolCallId, call.data.call);
				};
				const started = Date.now();
				let firstTokenAt: number | null = null;
				const outcome = await streamAnswer(
					{
						model,
						instructions: instructions({ org: this.actor.org, now: this.now(), summary: this.state.summary, maxSteps: MAX_STEPS }),
						messages: promptMessages(this.state.window, keep),
						tools,
						signal: controller.signal,
						maxOutputTokens,
						tokenIntervalMs: nonNegative(this.env.CHAT_TOKEN_INTERVAL_MS),
					},
					{
						token: (text) => {
							firstTokenAt ??= Date.now();
							return this.#decideRunning(controller, { kind: "token", operationId, text });
						},
						toolCalled: ({ toolCallId, toolName, input, step }) => recordCall(toolCallId, toolName, bounded(input ?? null), step),
						toolResult: ({ toolCallId, toolName, output, error }) => {
							// A result without its call (an invalid call the SDK reports only as an error): record the call first.
							if (!calls.has(toolCallId)) recordCall(toolCallId, toolName, null, 0);
							const call = calls.get(toolCallId) ?? 0;
							const result = { toolCallId, toolName, output: bounded(output ?? null), ...(error ? { error } : {}) };
							this.#decideRunning(controller, { kind: "tool_result", operationId, call, ...result });
						},
					},
				);
				const tokens = outcome.kind === "done" ? (outcome.usage.totalTokens ?? 0) : 0;
				const firstTokenMs = firstTokenAt === null ? null : firstTokenAt - started;
				metricsFor(this.env.METRICS).model(this.actor.org, choice.label, outcome.kind, tokens, firstTokenMs, Date.now() - started);
				// The next question joins the window, so keeping one fewer lets the model see `keep` messages.
				if (!this.#settle(operationId, controller, outcome, attempt, keep - 1)) return;
			}
		} finally {
			if (this.#abort === controller) this.#abort = undefined;
		}
	}

	/** Records how an attempt ended; true when the answer should be tried again. */
	#settle(operationId: string, controller: AbortController, outcome: AnswerOutcome, attempt: number, keep: number): boolean {
		const op = this.state.operation;
		if (controller.signal.aborted || outcome.kind === "aborted" || op?.operationId !== operationId) return false;
		if (outcome.kind === "failed") {
			const retrying = outcome.transient && attempt === 1;
			if (!retrying) {
				this.#fail(op, outcome.message, outcome.transient);
				return false;
			}
			this.#decideRunning(controller, { kind: "retry", operationId, message: outcome.message, attempt });
			return true;
		}
		const { usage, finishReason, steps } = outcome;
		this.#end(op, { kind: "complete", operationId, usage, finishReason, steps, keep });
		return false;
	}

	#fail(op: RunningOperation, message: string, transient: boolean): void {
		this.#end(op, { kind: "fail", operationId: op.operationId, reason: "model_error", message, transient });
	}

	/**
	 * Appends what ends `op` (with the next queued answer's start and, after a reply, the summary step), and hands an
	 * answered question to the org as an interaction, like an ended web visit.
	 */
	#end(op: RunningOperation, command: Extract<ChatCommand, { kind: "complete" | "fail" }>): void {
		const outcome = this.execute({ meta: { operationId: op.operationId } }, (state, version) => {
			const events = decideChat(command, state, this.#context(version));
			if (isRefusal(events)) return events;
			return {
				events,
				result: () => null,
				effects: (receipt) => {
					const reply = receipt.appended.find((e) => e.type === "chat.assistant_message" && e.meta.operationId === op.operationId);
					return reply ? { outbox: this.#handOver(state.operation ?? op, reply.ts, reply.id) } : {};
				},
			};
		});
		if (!outcome.ok)
			log("error", "chat answer cannot end", {
				org: this.actor.org,
				actorId: this.actor.id,
				operationId: op.operationId,
				error: outcome.error.detail,
			});
	}

	/**
	 * Past messages from a backfill (POST /v1/orgs/{org}/backfill), each at its own time with `meta.backfilled`; each
	 * exchange (a user message and what follows it) with a message appended now goes to the org as one interaction.
	 */
	backfillMessages(messages: readonly BackfilledMessage[], meta: EventMeta = {}): Outcome<{ accepted: number; duplicates: number }> {
		return this.execute({ meta: { ...meta, backfilled: true } }, () => {
			const events = decideMessageBackfill(messages, this.now());
			if (isRefusal(events)) return events;
			return {
				events,
				result: (receipt) => ({ accepted: receipt.appended.length, duplicates: messages.length - receipt.appended.length }),
				effects: (receipt) => {
					const appended = new Set(receipt.appended.map((e) => e.id));
					const exchanges = new Map<string, { startedAt: number; endedAt: number; messages: number; fresh: boolean }>();
					for (const e of events) {
						const x = exchanges.get(e.data.exchange) ?? { startedAt: e.ts, endedAt: e.ts, messages: 0, fresh: false };
						exchanges.set(e.data.exchange, { ...x, endedAt: e.ts, messages: x.messages + 1, fresh: x.fresh || appended.has(e.id) });
					}
					return { outbox: [...exchanges].flatMap(([exchange, x]) => (x.fresh ? this.#interactionMessages(exchange, x) : [])) };
				},
			};
		});
	}

	/** A backfilled exchange as an interaction, like an answered question (its id: `chat:<chat>:backfill:<exchange>`). */
	#interactionMessages(exchange: string, x: { startedAt: number; endedAt: number; messages: number }): OutboxMessage[] {
		const { org, id } = this.actor;
		const interaction: Interaction = {
			id: `chat:${id}:backfill:${exchange}`,
			source: "chat",
			actor: { kind: "chat", id },
			startedAt: x.startedAt,
			endedAt: x.endedAt,
			summary: { messages: x.messages, toolCalls: {}, tokens: 0, operationId: exchange, provider: "backfill" },
		};
		return [
			{ id: `${interaction.id}>org`, target: { actor: { kind: "org", org, id: org } }, type: INTERACTION_MESSAGE, data: interaction },
			{ id: `${interaction.id}>queue`, target: { queue: "INTERACTIONS_QUEUE" }, type: INTERACTION_MESSAGE, data: { org, interaction } },
		];
	}

	/** One answered question as an interaction, for the org and for the interactions queue; tool names come from its log. */
	#handOver(op: RunningOperation, endedAt: number, causedBy: string): OutboxMessage[] {
		const { org, id } = this.actor;
		const toolCalls: Record<string, number> = {};
		for (const row of this.log.reverseByType("llm.tool_called", Math.max(op.toolCalls, 0) + 10)) {
			const call = storedEventOf(row, chatCatalog, "llm.tool_called").data;
			if (call.operationId !== op.operationId) continue;
			toolCalls[call.toolName] = (toolCalls[call.toolName] ?? 0) + 1;
		}
		const interaction: Interaction = {
			id: `chat:${id}:${op.operationId}`,
			source: "chat",
			actor: { kind: "chat", id },
			startedAt: op.startedAt,
			endedAt,
			summary: { messages: 2, toolCalls, tokens: op.tokens, operationId: op.operationId, provider: op.provider },
		};
		const meta = { causationId: causedBy };
		return [
			{ id: `${interaction.id}>org`, target: { actor: { kind: "org", org, id: org } }, type: INTERACTION_MESSAGE, data: interaction, meta },
			{
				id: `${interaction.id}>queue`,
				target: { queue: "INTERACTIONS_QUEUE" },
				type: INTERACTION_MESSAGE,
				data: { org, interaction },
				meta,
			},
		];
	}

	/** Decides and appends one step of the running operation, unless it was cancelled or has ended meanwhile; the event appended, if any. */
	#decideRunning(controller: AbortController, command: ChatCommand & { operationId: string }): ChatProposal | undefined {
		if (controller.signal.aborted) return undefined;
		let decided: ChatProposal | undefined;
		const outcome = this.execute({ meta: { operationId: command.operationId } }, (state, version) => {
			const events = decideChat(command, state, this.#context(version));
			if (isRefusal(events)) return events;
			decided = events[0];
			return { events, result: () => null };
		});
		if (!outcome.ok) throw new Error(`chat ${this.actor.id}: cannot append to ${command.operationId}: ${outcome.error.detail}`);
		return decided;
	}

	/** The chat's messages from its log, newest `limit` before `before`, oldest first. */
	#history(query: { limit: number; before?: number }): { messages: HistoryMessage[]; total: number } {
		const before = query.before ?? Number.MAX_SAFE_INTEGER;
		const found: HistoryMessage[] = [];
		for (const type of ["chat.user_message", "chat.assistant_message"] as const) {
			for (const row of this.log.reverseByType(type, 1000)) {
				if (row.seq >= before) continue;
				const { text } = storedEventOf(row, chatCatalog, type).data;
				found.push({ seq: row.seq, role: type === "chat.user_message" ? "user" : "assistant", text, ts: row.ts });
			}
		}
		found.sort((a, b) => a.seq - b.seq);
		return { messages: found.slice(-query.limit), total: this.state.messages };
	}
}

function nonNegative(value: string | undefined): number | undefined {
	const n = Number(value);
	return value !== undefined && value !== "" && Number.isFinite(n) && n >= 0 ? n : undefined;
}
