/** Chat: post a message (its answer streams over the chat's WebSocket as events), and cancel an answer. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { chatCancelInput, chatMessageInput } from "../events/chat.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, named, ORG_KEY, problems } from "./openapi.ts";

/** A message of 8000 characters, JSON-escaped, fits with room to spare. */
export const MAX_CHAT_BODY_BYTES = 65_536;

const params = z.object({
	org: id.openapi({ param: { name: "org", in: "path" } }),
	id: id.openapi({ param: { name: "id", in: "path" } }),
});

const accepted = z
	.object({
		messageId: z.string(),
		operationId: z.string().openapi({ description: "The answer's id: every event of it carries it; cancel with it." }),
		version: z.number().int(),
		queued: z.boolean().openapi({ description: "True when an earlier answer is still running: this one starts after it." }),
	})
	.openapi("ChatMessageAccepted");

const cancelled = z
	.object({
		operationId: z.string(),
		status: z.enum(["cancelled", "completed", "failed", "ended"]).openapi({
			description: "`cancelled`, or how the operation had already ended (`ended` when it ended too long ago to say how).",
		}),
		version: z.number().int(),
	})
	.openapi("ChatCancelResult");

export function chatRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/chats/{id}/messages",
			tags: ["chats"],
			summary: "Post a user message; the answer streams over the chat's WebSocket as events",
			security: ORG_KEY,
			middleware: [limitBody(MAX_CHAT_BODY_BYTES)] as const,
			request: {
				params,
				body: { required: true, content: { "application/json": { schema: named(chatMessageInput, "ChatMessage") } } },
			},
			responses: {
				202: json(accepted, "Accepted: the answer starts now, or after the ones queued before it"),
				...problems(400, 401, 403, 404, 413, 422, 429),
			},
		}),
		async (c) => {
			const { org, id: chatId } = c.req.valid("param");
			const outcome = await c.env.CHAT.getByName(actorName(org, chatId)).postMessage(c.req.valid("json"), requestMeta(c));
			return c.json(unwrap(outcome), 202);
		},
	);
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/chats/{id}/cancel",
			tags: ["chats"],
			summary: "Stop a running answer, or drop a queued one",
			security: ORG_KEY,
			middleware: [limitBody(4096)] as const,
			request: {
				params,
				body: { required: true, content: { "application/json": { schema: named(chatCancelInput, "ChatCancel") } } },
			},
			responses: {
				200: json(cancelled, "The operation is cancelled, or had already ended (nothing written)"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const { org, id: chatId } = c.req.valid("param");
			const outcome = await c.env.CHAT.getByName(actorName(org, chatId)).cancel(c.req.valid("json"), requestMeta(c));
			return c.json(unwrap(outcome), 200);
		},
	);
	return app;
}
