/** An org's members: the people who sign in through Cloudflare Access, each with a role (admin). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { MEMBER_ROLES, memberEmail } from "../events/org.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, named, ORG_KEY, problems } from "./openapi.ts";

/** A member body is an email and a role: well under 1 KiB. */
const MAX_MEMBER_BODY_BYTES = 1024;

/** The email Cloudflare Access signs in its token (compared lowercased). */
const email = named(memberEmail, "MemberEmail");
const role = z.enum(MEMBER_ROLES).openapi({ description: 'What the member may do: see docs/api.md, "Roles".' });
const member = z.object({ email: z.string(), role, since: z.number().int() }).openapi("Member");
const orgParam = z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) });

export function memberRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	const org = (c: { env: AppEnv["Bindings"] }, name: string) => c.env.ORG.getByName(actorName(name, name));

	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/members",
			tags: ["orgs"],
			summary: "The org's members, by email",
			security: ORG_KEY,
			request: { params: orgParam },
			responses: {
				200: json(z.object({ members: z.array(member) }).openapi("MemberList"), "Members"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => c.json({ members: await org(c, c.req.valid("param").org).members() }, 200),
	);

	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/members",
			tags: ["orgs"],
			summary: "Add a member, or change a member's role",
			security: ORG_KEY,
			middleware: [limitBody(MAX_MEMBER_BODY_BYTES)] as const,
			request: {
				params: orgParam,
				body: { required: true, content: { "application/json": { schema: z.object({ email, role }).openapi("AddMember") } } },
			},
			responses: {
				200: json(z.object({ member }).openapi("AddedMember"), "The member as they are now"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const added = unwrap(await org(c, c.req.valid("param").org).addMember(c.req.valid("json"), requestMeta(c)));
			return c.json({ member: added }, 200);
		},
	);

	app.openapi(
		createRoute({
			method: "delete",
			path: "/v1/orgs/{org}/members",
			tags: ["orgs"],
			summary: "Remove a member: their Access sign-in opens nothing from the next request on",
			security: ORG_KEY,
			middleware: [limitBody(MAX_MEMBER_BODY_BYTES)] as const,
			request: {
				params: orgParam,
				body: { required: true, content: { "application/json": { schema: z.object({ email }).openapi("RemoveMember") } } },
			},
			responses: {
				200: json(z.object({ removed: z.object({ email: z.string() }) }).openapi("RemovedMember"), "Removed"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const removed = unwrap(await org(c, c.req.valid("param").org).removeMember(c.req.valid("json").email, requestMeta(c)));
			return c.json({ removed }, 200);
		},
	);
	return app;
}
