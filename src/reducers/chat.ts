/**
 * What a chat's events mean. Pure: no clock, no randomness, no I/O. One answer (operation) runs at a time;
 * messages that arrive meanwhile wait in `queue`, and the event that ends an answer is appended together
 * with the `llm.started` of the next, so an idle chat never has a queue.
 */
import { summaryStep } from "../ai/history.ts";
import type { DataOf, EventOf, ProposalOf } from "../events/catalog.ts";
import { chatCatalog, type ERROR_REASONS, type ProviderKind, type Usage } from "../events/chat.ts";
import type { ActorDefinition, DecideContext, Decider, Refusal } from "./definition.ts";

/** Every event a chat's log can hold, by type: `evolve` narrows `data` by switching on `type`. */
export type ChatEvent = EventOf<typeof chatCatalog>;
/** An event the chat's decider may propose. */
export type ChatProposal = ProposalOf<typeof chatCatalog>;

export interface ChatMessage {
	role: "user" | "assistant";
	messageId: string;
	operationId: string;
	text: string;
	ts: number;
	seq: number;
}

export interface RunningOperation {
	operationId: string;
	/** The user message it answers. */
	messageId: string;
	provider: ProviderKind;
	model: string;
	startedAt: number;
	/** 1, or 2 after a transient error restarted the answer. */
	attempt: number;
	/** llm.token events so far (all attempts): the next token's index. */
	tokens: number;
	/** Text of the current attempt so far. */
	text: string;
	toolCalls: number;
}

export interface QueuedMessage {
	messageId: string;
	operationId: string;
	text: string;
	ts: number;
}

export type OperationStatus = "completed" | "failed" | "cancelled";

export interface FinishedOperation {
	operationId: string;
	messageId: string;
	status: OperationStatus;
	endedAt: number;
}

export interface ChatState {
	/** Messages the model sees verbatim, oldest first; older ones live in `summary` (and in the log). */
	window: ChatMessage[];
	/** A running summary of the messages folded out of the window, or null before the first fold. */
	summary: string | null;
	/** Every message of the chat, user and assistant. */
	messages: number;
	operation: RunningOperation | null;
	queue: QueuedMessage[];
	/** The latest finished operations, newest last. */
	recent: FinishedOperation[];
	usage: { inputTokens: number; outputTokens: number };
}

/** Finished operations kept in state. */
export const RECENT_OPERATIONS = 50;
/** Messages that may wait behind a running answer. */
export const MAX_QUEUE = 20;

export const initialChatState = (): ChatState => ({
	window: [],
	summary: null,
	messages: 0,
	operation: null,
	queue: [],
	recent: [],
	usage: { inputTokens: 0, outputTokens: 0 },
});

/** Event ids of an operation: derived, so an append that runs twice is a duplicate, and an operation ends once. */
export const operationEventId = {
	started: (op: string) => `${op}:started`,
	token: (op: string, index: number) => `${op}:token:${index}`,
	toolCalled: (op: string, call: number) => `${op}:call:${call}`,
	toolResult: (op: string, call: number) => `${op}:result:${call}`,
	retry: (op: string, attempt: number) => `${op}:error:${attempt}`,
	/** assistant message, final error and cancellation share it: whichever comes first ends the operation. */
	end: (op: string) => `${op}:end`,
	summary: (op: string) => `${op}:summary`,
};

/** Where an operation stands: running, queued, finished (recently), or unknown to the state. */
export function operationStatus(state: ChatState, operationId: string): "running" | "queued" | OperationStatus | "unknown" {
	if (state.operation?.operationId === operationId) return "running";
	if (state.queue.some((q) => q.operationId === operationId)) return "queued";
	return state.recent.find((r) => r.operationId === operationId)?.status ?? "unknown";
}

function running(state: ChatState, operationId: string, type: string): RunningOperation {
	const op = state.operation;
	if (!op || op.operationId !== operationId) throw new Error(`${type}: operation ${operationId} is not running`);
	return op;
}

