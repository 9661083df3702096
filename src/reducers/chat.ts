/**
 * What a chat's events mean. Pure: no clock, no randomness, no I/O. One answer (operation) runs at a time;
 * messages that arrive meanwhile wait in `queue`, and the event that ends an answer is appended together
 * with the `llm.started` of the next, so an idle chat never has a queue.
 */
import { chatCatalog, type ProviderKind, type Usage } from "../events/chat.ts";
import type { ProposedEvent, RecordedEvent } from "../events/envelope.ts";
import type { ActorDefinition } from "./definition.ts";

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

/** The llm.started that begins the next queued answer, if any; appended in the batch that ends the previous one. */
export function startNext(
	queue: readonly QueuedMessage[],
	provider: { kind: ProviderKind; model: string },
	ts: number,
	skip?: string,
): ProposedEvent[] {
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

type Data<T> = T & Record<string, unknown>;

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

export function evolveChat(state: ChatState, event: RecordedEvent): ChatState {
	switch (event.type) {
		case "chat.user_message": {
			const { messageId, operationId, text } = event.data as Data<{ messageId: string; operationId: string; text: string }>;
			// The limit holds for every writer, imports included, not only for the route that posts messages.
			if (state.queue.length >= MAX_QUEUE) throw new Error(`chat.user_message: ${MAX_QUEUE} messages are already waiting for an answer`);
			return { ...state, queue: [...state.queue, { messageId, operationId, text, ts: event.ts }] };
		}
		case "llm.started": {
			const d = event.data as Data<{ operationId: string; messageId: string; provider: ProviderKind; model: string }>;
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
		case "llm.token": {
			const { operationId, index, text } = event.data as Data<{ operationId: string; index: number; text: string }>;
			const op = running(state, operationId, event.type);
			if (index !== op.tokens) throw new Error(`llm.token: index ${index} but the next is ${op.tokens}`);
			return { ...state, operation: { ...op, tokens: op.tokens + 1, text: op.text + text } };
		}
		case "llm.tool_called": {
			const { operationId, call } = event.data as Data<{ operationId: string; call: number }>;
			const op = running(state, operationId, event.type);
			if (call !== op.toolCalls) throw new Error(`llm.tool_called: call ${call} but the next is ${op.toolCalls}`);
			return { ...state, operation: { ...op, toolCalls: op.toolCalls + 1 } };
		}
		case "llm.tool_result": {
			const { operationId, call } = event.data as Data<{ operationId: string; call: number }>;
			const op = running(state, operationId, event.type);
			if (call >= op.toolCalls) throw new Error(`llm.tool_result: call ${call} was never made`);
			return state;
		}
		case "llm.error": {
			const { operationId, retrying } = event.data as Data<{ operationId: string; retrying: boolean }>;
			const op = running(state, operationId, event.type);
			if (retrying) return { ...state, operation: { ...op, attempt: op.attempt + 1, text: "" } };
			return { ...state, operation: null, recent: finish(state, op, "failed", event.ts) };
		}
		case "chat.assistant_message": {
			const { operationId, messageId, text, usage } = event.data as Data<{
				operationId: string;
				messageId: string;
				text: string;
				usage: Usage;
			}>;
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
		case "chat.cancelled": {
			const { operationId } = event.data as Data<{ operationId: string }>;
			if (state.operation?.operationId === operationId) {
				return { ...state, operation: null, recent: finish(state, state.operation, "cancelled", event.ts) };
			}
			const queued = state.queue.find((q) => q.operationId === operationId);
			if (!queued) throw new Error(`chat.cancelled: operation ${operationId} is neither running nor queued`);
			return { ...state, queue: state.queue.filter((q) => q !== queued), recent: finish(state, queued, "cancelled", event.ts) };
		}
		case "chat.summarized": {
			const { dropped, summary } = event.data as Data<{ dropped: number; summary: string }>;
			if (dropped > state.window.length) throw new Error(`chat.summarized: ${dropped} messages but the window has ${state.window.length}`);
			return { ...state, window: state.window.slice(dropped), summary };
		}
		default:
			throw new Error(`chat has no reducer for ${event.type}`);
	}
}

export const chatDefinition: ActorDefinition<ChatState> = {
	kind: "chat",
	catalog: chatCatalog,
	// 3: a user message beyond MAX_QUEUE waiting ones is refused (no valid log ever had one).
	reducerVersion: 3,
	initialState: initialChatState,
	evolve: evolveChat,
};
