/** The org's operating settings (docs/api.md, "Org settings"): read them (analyst), change some of them (admin). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { forgetOrgSettings } from "../actors/org-settings-cache.ts";
import { actorName } from "../core/identity.ts";
import { CAMERA_BATCH_SECONDS, CAMERA_OFFLINE_SECONDS, SESSION_INACTIVITY_SECONDS } from "../events/org-settings.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** Three small integers: a few dozen bytes. */
export const MAX_SETTINGS_BODY_BYTES = 1024;

const seconds = (bounds: { min: number; max: number }, what: string) =>
	z
		.number()
		.int()
		.min(bounds.min)
		.max(bounds.max)
		.openapi({ description: `${what}, in seconds (${bounds.min}..${bounds.max}).` });
const fields = {
	sessionInactivitySeconds: seconds(SESSION_INACTIVITY_SECONDS, "A web visit idle this long ends; a visit keeps the value it started with"),
	cameraBatchSeconds: seconds(CAMERA_BATCH_SECONDS, "A camera's batch window; from the next frame a camera receives"),
	cameraOfflineSeconds: seconds(CAMERA_OFFLINE_SECONDS, "A camera silent this long is marked offline; from the next frame it receives"),
};
const settings = z.object(fields).openapi("OrgSettings");
const change = z.object(fields).partial().strict().openapi("OrgSettingsChange");
const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const path = "/v1/orgs/{org}/settings";

export function settingsRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path,
			tags: ["orgs"],
			summary: "The org's settings in force (the deployment's defaults for any never set)",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam }) },
			responses: { 200: json(settings, "The settings in force"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			return c.json(await c.env.ORG.getByName(actorName(org, org)).settings(), 200);
		},
	);
	app.openapi(
		createRoute({
			method: "put",
			path,
			tags: ["orgs"],
			summary: "Change some of the org's settings: recorded as org.settings_set (audited); answers all of them",
			security: ORG_KEY,
			middleware: [limitBody(MAX_SETTINGS_BODY_BYTES)] as const,
			request: { params: z.object({ org: orgParam }), body: { required: true, content: { "application/json": { schema: change } } } },
			responses: { 200: json(settings, "The settings now in force"), ...problems(400, 401, 403, 404, 413, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const set = await c.env.ORG.getByName(actorName(org, org)).setSettings(c.req.valid("json"), requestMeta(c), c.get("caller").keyId);
			// This isolate's sessions and cameras see the change at once; other isolates within SETTINGS_CACHE_MS.
			forgetOrgSettings(org);
			return c.json(unwrap(set), 200);
		},
	);
	return app;
}
