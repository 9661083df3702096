/**
 * Backfill (docs/api.md, "Backfill"): past web events, camera batches or chat messages, appended with
 * `meta.backfilled` at their own times, so they end, hand over and roll up as live data would. Admin only.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { backfilledBatchSchema } from "../events/camera.ts";
import { backfilledMessageSchema } from "../events/chat.ts";
import { clientSessionEventInput, MAX_BATCH_EVENTS } from "../events/session.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** The same as an SDK batch: 1 MiB. */
export const MAX_BACKFILL_BYTES = 1_048_576;
/** Items (events, batches or messages) one request may carry: as many as an SDK batch. */
export const MAX_BACKFILL_ITEMS = MAX_BATCH_EVENTS;

const items = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(MAX_BACKFILL_ITEMS);
const web = z
	.object({ source: z.literal("web"), session: id, events: items(clientSessionEventInput) })
	.strict()
	.openapi("WebBackfill", { description: "SDK events as POST .../sessions/{id}/events takes them, with past `ts`." });
const cctv = z
	.object({ source: z.literal("cctv"), camera: id, batches: items(backfilledBatchSchema) })
	.strict()
	.openapi("CameraBackfill", {
		description: "Batches analysed elsewhere: `start`/`end` ms, `frames`, `motion` 0..1, `people`, `summary`.",
	});
const chat = z
	.object({ source: z.literal("chat"), chat: id, messages: items(backfilledMessageSchema) })
	.strict()
	.openapi("ChatBackfill", { description: "A past conversation's messages, in time order." });
const body = z.discriminatedUnion("source", [web, cctv, chat]).openapi("Backfill");
const result = z
	.object({
		source: z.enum(["web", "cctv", "chat"]),
		accepted: z.number().int().openapi({ description: "Items appended now." }),
		duplicates: z.number().int().openapi({ description: "Items already stored (or repeated in the request): not counted again." }),
	})
	.openapi("BackfillResult");

export function backfillRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/backfill",
			tags: ["orgs"],
			summary:
				"Append past web events, camera batches or chat messages (meta.backfilled); they end, hand over and roll up at their own times",
			security: ORG_KEY,
			middleware: [limitBody(MAX_BACKFILL_BYTES)] as const,
			request: {
				params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }),
				body: { required: true, content: { "application/json": { schema: body } } },
			},
			responses: { 202: json(result, "Accepted; duplicates were already stored"), ...problems(400, 401, 403, 404, 409, 413, 422, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const input = c.req.valid("json");
			const meta = requestMeta(c);
			const counts: { accepted: number; duplicates: number } =
				input.source === "web"
					? unwrap(
							await c.env.SESSION.getByName(actorName(org, input.session)).recordBatch({ events: input.events }, meta, { backfill: true }),
						)
					: input.source === "cctv"
						? unwrap(await c.env.CAMERA.getByName(actorName(org, input.camera)).backfillBatches(input.batches, meta))
						: unwrap(await c.env.CHAT.getByName(actorName(org, input.chat)).backfillMessages(input.messages, meta));
			const { accepted, duplicates } = counts;
			return c.json({ source: input.source, accepted, duplicates }, 202);
		},
	);
	return app;
}
