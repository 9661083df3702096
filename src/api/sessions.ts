/** Web session ingest: SDK batches of 1..500 events. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { actorName } from "../actors/identity.ts";
import { sessionBatchInput } from "../events/session.ts";
import { id } from "./actors.ts";
import type { AppEnv } from "./context.ts";
import { ApiError, unwrap } from "./problem.ts";
import { validationHook } from "./validation.ts";

/** 500 events of about 2 KB each. */
export const MAX_BATCH_BYTES = 1_048_576;

/** A caller's correlation id is carried into event metadata when it is a plausible id. */
function correlationId(header: string | undefined): string | undefined {
	return header && /^[\w.:-]{1,128}$/.test(header) ? header : undefined;
}

const batchResult = z
	.object({ accepted: z.number().int(), duplicates: z.number().int(), version: z.number().int() })
	.openapi("BatchResult");

export function sessionRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/sessions/{id}/events",
			tags: ["sessions"],
			middleware: [
				bodyLimit({
					maxSize: MAX_BATCH_BYTES,
					onError: () => {
						throw new ApiError(413, "Too large", `A batch body may be at most ${MAX_BATCH_BYTES} bytes.`);
					},
				}),
			] as const,
			request: {
				params: z.object({
					org: id.openapi({ param: { name: "org", in: "path" } }),
					id: id.openapi({ param: { name: "id", in: "path" } }),
				}),
				body: { required: true, content: { "application/json": { schema: sessionBatchInput.openapi("SessionBatch") } } },
			},
			responses: {
				202: { content: { "application/json": { schema: batchResult } }, description: "Accepted; duplicates were already stored" },
			},
		}),
		async (c) => {
			const { org, id: sessionId } = c.req.valid("param");
			const requestId = c.get("requestId");
			const meta = { requestId, correlationId: correlationId(c.req.header("x-correlation-id")) ?? requestId };
			const outcome = await c.env.SESSION.getByName(actorName(org, sessionId)).recordBatch(c.req.valid("json"), meta);
			return c.json(unwrap(outcome), 202);
		},
	);
	return app;
}
