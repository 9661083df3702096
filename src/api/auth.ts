/**
 * Credentials. Until org API keys land, the admin token opens every route; browsers send it as
 * `?token=` on WebSocket upgrades because they cannot set headers there.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./problem.ts";

export function bearerToken(request: Request): string | undefined {
	const header = request.headers.get("authorization");
	if (header) {
		const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
		return match?.[1];
	}
	if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
		return new URL(request.url).searchParams.get("token") ?? undefined;
	}
	return undefined;
}

const encoder = new TextEncoder();

/** Compares two secrets in constant time (hashing first makes the lengths equal). */
export async function sameSecret(given: string, expected: string): Promise<boolean> {
	const [a, b] = await Promise.all([
		crypto.subtle.digest("SHA-256", encoder.encode(given)),
		crypto.subtle.digest("SHA-256", encoder.encode(expected)),
	]);
	return crypto.subtle.timingSafeEqual(a, b);
}

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
	const token = bearerToken(c.req.raw);
	if (!token) throw new ApiError(401, "Unauthorized", "Send `Authorization: Bearer <token>` (or `?token=` on a WebSocket upgrade).");
	if (!(await sameSecret(token, c.env.ADMIN_TOKEN))) throw new ApiError(401, "Unauthorized", "The token is not valid.");
	await next();
});
