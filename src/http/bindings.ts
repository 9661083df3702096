/**
 * A deployment that lacks a binding a feature needs answers that feature's routes with a 503 naming the binding,
 * and every other route as usual: never a crash of unrelated routes (docs/deploy.md).
 */
import { createMiddleware } from "hono/factory";
import type { Env } from "../env.ts";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./problem.ts";

/** The bindings each group of routes needs, by path. Every /v1 route and /mcp reach the registry or an org. */
const NEEDS: readonly { path: RegExp; bindings: readonly (keyof Env)[] }[] = [
	{ path: /^\/(v1\/|mcp$)/, bindings: ["REGISTRY", "ORG"] },
	{ path: /^\/v1\/orgs\/[^/]+\/sessions(\/|$)/, bindings: ["SESSION"] },
	{ path: /^\/v1\/orgs\/[^/]+\/cameras(\/|$)/, bindings: ["CAMERA", "FRAMES"] },
	{ path: /^\/v1\/orgs\/[^/]+\/chats(\/|$)/, bindings: ["CHAT"] },
];

/** The bindings a path needs that this deployment lacks. */
export function missingBindings(env: Env, path: string): string[] {
	const wanted = NEEDS.filter((need) => need.path.test(path)).flatMap((need) => need.bindings);
	return [...new Set(wanted)].filter((name) => !env[name]);
}

export const requireBindings = createMiddleware<AppEnv>(async (c, next) => {
	const missing = missingBindings(c.env, c.req.path);
	if (missing.length > 0) {
		const names = missing.join(", ");
		throw new ApiError(
			503,
			"Not configured",
			`This route needs the binding${missing.length > 1 ? "s" : ""} ${names}, which this deployment lacks: add ${missing.length > 1 ? "them" : "it"} to the environment in wrangler.jsonc (docs/deploy.md).`,
			{ missing },
		);
	}
	await next();
});
