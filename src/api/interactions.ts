/** The interactions an org has received from its sessions, cameras and chats, paged in arrival order. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { SESSION_CURSOR } from "../actors/org-sessions.ts";
import { actorName } from "../core/identity.ts";
import { INTERACTION_SOURCES } from "../events/interaction.ts";
import type { AppEnv } from "../http/context.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

const interaction = z
	.object({
		seq: z.number().int().openapi({ description: "Where the interaction sits in the org's log; pass as `after` to page." }),
		recordedAt: z.number().int().openapi({ description: "When the org received it (ms)." }),
		id: z.string(),
		source: z.enum(INTERACTION_SOURCES),
		actor: z.object({ kind: z.string(), id: z.string() }),
		startedAt: z.number().int(),
		endedAt: z.number().int(),
		summary: z.record(z.string(), z.unknown()),
	})
	.openapi("Interaction");
const interactionPage = z.object({ interactions: z.array(interaction), next: z.number().int().nullable() }).openapi("InteractionPage");

const listing = z
	.object({
		session: z.string(),
		status: z.enum(["active", "ended"]),
		visit: z.number().int(),
		startedAt: z.number().int(),
		endedAt: z.number().int().nullable(),
		summary: z.record(z.string(), z.unknown()).nullable(),
	})
	.openapi("SessionListing");
const sessionList = z
	.object({ sessions: z.array(listing), active: z.number().int(), cursor: z.string().nullable() })
	.openapi("SessionList");

export function interactionRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/interactions",
			tags: ["orgs"],
			summary: "Interactions the org received, oldest first",
			security: ORG_KEY,
			request: {
				params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }),
				query: z.object({
					after: z.coerce.number().int().min(0).default(0).openapi({ description: "Only interactions after this seq of the org's log." }),
					limit: z.coerce.number().int().min(1).max(1000).default(100),
				}),
			},
			responses: {
				200: json(interactionPage, "A page of interactions; `next` is null on the last page"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const page = await c.env.ORG.getByName(actorName(org, org)).interactions(c.req.valid("query"));
			return c.json(page as z.infer<typeof interactionPage>, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/sessions",
			tags: ["orgs"],
			summary: "The org's web sessions: active now, ended, or both",
			security: ORG_KEY,
			request: {
				params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }),
				query: z.object({
					status: z.enum(["active", "ended", "all"]).default("all"),
					from: z.coerce.number().int().min(0).optional().openapi({ description: "Started (active) or ended (ended) at or after (ms)." }),
					to: z.coerce.number().int().min(0).optional().openapi({ description: "… and before (ms)." }),
					limit: z.coerce.number().int().min(1).max(200).default(50),
					cursor: z.string().regex(SESSION_CURSOR).optional().openapi({ description: "From the previous page's `cursor`." }),
				}),
			},
			responses: {
				200: json(sessionList, "Active sessions first (newest first), then ended visits (newest first)"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const list = await c.env.ORG.getByName(actorName(org, org)).listSessions(c.req.valid("query"));
			return c.json(list as z.infer<typeof sessionList>, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/cameras",
			tags: ["orgs"],
			summary: "The org's cameras and their last known status",
			security: ORG_KEY,
			request: { params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }) },
			responses: {
				200: json(
					z
						.object({ cameras: z.array(z.object({ camera: z.string(), status: z.enum(["online", "offline"]), since: z.number().int() })) })
						.openapi("CameraList"),
					"Cameras, most recently changed first",
				),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			return c.json(await c.env.ORG.getByName(actorName(org, org)).listCameras(), 200);
		},
	);
	return app;
}
