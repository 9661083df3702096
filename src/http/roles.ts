/**
 * The least role each org route needs, in one place: requireOrgKey checks every request against it, /openapi.json
 * shows it on every operation (`x-roost-role`) and docs/api.md names it per route. Roles are ordered
 * viewer < analyst < admin; `ingest` stands apart and opens only what sends events in. A route missing here needs
 * `admin`, so a route added without a row is closed rather than open.
 */
import type { KeyRole } from "../events/org.ts";
import { ApiError } from "./problem.ts";

export interface RouteRole {
	method: "GET" | "POST" | "PUT" | "DELETE";
	/** The deployment's admin token opens it too (`also`), or only it does (`only`): following and deleting an org. */
	adminToken?: "also" | "only";
	/** As in /openapi.json: `{name}` is one path segment. */
	path: string;
	/** The least role that opens the route. */
	role: KeyRole;
	/** An ingest key opens it too (the session socket, send-only, and the ticket for it). */
	ingest?: true;
}

const ACTOR = "/v1/orgs/{org}/{kind}/{id}";

export const ROUTE_ROLES: readonly RouteRole[] = [
	{ method: "GET", path: "/v1/orgs/{org}", role: "viewer", adminToken: "also" },
	{ method: "GET", path: "/v1/orgs/{org}/me", role: "viewer" },
	{ method: "DELETE", path: "/v1/orgs/{org}", role: "admin", adminToken: "only" },
	{ method: "GET", path: "/v1/orgs/{org}/policy", role: "analyst" },
	{ method: "PUT", path: "/v1/orgs/{org}/policy", role: "admin" },
	{ method: "GET", path: "/v1/orgs/{org}/settings", role: "analyst" },
	{ method: "PUT", path: "/v1/orgs/{org}/settings", role: "admin" },
	{ method: "POST", path: "/v1/orgs/{org}/backfill", role: "admin" },
	{ method: "GET", path: "/v1/orgs/{org}/keys", role: "admin" },
	{ method: "POST", path: "/v1/orgs/{org}/keys", role: "admin" },
	{ method: "DELETE", path: "/v1/orgs/{org}/keys/{keyId}", role: "admin" },
	{ method: "GET", path: "/v1/orgs/{org}/audit", role: "admin" },
	{ method: "GET", path: "/v1/orgs/{org}/members", role: "admin" },
	{ method: "POST", path: "/v1/orgs/{org}/members", role: "admin" },
	{ method: "DELETE", path: "/v1/orgs/{org}/members", role: "admin" },
	{ method: "POST", path: "/v1/orgs/{org}/socket-tickets", role: "viewer", ingest: true },
	{ method: "POST", path: "/v1/orgs/{org}/sessions/{id}/events", role: "ingest" },
	{ method: "POST", path: "/v1/orgs/{org}/cameras/{id}/frames", role: "ingest" },
	{ method: "GET", path: "/v1/orgs/{org}/cameras/{id}/frames/{frameId}", role: "viewer" },
	{ method: "GET", path: "/v1/orgs/{org}/sessions", role: "viewer" },
	{ method: "GET", path: "/v1/orgs/{org}/cameras", role: "viewer" },
	{ method: "GET", path: "/v1/orgs/{org}/interactions", role: "viewer" },
	{ method: "GET", path: "/v1/orgs/{org}/interactions/search", role: "viewer" },
	{ method: "GET", path: "/v1/orgs/{org}/projections", role: "admin" },
	{ method: "POST", path: "/v1/orgs/{org}/projections/{name}/rebuild", role: "admin" },
	{ method: "GET", path: "/v1/orgs/{org}/patterns", role: "viewer" },
	{ method: "POST", path: "/v1/orgs/{org}/rollups", role: "analyst" },
	{ method: "POST", path: "/v1/orgs/{org}/chats/{id}/messages", role: "analyst" },
	{ method: "POST", path: "/v1/orgs/{org}/chats/{id}/cancel", role: "analyst" },
	// The session socket: an ingest key's is send-only; the others' get the log.
	{ method: "GET", path: "/v1/orgs/{org}/sessions/{id}/ws", role: "viewer", ingest: true },
	...["events", "state", "verify", "ws", "snapshots", "snapshots/{version}", "replay"].flatMap((read): RouteRole[] => [
		{ method: "GET", path: `/v1/orgs/{org}/${read}`, role: "viewer" },
		{ method: "GET", path: `${ACTOR}/${read}`, role: "viewer" },
	]),
	{ method: "GET", path: "/v1/orgs/{org}/health", role: "analyst" },
	{ method: "GET", path: `${ACTOR}/health`, role: "analyst" },
	{ method: "GET", path: "/v1/orgs/{org}/parked", role: "analyst" },
	{ method: "POST", path: `${ACTOR}/import`, role: "analyst" },
	{ method: "POST", path: `${ACTOR}/fork`, role: "analyst" },
];

const RANK: Record<Exclude<KeyRole, "ingest">, number> = { viewer: 1, analyst: 2, admin: 3 };

const pattern = (path: string) => new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
const COMPILED = ROUTE_ROLES.map((row) => ({ row, regex: pattern(row.path) }));

/** The row for a request (HEAD is GET); a request no row matches needs `admin`. */
export function routeRole(method: string, path: string): RouteRole {
	const m = method === "HEAD" ? "GET" : method;
	return COMPILED.find(({ row, regex }) => row.method === m && regex.test(path))?.row ?? { method: "GET", path, role: "admin" };
}

/** Whether a caller with `role` may use the route. */
export function opens(role: KeyRole, need: Pick<RouteRole, "role" | "ingest">): boolean {
	if (role === "admin") return true;
	if (role === "ingest") return need.role === "ingest" || need.ingest === true;
	if (need.role === "ingest") return false;
	return RANK[role] >= RANK[need.role];
}

/** What a route needs, in words: the 403's detail names it. */
export function neededRole(need: Pick<RouteRole, "role" | "ingest">): string {
	if (need.role === "ingest") return "the ingest role (or admin)";
	return `the ${need.role} role or higher${need.ingest ? " (or ingest)" : ""}`;
}

export function forbidden(role: KeyRole, need: Pick<RouteRole, "role" | "ingest">, what: string): ApiError {
	return new ApiError(403, "Forbidden", `${what} needs ${neededRole(need)}; this credential has the ${role} role.`, {
		requiredRole: need.role,
	});
}
