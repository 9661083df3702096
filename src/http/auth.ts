/**
 * Credentials. The admin token opens the admin routes only (creating and listing orgs); everything
 * under /v1/orgs/:org needs one of that org's API keys, checked with its org actor and remembered in the isolate for
 * at most 10 s (src/http/key-cache.ts): a key revoked elsewhere stops working within that, at once in this isolate. Browsers open WebSockets with `?ticket=` (a single-use socket ticket);
 * `?token=<key>` on an upgrade still works for Node clients, and is deprecated for browsers (URLs are logged).
 *
 * 401: no credentials, or credentials that are not a live key (malformed, unknown, revoked).
 * 404: a live key of another org: the same answer as an org that does not exist, so nothing leaks.
 * 403: a live key of the org whose role does not open the route (each route's least role: src/http/roles.ts).
 */
import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import { actorName, memberKeyId } from "../core/identity.ts";
import type { Env } from "../env.ts";
import { accessIdentity } from "./access.ts";
import { claimedOrg, hashApiKey } from "./api-keys.ts";
import type { AppEnv, Caller } from "./context.ts";
import { refuseCrossSiteChange } from "./csrf.ts";
import { cachedKey } from "./key-cache.ts";
import { orgExists } from "./org-existence.ts";
import { ApiError, notFound } from "./problem.ts";
import { forbidden, opens, routeRole } from "./roles.ts";
import { ticketOwner } from "./tickets.ts";

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

const HOW = "Send `Authorization: Bearer <token>` (or `?ticket=` from POST /v1/orgs/{org}/socket-tickets on a WebSocket upgrade).";

/** A socket ticket in `?ticket=`, honoured on WebSocket upgrades of `/ws` routes only. */
function socketTicket(request: Request): string | undefined {
	if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
	const url = new URL(request.url);
	return url.pathname.endsWith("/ws") ? (url.searchParams.get("ticket") ?? undefined) : undefined;
}

const unauthorized = (detail: string) => new ApiError(401, "Unauthorized", detail);

/** The admin token wrangler.jsonc sets for local development: public, so accepted only where ROOST_ENV is "development". */
export const DEV_ADMIN_TOKEN = "roost-dev-admin";

/** The admin token this deployment accepts, or the 503 that says why it accepts none. */
function adminSecret(env: Env): string {
	const secret = env.ADMIN_TOKEN;
	if (!secret)
		throw new ApiError(
			503,
			"Not configured",
			"The admin routes are off: the secret ADMIN_TOKEN is not set (`wrangler secret put ADMIN_TOKEN`).",
		);
	if (secret === DEV_ADMIN_TOKEN && env.ROOST_ENV !== "development")
		throw new ApiError(
			503,
			"Not configured",
			`The admin routes are off: ADMIN_TOKEN is the public development default, refused unless ROOST_ENV is "development". Set a secret with \`wrangler secret put ADMIN_TOKEN\`.`,
		);
	return secret;
}

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
	const secret = adminSecret(c.env);
	const token = bearerToken(c.req.raw);
	if (!token) throw unauthorized(`This route needs the admin token. ${HOW}`);
	if (!(await sameSecret(token, secret))) throw unauthorized("The admin token is not valid.");
	await next();
});

/** Lets a request through only with a live API key of the org in its path, whose role opens the route. */
export const requireOrgKey = createMiddleware<AppEnv>(async (c, next) => {
	const operator = await operatorCaller(c);
	if (operator) {
		c.set("caller", operator);
		return next();
	}
	const ticket = socketTicket(c.req.raw);
	const token = ticket ? undefined : bearerToken(c.req.raw);
	if (!ticket && !token) {
		// No key: a member signed in through Cloudflare Access, when it is configured.
		const member = await accessMember(c);
		if (!member) throw unauthorized(`This route needs an API key of the org. ${HOW}`);
		// The Access identity is a cookie the browser sends by itself: no changes from other sites (src/http/csrf.ts).
		refuseCrossSiteChange(c.req.raw);
		return authorize(c, member, next);
	}
	const caller = ticket ? await ticketOwner(c.env, ticket) : token ? await keyOwner(c.env, token) : null;
	if (!caller)
		throw unauthorized(
			ticket
				? "The socket ticket is not valid: unknown, used, expired, or its key was revoked or expired."
				: "The API key is not valid, or it was revoked or expired.",
		);
	if (caller.org !== c.req.param("org")) throw notFound(c);
	return authorize(c, caller, next);
});

/**
 * The operator with the admin token, on the org routes that take it (following and deleting an org: roles.ts
 * `adminToken`); undefined for any other credential. A route that takes only the admin token refuses org keys (403).
 */
async function operatorCaller(c: Context<AppEnv>): Promise<Caller | undefined> {
	const need = routeRole(c.req.method, c.req.path);
	if (!need.adminToken) return undefined;
	const token = bearerToken(c.req.raw);
	const org = c.req.param("org") ?? "";
	if (token && !claimedOrg(token) && (await sameSecret(token, adminSecret(c.env)))) {
		if (!(await orgExists(c.env, org))) throw notFound(c);
		return { org, keyId: "admin-token", role: "admin" };
	}
	if (need.adminToken === "only") {
		if (!token) throw unauthorized(`This route needs the admin token. ${HOW}`);
		if (claimedOrg(token))
			throw new ApiError(403, "Forbidden", "Deleting an org needs the deployment's admin token; an org key never opens it.", {
				requiredRole: "admin",
			});
		throw unauthorized("The admin token is not valid.");
	}
	return undefined;
}

function authorize(c: Context<AppEnv>, caller: Caller, next: Next): Promise<void> {
	const need = routeRole(c.req.method, c.req.path);
	if (!opens(caller.role, need)) throw forbidden(caller.role, need, `${c.req.method} ${c.req.path}`);
	c.set("caller", caller);
	return next();
}

/**
 * The member a verified Cloudflare Access token names, as a caller of `org`; undefined without a token (or with Access
 * off). 401 for a token that fails verification, 404 for an org that does not exist, 403 for an email that is not a
 * member of the org.
 */
async function accessMember(c: Context<AppEnv>): Promise<Caller | undefined> {
	const identity = await accessIdentity(c.env, c.req.raw);
	if (!identity) return undefined;
	if (!identity.ok) throw unauthorized(`The Cloudflare Access token is not valid: ${identity.reason}.`);
	const org = c.req.param("org") ?? "";
	if (!(await orgExists(c.env, org))) throw notFound(c);
	const role = await c.env.ORG.getByName(actorName(org, org)).memberRole(identity.email);
	if (!role)
		throw new ApiError(
			403,
			"Forbidden",
			`${identity.email} is not a member of this org: an admin adds members with POST /v1/orgs/{org}/members.`,
		);
	return { org, keyId: memberKeyId(identity.email), role, member: identity.email };
}

/**
 * The org, key id and role of a live API key (asked of the org the key names, compared in constant time there, and
 * remembered in this isolate: src/http/key-cache.ts), or null. The org must be in the registry first (cached per
 * isolate: src/http/org-existence.ts).
 */
export async function keyOwner(env: Env, apiKey: string): Promise<Caller | null> {
	const org = claimedOrg(apiKey);
	// A key naming an org that was never registered is refused here: asking its actor would create it.
	if (!org || !(await orgExists(env, org))) return null;
	const hash = await hashApiKey(apiKey);
	return cachedKey(org, hash, () => env.ORG.getByName(actorName(org, org)).authenticate(hash));
}
