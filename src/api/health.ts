/**
 * `GET /healthz` for uptime monitors: no credentials, and nothing about any org. `?deep=1` also asks the registry
 * actor a question (whether an org named `healthz` exists, whose answer is dropped) and reports how long it took.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import packageJson from "../../package.json";
import { REGISTRY_NAME } from "../actors/registry.ts";
import { errorText, log } from "../core/log.ts";
import type { Env } from "../env.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { json, problemSchema, problems } from "./openapi.ts";

/** The git commit the deploy set in ROOST_VERSION (docs/deploy.md), else package.json's version. */
export const deploymentVersion = (env: Pick<Env, "ROOST_VERSION">): string => env.ROOST_VERSION?.trim() || packageJson.version;

const health = z
	.object({
		ok: z.boolean(),
		version: z.string().openapi({ description: "The deployed git commit (ROOST_VERSION), else the package version." }),
		registry: z
			.object({ ok: z.boolean(), latencyMs: z.number() })
			.optional()
			.openapi({ description: "With `?deep=1`: a round trip to the registry actor." }),
	})
	.openapi("Health");

/** The registry's round trip and its latency; a failure is logged, never answered (its message could say anything). */
async function registryRoundTrip(env: Env): Promise<{ ok: boolean; latencyMs: number }> {
	const started = Date.now();
	try {
		await env.REGISTRY.getByName(REGISTRY_NAME).hasOrg("healthz");
		return { ok: true, latencyMs: Date.now() - started };
	} catch (error) {
		log("error", "healthz: the registry did not answer", { error: errorText(error) });
		return { ok: false, latencyMs: Date.now() - started };
	}
}

export function healthRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/healthz",
			tags: ["health"],
			security: [],
			summary: "Liveness for uptime monitors (no credentials); `?deep=1` also round-trips the registry actor",
			request: { query: z.object({ deep: z.enum(["0", "1"]).optional() }) },
			responses: {
				200: json(health, "The Worker answers (and, deep, so does the registry)"),
				503: {
					content: { "application/problem+json": { schema: problemSchema } },
					description: "Deep check: the registry did not answer (the body also has `ok: false`, `version` and `registry`).",
				},
				...problems(400),
			},
		}),
		async (c) => {
			const version = deploymentVersion(c.env);
			c.header("cache-control", "no-store");
			if (c.req.valid("query").deep !== "1") return c.json({ ok: true, version }, 200);
			const registry = await registryRoundTrip(c.env);
			if (!registry.ok) throw new ApiError(503, "Unhealthy", "The registry actor did not answer.", { ok: false, version, registry });
			return c.json({ ok: true, version, registry }, 200);
		},
	);
	return app;
}
