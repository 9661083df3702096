/**
 * Rate limits through the Workers rate-limiting bindings (wrangler.jsonc `ratelimits`): one budget per
 * client IP for every /v1 request, checked before credentials so guessing keys is throttled too, and
 * one per API key for the org routes. `RATE_LIMITS=off` turns both off (tests, benchmarks).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./problem.ts";

/** The `period` of both limiters in wrangler.jsonc (the binding allows 10 or 60): a refused caller may retry after it. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

async function within(c: Context<AppEnv>, limiter: RateLimit | undefined, key: string, who: string): Promise<void> {
	if (c.env.RATE_LIMITS === "off" || !limiter) return;
	const { success } = await limiter.limit({ key });
	if (success) return;
	throw new ApiError(
		429,
		"Too many requests",
		`Too many requests from this ${who}; retry after ${RATE_LIMIT_PERIOD_SECONDS} seconds.`,
		{},
		{ "retry-after": String(RATE_LIMIT_PERIOD_SECONDS) },
	);
}

/** Per client IP, as Cloudflare reports it; requests without one (local tools) share one budget. */
export const limitByIp = createMiddleware<AppEnv>(async (c, next) => {
	await within(c, c.env.IP_RATE_LIMIT, `ip:${c.req.header("cf-connecting-ip") ?? "unknown"}`, "address");
	await next();
});

/** Per API key; runs after requireOrgKey has named the caller. */
export const limitByKey = createMiddleware<AppEnv>(async (c, next) => {
	await chargeKey(c, 1);
	await next();
});

/** Counts `times` requests against the caller's key: each message of a JSON-RPC batch is one request. */
export async function chargeKey(c: Context<AppEnv>, times: number): Promise<void> {
	const caller = c.get("caller");
	for (let i = 0; i < times; i++) await within(c, c.env.KEY_RATE_LIMIT, `key:${caller.org}:${caller.keyId}`, "API key");
}
