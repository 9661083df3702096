/**
 * `GET /v1/orgs/{org}/me`: who the request acts as and with what role, so the dashboard and the console know what to
 * show (the Settings view only to admins) and a client can check its credential. Never a secret: a key by its id, a
 * member (signed in through Cloudflare Access) by email.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { KEY_ROLES } from "../events/org.ts";
import { type AppEnv, principalOfCaller } from "../http/context.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, principalSchema, problems } from "./openapi.ts";

const meBody = z
	.object({
		org: z.string(),
		role: z.enum(KEY_ROLES).openapi({ description: 'The role the request acts with (docs/api.md, "Roles").' }),
		principal: principalSchema,
		via: z
			.enum(["key", "access"])
			.openapi({ description: "`key`: an API key (or a socket ticket); `access`: a Cloudflare Access sign-in." }),
	})
	.openapi("Me");

export function meRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/me",
			tags: ["orgs"],
			summary: "Who this request acts as: the key's id or the member's email, and the role",
			security: ORG_KEY,
			request: { params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }) },
			responses: { 200: json(meBody, "The caller"), ...problems(400, 401, 403, 404, 429) },
		}),
		(c) => {
			const caller = c.get("caller");
			const via = caller.member ? ("access" as const) : ("key" as const);
			return c.json({ org: caller.org, role: caller.role, principal: principalOfCaller(caller), via }, 200);
		},
	);
	return app;
}