function finish(
	state: ChatState,
	op: { operationId: string; messageId: string },
	status: OperationStatus,
	ts: number,
): FinishedOperation[] {
	return [...state.recent, { operationId: op.operationId, messageId: op.messageId, status, endedAt: ts }].slice(-RECENT_OPERATIONS);
}

export function evolveChat(state: ChatState, event: ChatEvent): ChatState {
	switch (event.type) {
		case "chat.user_message": {
			const { messageId, operationId, text } = event.data;
			// The limit holds for every writer, imports included, not only for the route that posts messages.
			if (state.queue.length >= MAX_QUEUE) throw new Error(`chat.user_message: ${MAX_QUEUE} messages are already waiting for an answer`);
			return { ...state, queue: [...state.queue, { messageId, operationId, text, ts: event.ts }] };
		}
		case "llm.started":
			return startOperation(state, event);
		case "llm.token": {
			const { operationId, index, text } = event.data;
			const op = running(state, operationId, event.type);
			if (index !== op.tokens) throw new Error(`llm.token: index ${index} but the next is ${op.tokens}`);
			return { ...state, operation: { ...op, tokens: op.tokens + 1, text: op.text + text } };
		}
		case "llm.tool_called": {
			const { operationId, call } = event.data;
			const op = running(state, operationId, event.type);
			if (call !== op.toolCalls) throw new Error(`llm.tool_called: call ${call} but the next is ${op.toolCalls}`);
			return { ...state, operation: { ...op, toolCalls: op.toolCalls + 1 } };
		}
		case "llm.tool_result": {
			const { operationId, call } = event.data;
			const op = running(state, operationId, event.type);
			if (call >= op.toolCalls) throw new Error(`llm.tool_result: call ${call} was never made`);
			return state;
		}
		case "llm.error": {
			const { operationId, retrying } = event.data;
			const op = running(state, operationId, event.type);
			if (retrying) return { ...state, operation: { ...op, attempt: op.attempt + 1, text: "" } };
			return { ...state, operation: null, recent: finish(state, op, "failed", event.ts) };
		}
		case "chat.assistant_message":
			return completeOperation(state, event);
		case "chat.cancelled": {
			const { operationId } = event.data;
			if (state.operation?.operationId === operationId) {
				return { ...state, operation: null, recent: finish(state, state.operation, "cancelled", event.ts) };
			}
			const queued = state.queue.find((q) => q.operationId === operationId);
			if (!queued) throw new Error(`chat.cancelled: operation ${operationId} is neither running nor queued`);
			return { ...state, queue: state.queue.filter((q) => q !== queued), recent: finish(state, queued, "cancelled", event.ts) };
		}
		case "chat.summarized": {
			const { dropped, summary } = event.data;
			if (dropped > state.window.length) throw new Error(`chat.summarized: ${dropped} messages but the window has ${state.window.length}`);
			return { ...state, window: state.window.slice(dropped), summary };
		}
		case "chat.message_backfilled":
			// A past message counts as a message of the chat; the model's window is the live conversation only.
			return { ...state, messages: state.messages + 1 };
		default:
			throw new Error(`chat has no reducer for ${(event as { type: string }).type}`);
	}
}

/** The queued message joins the window, and its answer starts. */
function startOperation(state: ChatState, event: Extract<ChatEvent, { type: "llm.started" }>): ChatState {
	const d = event.data;
	if (state.operation) throw new Error(`llm.started: operation ${state.operation.operationId} is still running`);
	const queued = state.queue.find((q) => q.operationId === d.operationId);
	if (!queued) throw new Error(`llm.started: no queued message for operation ${d.operationId}`);
	const message: ChatMessage = {
		role: "user",
		messageId: queued.messageId,
		operationId: d.operationId,
		text: queued.text,
		ts: queued.ts,
		seq: event.seq,
	};
	return {
		...state,
		window: [...state.window, message],
		messages: state.messages + 1,
		queue: state.queue.filter((q) => q !== queued),
		operation: {
			operationId: d.operationId,
			messageId: d.messageId,
			provider: d.provider,
			model: d.model,
			startedAt: event.ts,
			attempt: 1,
			tokens: 0,
			text: "",
			toolCalls: 0,
		},
	};
}

