/** The org's audit trail: who changed its keys, members, roles and data policy, newest first (admin). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import type { AppEnv } from "../http/context.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, principalSchema, problems } from "./openapi.ts";

/** Most entries on one page. */
export const MAX_AUDIT_PAGE = 200;

const principal = principalSchema.nullable().openapi({
	description: "Who acted: an API key by its id (never the key) or a member by email; null for the admin token or the system.",
});
const entry = z
	.object({
		seq: z.number().int(),
		id: z.string(),
		type: z.string(),
		ts: z.number().int(),
		principal,
		requestId: z.string().nullable(),
		data: z.unknown(),
	})
	.openapi("AuditEntry");
const auditPage = z
	.object({
		entries: z.array(entry),
		next: z.number().int().nullable().openapi({ description: "Pass as `before` for the next (older) page; null on the last." }),
	})
	.openapi("AuditPage");

export function auditRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/audit",
			tags: ["orgs"],
			summary: "Access and policy changes (keys, members, roles, policy), newest first, with who made each",
			security: ORG_KEY,
			request: {
				params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }),
				query: z.object({
					before: z.coerce
						.number()
						.int()
						.min(1)
						.optional()
						.openapi({ description: "Only changes before this seq (the previous page's `next`)." }),
					limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(50),
				}),
			},
			responses: { 200: json(auditPage, "A page of changes, newest first"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const { before, limit } = c.req.valid("query");
			const page = await c.env.ORG.getByName(actorName(org, org)).audit({ before, limit });
			return c.json(page as z.infer<typeof auditPage>, 200);
		},
	);
	return app;
}
