/** Pieces every route's OpenAPI description shares: the problem body, error responses and the two credentials. */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/context.ts";
import { neededRole, routeRole } from "../http/roles.ts";

export const problemSchema = z
	.object({
		type: z.string(),
		title: z.string(),
		status: z.number().int(),
		detail: z.string(),
		errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
		currentVersion: z.number().int().optional().openapi({ description: "On 409: the actor's version now." }),
	})
	.openapi("Problem");

const PROBLEMS = {
	400: "Invalid input: `errors` names each field (`path.<param>`, `query.<param>`, or the body path).",
	401: "Missing credentials, or a key that is malformed, unknown or revoked.",
	403: "A live key of the org whose role does not open this route (`x-roost-role` names the least role; `requiredRole` in the body).",
	404: "Nothing here: an unknown id, or another org's path (the two are not told apart).",
	409: "Conflict: the body has `currentVersion`.",
	410: "Gone: the events asked for were compacted to the archive; `gone` names the checkpoint and the R2 segments.",
	413: "The body is over this route's size limit.",
	422: "Events rejected: a reducer refused one, so nothing in the batch was appended.",
	426: "A WebSocket route called without `Upgrade: websocket`.",
	429: "Rate limited: retry after the `Retry-After` seconds.",
	503: "Not ready or not configured: a projection rebuilding from the log, or a secret the deployment lacks (the detail says which).",
} as const;
export type ProblemStatus = keyof typeof PROBLEMS;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

/** Problem responses for the statuses a route can answer with. */
export function problems(...statuses: ProblemStatus[]) {
	const out: Partial<
		Record<ProblemStatus, { content: { "application/problem+json": { schema: typeof problemSchema } }; description: string }>
	> = {};
	for (const status of statuses)
		out[status] = { content: { "application/problem+json": { schema: problemSchema } }, description: PROBLEMS[status] };
	return out;
}

/** Who acted, as event meta and the audit trail carry it: a key by its id (never the key), or a member by email. */
export const principalSchema = z
	.union([
		z.object({ kind: z.literal("key"), id: z.string().min(1).max(128) }),
		z.object({ kind: z.literal("member"), email: z.string().min(1).max(254) }),
	])
	.openapi("Principal");

/** Event meta as stored and read: string fields, `backfilled`, `receivedAt` (ms) and the principal. */
export const metaSchema = z.record(z.string(), z.union([z.string(), z.literal(true), z.number().int().nonnegative(), principalSchema]));

/** Every org route: an API key of the org in the path. */
export const ORG_KEY = [{ orgKey: [] }];
/** Admin routes: the deployment's admin token. */
export const ADMIN_TOKEN = [{ adminToken: [] }];

export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>): void {
	app.openAPIRegistry.registerComponent("securitySchemes", "orgKey", {
		type: "http",
		scheme: "bearer",
		description: "An API key of the org in the path (`rk_<org>.<secret>`); on WebSocket upgrades, `?token=<key>` instead.",
	});
	app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
		type: "http",
		scheme: "bearer",
		description: "The deployment's admin token (ADMIN_TOKEN). It opens the admin routes only, never org data.",
	});
}

/**
 * Names a schema made outside the API for the OpenAPI document. The event modules use plain zod, and a schema
 * built before @hono/zod-openapi extends zod has no `.openapi` of its own (zod 4 copies methods onto each schema
 * when it is made), so the method is taken from the extended prototype: no import order to get right.
 */
export function named<T extends z.ZodType>(schema: T, name: string): T {
	return z.ZodType.prototype.openapi.call(schema, name) as T;
}

type Operations = Record<string, Record<string, { "x-roost-role"?: string; "x-roost-ingest"?: boolean; description?: string }>>;

/** Marks every org operation with the least role it needs (src/http/roles.ts), so the document says what the middleware checks. */
export function withRoles<T extends { paths?: unknown }>(doc: T): T {
	for (const [path, methods] of Object.entries((doc.paths ?? {}) as Operations)) {
		if (!path.startsWith("/v1/orgs/{org}")) continue;
		for (const [method, operation] of Object.entries(methods)) {
			const need = routeRole(method.toUpperCase(), path.replace(/\{[^}]+\}/g, "x"));
			operation["x-roost-role"] = need.role;
			if (need.ingest) operation["x-roost-ingest"] = true;
			operation.description = `${operation.description ? `${operation.description}\n\n` : ""}Needs ${neededRole(need)}.`;
		}
	}
	return doc;
}