/** The reply joins the window and ends the operation; its usage adds up. */
function completeOperation(state: ChatState, event: Extract<ChatEvent, { type: "chat.assistant_message" }>): ChatState {
	const { operationId, messageId, text, usage } = event.data;
	const op = running(state, operationId, event.type);
	const reply: ChatMessage = { role: "assistant", messageId, operationId, text, ts: event.ts, seq: event.seq };
	return {
		...state,
		window: [...state.window, reply],
		messages: state.messages + 1,
		operation: null,
		recent: finish(state, op, "completed", event.ts),
		usage: {
			inputTokens: state.usage.inputTokens + (usage.inputTokens ?? 0),
			outputTokens: state.usage.outputTokens + (usage.outputTokens ?? 0),
		},
	};
}

export const chatDefinition: ActorDefinition<ChatState, ChatEvent> = {
	kind: "chat",
	catalog: chatCatalog,
	// 3: a user message beyond MAX_QUEUE waiting ones is refused (no valid log ever had one).
	reducerVersion: 3,
	initialState: initialChatState,
	evolve: evolveChat,
};

// ---- decisions -------------------------------------------------------------------------------

type ToolCalled = DataOf<typeof chatCatalog, "llm.tool_called">;
type ToolResult = DataOf<typeof chatCatalog, "llm.tool_result">;

/**
 * What a chat can be asked to do. A user posts or cancels; the rest reports what the model did for the running
 * operation (`operationId`), and decides nothing once that operation has ended or was cancelled meanwhile.
 */
export type ChatCommand =
	| { kind: "post_message"; messageId: string; operationId: string; text: string; clientActionId: string }
	| { kind: "cancel"; operationId: string }
	| { kind: "token"; operationId: string; text: string }
	| ({ kind: "tool_called"; operationId: string } & Omit<ToolCalled, "operationId" | "call">)
	| ({ kind: "tool_result"; operationId: string } & Omit<ToolResult, "operationId">)
	/** A transient model error: the answer starts again (attempt `attempt` + 1). */
	| { kind: "retry"; operationId: string; message: string; attempt: number }
	/** The model answered; the window then keeps at most `keep` messages, the rest folded into the summary. */
	| { kind: "complete"; operationId: string; usage: Usage; finishReason: string; steps: number; keep: number }
	| { kind: "fail"; operationId: string; reason: (typeof ERROR_REASONS)[number]; message: string; transient: boolean };

/** Besides time and version, a chat's decisions need the model that answers the next question. */
export interface ChatContext extends DecideContext {
	provider: { kind: ProviderKind; model: string };
}

/** The llm.started that begins the next queued answer, if any; appended in the batch that ends the previous one. */
export function startNext(
	queue: readonly QueuedMessage[],
	provider: { kind: ProviderKind; model: string },
	ts: number,
	skip?: string,
): ChatProposal[] {
	const next = queue.find((q) => q.operationId !== skip);
	if (!next) return [];
	return [
		{
			id: operationEventId.started(next.operationId),
			type: "llm.started",
			ts,
			data: { operationId: next.operationId, messageId: next.messageId, provider: provider.kind, model: provider.model },
			meta: { operationId: next.operationId },
		},
	];
}

