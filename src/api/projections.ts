/**
 * Searching the org's interactions through its `interactions` projection (src/actors/org-search.ts), and the org's
 * projections themselves: their versions, rows and status, and a rebuild from the log (src/actors/kernel/projections.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { INTERACTION_SOURCES } from "../events/interaction.ts";
import type { AppEnv } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

const orgParam = z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) });

const hit = z
	.object({
		seq: z.number().int(),
		recordedAt: z.number().int(),
		id: z.string(),
		source: z.enum(INTERACTION_SOURCES),
		actor: z.object({ kind: z.string(), id: z.string() }),
		startedAt: z.number().int(),
		endedAt: z.number().int(),
		summary: z.record(z.string(), z.unknown()),
	})
	.openapi("InteractionHit");
const searchPage = z
	.object({
		interactions: z.array(hit),
		cursor: z.string().nullable().openapi({ description: "Pass as `cursor`; null on the last page." }),
	})
	.openapi("InteractionSearchPage");

const projectionStatus = z
	.object({
		name: z.string(),
		version: z.number().int(),
		status: z.enum(["live", "rebuilding"]),
		through: z.number().int().openapi({ description: "The seq of the org's log the projection holds up to." }),
		rows: z.number().int(),
		tables: z.array(z.object({ name: z.string(), rows: z.number().int() })),
	})
	.openapi("ProjectionStatus");
const projectionList = z.object({ projections: z.array(projectionStatus) }).openapi("ProjectionList");

const searchRoute = createRoute({
	method: "get",
	path: "/v1/orgs/{org}/interactions/search",
	tags: ["orgs"],
	summary: "Interactions by user, page, source and time, newest first, over the whole history",
	security: ORG_KEY,
	request: {
		params: orgParam,
		query: z.object({
			user: z.string().min(1).max(256).optional().openapi({ description: "A user id (none is found once the user is erased)." }),
			page: z.string().min(1).max(2048).optional().openapi({ description: "A page path the interaction viewed, exactly." }),
			source: z.enum(INTERACTION_SOURCES).optional(),
			from: z.coerce.number().int().min(0).optional().openapi({ description: "Ended at or after (ms)." }),
			to: z.coerce.number().int().min(0).optional().openapi({ description: "Ended before (ms)." }),
			cursor: z
				.string()
				.regex(/^\d{1,16}\.\d{1,16}$/)
				.optional()
				.openapi({ description: "From the previous page's `cursor`." }),
			limit: z.coerce.number().int().min(1).max(200).default(50),
		}),
	},
	responses: {
		200: json(searchPage, "A page of matching interactions, newest first (by end time, then seq)"),
		...problems(400, 401, 403, 404, 429, 503),
	},
});

export function projectionRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(searchRoute, async (c) => {
		const { org } = c.req.valid("param");
		const { user, ...query } = c.req.valid("query");
		const found = await c.env.ORG.getByName(actorName(org, org)).searchInteractions({ ...query, userId: user });
		return c.json(unwrap(found) as z.infer<typeof searchPage>, 200);
	});
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/projections",
			tags: ["orgs"],
			summary: "The org's inline projections: version, status and rows",
			security: ORG_KEY,
			request: { params: orgParam },
			responses: { 200: json(projectionList, "Every projection the org keeps"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const projections = unwrap(await c.env.ORG.getByName(actorName(org, org)).projections());
			return c.json({ projections }, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/projections/{name}/rebuild",
			tags: ["orgs"],
			summary: "Drops one projection's tables and rebuilds them from the log (in chunks; reads answer 503 until it is live)",
			security: ORG_KEY,
			request: {
				params: orgParam.extend({
					name: z
						.string()
						.regex(/^[a-z][a-z0-9_-]{0,63}$/)
						.openapi({ param: { name: "name", in: "path" } }),
				}),
			},
			responses: {
				202: json(projectionList, "The rebuild started (or finished); every projection's status"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org, name } = c.req.valid("param");
			const projections = unwrap(await c.env.ORG.getByName(actorName(org, org)).projections(name));
			return c.json({ projections }, 202);
		},
	);
	return app;
}
