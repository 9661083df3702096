/** The org's data policy (docs/privacy.md, "Retention"): read it (analyst), set it (admin). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { MAX_RETENTION_DAYS } from "../events/org-policy.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** A policy is five fields: a few hundred bytes. */
export const MAX_POLICY_BODY_BYTES = 2048;

const days = (what: string) =>
	z
		.number()
		.int()
		.min(1)
		.max(MAX_RETENTION_DAYS)
		.openapi({ description: `Days ${what}.` });
const policy = z
	.object({
		sessionsDays: days("an ended web session is kept after its last visit ended"),
		chatsDays: days("a chat is kept after its last interaction"),
		framesDays: days("a camera frame (and its analysis) is kept"),
		interactionsDays: days("the org's own interaction records are kept"),
		archiveSessions: z.boolean().openapi({ description: "Archive an ended session's events to R2 before it is erased." }),
	})
	.strict()
	.openapi("DataPolicy");
const policyView = z.object({ policy, setAt: z.number().int().nullable(), defaults: policy }).openapi("DataPolicyView");
const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const path = "/v1/orgs/{org}/policy";

export function policyRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path,
			tags: ["privacy"],
			summary: "The org's data policy (the documented defaults until an admin sets it)",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam }) },
			responses: { 200: json(policyView, "The policy in force"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			return c.json(await c.env.ORG.getByName(actorName(org, org)).policy(), 200);
		},
	);
	app.openapi(
		createRoute({
			method: "put",
			path,
			tags: ["privacy"],
			summary: "Set the org's data policy: recorded as org.policy_set, applied by the daily retention job",
			security: ORG_KEY,
			middleware: [limitBody(MAX_POLICY_BODY_BYTES)] as const,
			request: { params: z.object({ org: orgParam }), body: { required: true, content: { "application/json": { schema: policy } } } },
			responses: { 200: json(policyView, "The policy now in force"), ...problems(400, 401, 403, 404, 413, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const set = await c.env.ORG.getByName(actorName(org, org)).setPolicy(c.req.valid("json"), requestMeta(c), c.get("caller").keyId);
			return c.json(unwrap(set), 200);
		},
	);
	return app;
}
