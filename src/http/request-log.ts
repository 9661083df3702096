/**
 * One JSON log line per request (docs/operations.md): request id, correlation id, org, the key that called, the
 * route pattern (never the path, whose ids a caller chose), status and milliseconds. Nothing from the body or the
 * credentials. The same figures go to the metrics (src/core/metrics.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { log } from "../core/log.ts";
import { metricsFor } from "../core/metrics.ts";
import { type AppEnv, requestMeta } from "./context.ts";

export const requestLog: MiddlewareHandler<AppEnv> = async (c, next) => {
	const started = Date.now();
	await next();
	const status = c.res.status;
	const ms = Date.now() - started;
	const fields = requestFields(c);
	log(status >= 500 ? "error" : "info", "request", { ...fields, method: c.req.method, status, ms });
	metricsFor(c.env.METRICS).request(fields.org, fields.route ?? "(unmatched)", c.req.method, status, ms);
};

/** The fields that say which request a line is about. */
export function requestFields(c: Context<AppEnv>): Record<string, string | undefined> {
	const { requestId, correlationId } = requestMeta(c);
	const caller = c.get("caller");
	// The handler's pattern (`/v1/orgs/:org/parked`), not the middleware's (`*`); none for a 404.
	const route = matchedRoutes(c).findLast((r) => r.method !== "ALL")?.path;
	return { requestId, correlationId, org: caller?.org, keyId: caller?.keyId, route };
}
