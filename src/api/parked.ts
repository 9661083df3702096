/**
 * Parked work across an org (docs/operations.md): outbox messages and timers its actors stopped retrying, listed
 * from the org's index, and one item retried or discarded by the actor that parked it, as an event in its log.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName, ID_PATTERN } from "../core/identity.ts";
import { PARK_REASONS, PARKED_WORK, parseParkedItemId } from "../events/kernel.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError, unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { kindNamed } from "../kinds.ts";
import { actorStub, id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

const parkedItem = z
	.object({
		id: z.string().openapi({ description: "`<kind>.<actor id>.<seq of its kernel.work_parked event>`: retry or discard it by this id." }),
		actor: z.object({ kind: z.string(), id: z.string() }),
		work: z.enum(PARKED_WORK),
		name: z.string().openapi({ description: "The outbox message's id, or the timer's name." }),
		reason: z.enum(PARK_REASONS),
		attempts: z.number().int(),
		lastError: z.string(),
		parkedAt: z.number().int(),
		ageMs: z.number().int(),
	})
	.openapi("ParkedItem");
const parkedPage = z
	.object({ items: z.array(parkedItem), next: z.number().int().nullable(), total: z.number().int() })
	.openapi("ParkedPage");
const parkedAction = z
	.object({
		id: z.string(),
		status: z.enum(["retried", "discarded"]),
		version: z.number().int().openapi({ description: "The acting actor's version after it." }),
		repeated: z.boolean().openapi({ description: "true: this was already done; nothing new was recorded." }),
	})
	.openapi("ParkedAction");

const PARKED_ID = new RegExp(`^[a-z]{1,32}\\.${ID_PATTERN.source.replace(/^\^|\$$/g, "")}\\.[1-9][0-9]{0,14}$`);
const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const itemParams = z.object({
	org: orgParam,
	id: z
		.string()
		.regex(PARKED_ID, "must be a parked item id, <kind>.<actor id>.<seq>")
		.openapi({ param: { name: "id", in: "path" } }),
});

export function parkedRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/parked",
			tags: ["operations"],
			summary: "Parked work across the org's actors, in the order the org heard of it",
			security: ORG_KEY,
			request: {
				params: z.object({ org: orgParam }),
				query: z.object({
					after: z.coerce.number().int().min(0).default(0).openapi({ description: "The `next` of the previous page." }),
					limit: z.coerce.number().int().min(1).max(500).default(100),
				}),
			},
			responses: { 200: json(parkedPage, "A page of parked items; `next` is null on the last page"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			return c.json(await c.env.ORG.getByName(actorName(org, org)).parkedWork(c.req.valid("query")), 200);
		},
	);
	for (const how of ["retry", "discard"] as const) {
		app.openapi(
			createRoute({
				method: "post",
				path: `/v1/orgs/{org}/parked/{id}/${how}`,
				tags: ["operations"],
				summary:
					how === "retry"
						? "Tries one parked item again (attempts start from zero); repeating it is a no-op"
						: "Gives one parked item up (a message is dropped, a timer skips this firing); repeating it is a no-op",
				security: ORG_KEY,
				request: { params: itemParams },
				responses: { 200: json(parkedAction, "Done, or done before"), ...problems(400, 401, 403, 404, 422, 429) },
			}),
			async (c) => {
				const { org, id: itemId } = c.req.valid("param");
				const where = locate(org, itemId);
				const outcome = await actorStub(c.env, where.kind, org, where.actorId).actOnParked(
					where.seq,
					how === "retry" ? "retried" : "discarded",
				);
				return c.json(unwrap(outcome), 200);
			},
		);
	}
	return app;
}

/** The actor an item id names, inside the caller's org: the org itself, or a kind that lives under it. */
function locate(org: string, itemId: string): { kind: string; actorId: string; seq: number } {
	const parsed = parseParkedItemId(itemId);
	const row = parsed ? kindNamed(parsed.kind) : undefined;
	const inOrg = row !== undefined && (row.segment !== null || (row.name === "org" && parsed?.actorId === org));
	if (!parsed || !inOrg || !ID_PATTERN.test(parsed.actorId))
		throw new ApiError(404, "Not found", `${itemId} is not parked work of org ${org}.`);
	return parsed;
}
