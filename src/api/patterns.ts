/** Rollups, the patterns found in them and their reports; and ad hoc rollup runs. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { RollupRun } from "../actors/org.ts";
import { actorName } from "../core/identity.ts";
import type { Outcome } from "../core/outcome.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { PERIODS } from "../patterns/windows.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

const period = z.enum(PERIODS);
const params = z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) });
const window = z.object({ start: z.number().int(), end: z.number().int() });
const rollup = z
	.object({
		period: z.string(),
		start: z.number().int(),
		end: z.number().int(),
		label: z.string(),
		metrics: z.record(z.string(), z.unknown()),
	})
	.openapi("Rollup");
const finding = z
	.object({
		id: z.string(),
		type: z.string(),
		period,
		window,
		source: z.string(),
		metric: z.string(),
		value: z.number(),
		confidence: z.number(),
		baseline: z.record(z.string(), z.unknown()),
		detail: z.string(),
	})
	.openapi("Pattern");
const report = z
	.object({
		period,
		start: z.number().int(),
		end: z.number().int(),
		provider: z.string(),
		report: z.object({ headline: z.string(), highlights: z.array(z.string()), concerns: z.array(z.string()) }),
	})
	.openapi("Report");
const patternsView = z
	.object({ period: z.string(), rollups: z.array(rollup), patterns: z.array(finding), reports: z.array(report) })
	.openapi("Patterns");
const rollupRun = z.object({ period, window, duplicate: z.boolean(), rollup: rollup.nullable() }).openapi("RollupRun");

export function patternRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/patterns",
			tags: ["orgs"],
			summary: "Rollups of a period, newest first, with their patterns and reports",
			security: ORG_KEY,
			request: {
				params,
				query: z.object({
					period: z.enum([...PERIODS, "all"]).default("daily"),
					limit: z.coerce.number().int().min(1).max(200).default(24),
				}),
			},
			responses: { 200: json(patternsView, "Rollups, patterns and reports"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const view = await c.env.ORG.getByName(actorName(org, org)).patterns(c.req.valid("query"));
			return c.json(view as z.infer<typeof patternsView>, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/rollups",
			tags: ["orgs"],
			summary: "Roll up the last complete window of a period now",
			security: ORG_KEY,
			middleware: [limitBody(1024)] as const,
			request: {
				params,
				body: { required: true, content: { "application/json": { schema: z.object({ period }).openapi("RollupRequest") } } },
			},
			responses: {
				200: json(rollupRun, "The window was already rolled up: nothing was appended (`duplicate: true`)"),
				201: json(rollupRun, "The window was rolled up now"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const outcome = await c.env.ORG.getByName(actorName(org, org)).runRollup(c.req.valid("json").period, requestMeta(c));
			// RPC typing cannot follow the metrics view through the Outcome union; the value is the actor's RollupRun.
			const run = unwrap(outcome as unknown as Outcome<RollupRun>);
			return run.duplicate ? c.json(run as z.infer<typeof rollupRun>, 200) : c.json(run as z.infer<typeof rollupRun>, 201);
		},
	);
	return app;
}
