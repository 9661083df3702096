/** Web session ingest: SDK batches of 1..500 events. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { sessionBatchInput } from "../events/session.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, named, ORG_KEY, problems } from "./openapi.ts";

/** 500 events of about 2 KB each. */
export const MAX_BATCH_BYTES = 1_048_576;

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
			summary: "Append an SDK batch of 1..500 events to a web session",
			security: ORG_KEY,
			middleware: [limitBody(MAX_BATCH_BYTES)] as const,
			request: {
				params: z.object({
					org: id.openapi({ param: { name: "org", in: "path" } }),
					id: id.openapi({ param: { name: "id", in: "path" } }),
				}),
				body: { required: true, content: { "application/json": { schema: named(sessionBatchInput, "SessionBatch") } } },
			},
			responses: {
				202: json(batchResult, "Accepted; duplicates were already stored"),
				...problems(400, 401, 403, 404, 409, 413, 422, 429),
			},
		}),
		async (c) => {
			const { org, id: sessionId } = c.req.valid("param");
			const outcome = await c.env.SESSION.getByName(actorName(org, sessionId)).recordBatch(c.req.valid("json"), requestMeta(c));
			return c.json(unwrap(outcome), 202);
		},
	);
	return app;
}