/** The chat's decisions: pure, with time and the model from the context. */
export function decideChat(command: ChatCommand, state: ChatState, context: ChatContext): ChatProposal[] | Refusal {
	const ts = context.now;
	switch (command.kind) {
		case "post_message":
			return postMessage(command, state, context);
		case "cancel": {
			const { operationId } = command;
			const status = operationStatus(state, operationId);
			if (status !== "running" && status !== "queued") return { kind: "not_found", detail: `this chat has no operation ${operationId}` };
			const tokens = status === "running" ? (state.operation?.tokens ?? 0) : 0;
			const cancelled: ChatProposal = { id: operationEventId.end(operationId), type: "chat.cancelled", ts, data: { operationId, tokens } };
			// The next queued answer starts in the same batch, so an idle chat never has a queue.
			return [cancelled, ...(status === "running" ? startNext(state.queue, context.provider, ts) : [])];
		}
		case "token": {
			const op = runningNow(state, command.operationId);
			if (!op) return [];
			const { operationId, text } = command;
			return [{ id: operationEventId.token(operationId, op.tokens), type: "llm.token", ts, data: { operationId, index: op.tokens, text } }];
		}
		case "tool_called": {
			const op = runningNow(state, command.operationId);
			if (!op) return [];
			const { kind: _kind, operationId, ...call } = command;
			const data = { operationId, call: op.toolCalls, ...call };
			return [{ id: operationEventId.toolCalled(operationId, op.toolCalls), type: "llm.tool_called", ts, data }];
		}
		case "tool_result": {
			if (!runningNow(state, command.operationId)) return [];
			const { kind: _kind, ...data } = command;
			return [{ id: operationEventId.toolResult(data.operationId, data.call), type: "llm.tool_result", ts, data }];
		}
		case "retry": {
			if (!runningNow(state, command.operationId)) return [];
			const { operationId, message, attempt } = command;
			const data = { operationId, reason: "model_error" as const, message, transient: true, retrying: true, attempt };
			return [{ id: operationEventId.retry(operationId, attempt), type: "llm.error", ts, data }];
		}
		case "complete":
			return complete(command, state, context);
		case "fail": {
			const op = runningNow(state, command.operationId);
			if (!op) return [];
			const { operationId, reason, message, transient } = command;
			const data = { operationId, reason, message, transient, retrying: false, attempt: op.attempt };
			return [{ id: operationEventId.end(operationId), type: "llm.error", ts, data }, ...startNext(state.queue, context.provider, ts)];
		}
	}
}

function runningNow(state: ChatState, operationId: string): RunningOperation | null {
	return state.operation?.operationId === operationId ? state.operation : null;
}

/** The user's message, and its answer's start when no other answer is running. */
function postMessage(
	command: Extract<ChatCommand, { kind: "post_message" }>,
	state: ChatState,
	context: ChatContext,
): ChatProposal[] | Refusal {
	if (state.queue.length >= MAX_QUEUE) {
		return { kind: "rejected", detail: `${MAX_QUEUE} messages are already waiting for an answer; cancel one or wait` };
	}
	const { messageId, operationId, text, clientActionId } = command;
	const ts = context.now;
	const message: ChatProposal = {
		id: messageId,
		type: "chat.user_message",
		ts,
		data: { messageId, operationId, text, clientActionId },
		meta: { operationId },
	};
	const start = state.operation !== null ? [] : startNext([{ messageId, operationId, text, ts }], context.provider, ts);
	return [message, ...start];
}

/**
 * The reply that ends the running operation, the summary step that keeps the window at `keep` messages, and the next
 * queued answer's start: one batch, so no state in between is visible.
 */
function complete(command: Extract<ChatCommand, { kind: "complete" }>, state: ChatState, context: ChatContext): ChatProposal[] {
	const op = runningNow(state, command.operationId);
	if (!op) return [];
	const { operationId, usage, finishReason, steps, keep } = command;
	const ts = context.now;
	const messageId = `${operationId}:reply`;
	const events: ChatProposal[] = [
		{
			id: operationEventId.end(operationId),
			type: "chat.assistant_message",
			ts,
			data: { operationId, messageId, text: op.text, usage, finishReason, steps, tokens: op.tokens },
		},
	];
	const window = [...state.window, { role: "assistant" as const, messageId, operationId, text: op.text, ts, seq: 0 }];
	const step = summaryStep(window, state.summary, keep);
	if (step) events.push({ id: operationEventId.summary(operationId), type: "chat.summarized", ts, data: step });
	events.push(...startNext(state.queue, context.provider, ts));
	return events;
}

export const chatDecider = { decide: decideChat } satisfies Decider<ChatState, ChatCommand, ChatProposal, ChatContext>;
