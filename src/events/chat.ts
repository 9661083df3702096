/**
 * What can happen in a chat: a user message starts an operation (an answer), whose tokens, tool calls and
 * end are events too. Every event of an answer carries its `operationId`, in `data` and in `meta`.
 * Pure module: runs unchanged in workerd, Node and the browser.
 */
import { z } from "zod";
import { defineEvent, EventCatalog } from "./catalog.ts";
import { CLIENT_ACTION_ID_PATTERN } from "./session.ts";

/** Longest user message, in characters. */
export const MAX_MESSAGE_CHARS = 8000;

const operationId = z.string().min(1).max(64);
const messageId = z.string().min(1).max(64);
/** Token counts as the provider reported them; null when it did not say. */
const tokenCount = z.number().int().min(0).nullable();

export const PROVIDER_KINDS = ["workers-ai", "openai-compatible", "offline", "test"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** A user's message; the answer to it is operation `operationId`, started now or after the answers queued before it. */
export const userMessage = defineEvent(
	"chat.user_message",
	z.object({ messageId, operationId, text: z.string().min(1).max(MAX_MESSAGE_CHARS), clientActionId: z.string().max(128).optional() }),
	{ internal: true },
);

/** An answer starts: a client knows tokens are coming before the first one arrives. */
export const llmStarted = defineEvent(
	"llm.started",
	z.object({ operationId, messageId, provider: z.enum(PROVIDER_KINDS), model: z.string().max(200) }),
	{ internal: true },
);

/** Text of the answer, in order: `index` counts from 0 without gaps within an operation. One event may hold several model deltas. */
export const llmToken = defineEvent(
	"llm.token",
	z.object({ operationId, index: z.number().int().min(0), text: z.string().min(1).max(100_000) }),
	// The chat's high-volume type, never read by type: left out of the log's type index (src/actors/type-index.ts).
	{ internal: true, unindexed: true },
);

/** The model called a tool. `call` counts the operation's tool calls from 0. */
export const llmToolCalled = defineEvent(
	"llm.tool_called",
	z.object({
		operationId,
		call: z.number().int().min(0),
		step: z.number().int().min(0),
		toolCallId: z.string().min(1).max(200),
		toolName: z.string().min(1).max(100),
		input: z.json(),
	}),
	{ internal: true },
);

/** What a tool answered (bounded in size), or the error it raised. */
export const llmToolResult = defineEvent(
	"llm.tool_result",
	z.object({
		operationId,
		call: z.number().int().min(0),
		toolCallId: z.string().min(1).max(200),
		toolName: z.string().min(1).max(100),
		output: z.json(),
		error: z.string().max(2000).optional(),
	}),
	{ internal: true },
);

export const usageSchema = z.object({ inputTokens: tokenCount, outputTokens: tokenCount, totalTokens: tokenCount });
export type Usage = z.infer<typeof usageSchema>;

/** The answer, complete: the full text (every token of the final attempt, concatenated) and what it cost. */
export const assistantMessage = defineEvent(
	"chat.assistant_message",
	z.object({
		operationId,
		messageId,
		text: z.string().max(1_000_000),
		usage: usageSchema,
		finishReason: z.string().max(64),
		steps: z.number().int().min(0),
		/** llm.token events of this operation, all attempts. */
		tokens: z.number().int().min(0),
	}),
	{ internal: true },
);

export const ERROR_REASONS = ["model_error", "interrupted"] as const;

/**
 * The model failed, or the object restarted mid-answer (`interrupted`). With `retrying`, the answer starts again:
 * text from this operation's earlier tokens is dropped, and later tokens continue the index. Otherwise it ends the operation.
 */
export const llmError = defineEvent(
	"llm.error",
	z.object({
		operationId,
		reason: z.enum(ERROR_REASONS),
		message: z.string().max(2000),
		transient: z.boolean(),
		retrying: z.boolean(),
		attempt: z.number().int().min(1),
	}),
	{ internal: true },
);

/** A running or queued answer was cancelled; `tokens` is how many llm.token events it had. */
export const chatCancelled = defineEvent("chat.cancelled", z.object({ operationId, tokens: z.number().int().min(0) }), { internal: true });

/** The oldest `dropped` messages of the window were folded into the running summary the model sees instead of them. */
export const chatSummarized = defineEvent(
	"chat.summarized",
	z.object({ dropped: z.number().int().min(1), summary: z.string().max(20_000) }),
	{ internal: true },
);

/** Longest backfilled message (POST /v1/orgs/{org}/backfill), either role. */
export const MAX_BACKFILL_MESSAGE_CHARS = 32_000;

/** A message of a past conversation, as a backfill sends it: who said it, what, and when (ms). */
export const backfilledMessageSchema = z.object({
	role: z.enum(["user", "assistant"]),
	text: z.string().min(1).max(MAX_BACKFILL_MESSAGE_CHARS),
	at: z.number().int().nonnegative(),
});
export type BackfilledMessage = z.infer<typeof backfilledMessageSchema>;

/**
 * A past message sent by a backfill, at its own time (the event's ts). `exchange`: the id of the user message that
 * opened the exchange it belongs to; each exchange is handed to the org as one interaction. The model never sees it.
 */
export const messageBackfilled = defineEvent(
	"chat.message_backfilled",
	z.object({
		role: z.enum(["user", "assistant"]),
		text: z.string().min(1).max(MAX_BACKFILL_MESSAGE_CHARS),
		exchange: z.string().min(1).max(200),
	}),
	{ internal: true },
);

export const chatCatalog = new EventCatalog([
	userMessage,
	llmStarted,
	llmToken,
	llmToolCalled,
	llmToolResult,
	assistantMessage,
	llmError,
	chatCancelled,
	chatSummarized,
	messageBackfilled,
]);

/** POST /v1/orgs/:org/chats/:id/messages. */
export const chatMessageInput = z.object({
	text: z.string().trim().min(1).max(MAX_MESSAGE_CHARS),
	clientActionId: z.string().regex(CLIENT_ACTION_ID_PATTERN, "must be 1-128 letters, digits or . _ : - (a UUID fits)"),
});
export type ChatMessageInput = z.infer<typeof chatMessageInput>;

/** POST /v1/orgs/:org/chats/:id/cancel. */
export const chatCancelInput = z.object({ operationId });
export type ChatCancelInput = z.infer<typeof chatCancelInput>;
