/**
 * Every route under /v1/orgs/:org, as a table the auth and tenancy suites walk: how to call it on an
 * org with some credential, what a good call answers, and one bad input that names its field.
 */
import { exports } from "cloudflare:workers";
import { MAX_WEBHOOKS } from "../../src/reducers/org-webhooks.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";
import { BASE, call, createKey, pageView, uniqueId } from "./helpers.ts";

export interface Tenant {
	org: string;
	key: string;
	keyId: string;
	/** A session, camera and chat id that exist in this org (the session has events). */
	session: string;
}

export interface OrgRoute {
	/** As in /openapi.json, e.g. `GET /v1/orgs/{org}/{kind}/{id}/state`, plus the kind when one route serves several. */
	route: string;
	method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
	/** The concrete path on `tenant`; may make what it needs there first (a key to revoke). */
	path: (tenant: Tenant) => Promise<string> | string;
	body?: () => unknown;
	/** The body's content type when it is not JSON: a Uint8Array body is then sent as it is. */
	contentType?: string;
	ws?: boolean;
	ok: number;
	/** One invalid input: a different path or query, or body, and the field the 400 names. */
	invalid?: { path?: (tenant: Tenant) => string; body?: unknown; field: string };
	/** Writes: a cross-tenant call must leave the target's version where it was. */
	writes?: boolean;
	/** The least role that opens it (viewer < analyst < admin; ingest apart), as docs/api.md states it. */
	role: "admin" | "analyst" | "viewer" | "ingest";
	/** An ingest key opens it too (send-only, on sockets). */
	ingest?: true;
}

/** Sends the route's request with `credential` as the bearer token (or `?token=` on a socket); undefined sends none. */
export async function send(route: OrgRoute, path: string, credential: string | undefined, body?: unknown): Promise<Response> {
	if (route.ws) {
		const url = `${BASE}${path}${credential === undefined ? "" : `${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(credential)}`}`;
		return exports.default.fetch(url, { headers: { upgrade: "websocket" } });
	}
	const payload = body ?? route.body?.();
	const raw = payload instanceof Uint8Array;
	return call(path, {
		method: route.method,
		headers: {
			authorization: credential === undefined ? "" : `Bearer ${credential}`,
			...(raw && route.contentType ? { "content-type": route.contentType } : {}),
		},
		...(payload === undefined ? {} : { body: raw ? payload : JSON.stringify(payload) }),
	});
}

const actorBases: { kind: string; base: (t: Tenant) => string }[] = [
	{ kind: "org", base: (t) => `/v1/orgs/${t.org}` },
	{ kind: "sessions", base: (t) => `/v1/orgs/${t.org}/sessions/${t.session}` },
	{ kind: "cameras", base: (t) => `/v1/orgs/${t.org}/cameras/${t.session}` },
	{ kind: "chats", base: (t) => `/v1/orgs/${t.org}/chats/${t.session}` },
];

const readRoutes: OrgRoute[] = actorBases.flatMap(({ kind, base }): OrgRoute[] => {
	const prefix = kind === "org" ? "/v1/orgs/{org}" : "/v1/orgs/{org}/{kind}/{id}";
	const label = kind === "org" ? "" : ` (${kind})`;
	return [
		{
			route: `GET ${prefix}/events${label}`,
			method: "GET",
			path: (t) => `${base(t)}/events`,
			ok: 200,
			invalid: { path: (t) => `${base(t)}/events?limit=0`, field: "query.limit" },
			role: "viewer",
		},
		{
			route: `GET ${prefix}/state${label}`,
			method: "GET",
			path: (t) => `${base(t)}/state`,
			ok: 200,
			invalid: { path: (t) => `${base(t)}/state?at=-1`, field: "query.at" },
			role: "viewer",
		},
		{
			route: `GET ${prefix}/verify${label}`,
			method: "GET",
			path: (t) => `${base(t)}/verify`,
			ok: 200,
			...(kind === "org" ? {} : { invalid: { path: (t: Tenant) => `/v1/orgs/${t.org}/${kind}/bad%20id/verify`, field: "path.id" } }),
			role: "viewer",
		},
		{
			route: `GET ${prefix}/snapshots${label}`,
			method: "GET",
			path: (t) => `${base(t)}/snapshots`,
			ok: 200,
			...(kind === "org" ? {} : { invalid: { path: (t: Tenant) => `/v1/orgs/${t.org}/${kind}/bad%20id/snapshots`, field: "path.id" } }),
			role: "viewer",
		},
		{
			route: `GET ${prefix}/snapshots/{version}${label}`,
			method: "GET",
			// No actor snapshots at version 1 (snapshots fall at batch ends past SNAPSHOT_EVERY), so the owner's answer is the
			// route's own 404; reading a real snapshot is covered in console-api.test.ts.
			path: (t) => `${base(t)}/snapshots/1`,
			ok: 404,
			invalid: { path: (t) => `${base(t)}/snapshots/zero`, field: "path.version" },
			role: "viewer",
		},
		{
			route: `GET ${prefix}/replay${label}`,
			method: "GET",
			path: (t) => `${base(t)}/replay`,
			ok: 200,
			...(kind === "org" ? {} : { invalid: { path: (t: Tenant) => `/v1/orgs/${t.org}/${kind}/bad%20id/replay`, field: "path.id" } }),
			role: "viewer",
		},
		...(kind === "org"
			? []
			: [
					{
						route: `POST ${prefix}/import${label}`,
						method: "POST" as const,
						path: (t: Tenant) => `/v1/orgs/${t.org}/${kind}/sandbox-${crypto.randomUUID()}/import`,
						body: () => ({
							events: [
								{
									seq: 1,
									id: "imported-1",
									type: kind === "sessions" ? "session.started" : "nothing",
									v: 1,
									ts: 1,
									data: { visit: 1 },
									meta: {},
								},
							],
						}),
						// Cameras and chats refuse this made-up event by their own catalogs: the route validates like any append.
						ok: kind === "sessions" ? 200 : 400,
						invalid: { body: { events: [] }, field: "events" },
						writes: true,
						role: "analyst" as const,
					},
					{
						route: `POST ${prefix}/fork${label}`,
						method: "POST" as const,
						path: (t: Tenant) => `${base(t)}/fork`,
						body: () => ({ at: 0 }),
						ok: 201,
						invalid: { body: { at: -1 }, field: "at" },
						writes: true,
						role: "analyst" as const,
					},
				]),
		{
			route: `GET ${prefix}/ws${label}`,
			method: "GET",
			path: (t) => `${base(t)}/ws`,
			ws: true,
			ok: 101,
			invalid: { path: (t) => `${base(t)}/ws?after=-1`, field: "query.after" },
			role: "viewer",
			...(kind === "sessions" ? { ingest: true as const } : {}),
		},
	];
});

export const ORG_ROUTES: OrgRoute[] = [
	{ route: "GET /v1/orgs/{org}", method: "GET", path: (t) => `/v1/orgs/${t.org}`, ok: 200, role: "viewer" },
	{ route: "GET /v1/orgs/{org}/me", method: "GET", path: (t) => `/v1/orgs/${t.org}/me`, ok: 200, role: "viewer" },
	{ route: "GET /v1/orgs/{org}/keys", method: "GET", path: (t) => `/v1/orgs/${t.org}/keys`, ok: 200, role: "admin" },
	{ route: "GET /v1/orgs/{org}/members", method: "GET", path: (t) => `/v1/orgs/${t.org}/members`, ok: 200, role: "admin" },
	{
		route: "POST /v1/orgs/{org}/members",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/members`,
		body: () => ({ email: `${uniqueId("m")}@example.com`, role: "viewer" }),
		ok: 200,
		invalid: { body: { email: "not an email", role: "viewer" }, field: "email" },
		writes: true,
		role: "admin",
	},
	{
		route: "DELETE /v1/orgs/{org}/members",
		method: "DELETE",
		// A member added with the tenant's own key first, so there is one to remove; an org with no key just gets the path.
		path: async (t) => {
			const path = `/v1/orgs/${t.org}/members`;
			memberTarget = `${uniqueId("m")}@example.com`;
			if (!t.key) return path;
			const res = await call(path, {
				method: "POST",
				headers: { authorization: `Bearer ${t.key}` },
				body: JSON.stringify({ email: memberTarget, role: "viewer" }),
			});
			if (res.status !== 200) throw new Error(`add member: ${res.status} ${await res.text()}`);
			return path;
		},
		body: () => ({ email: memberTarget }),
		ok: 200,
		invalid: { body: { email: 7 }, field: "email" },
		writes: true,
		role: "admin",
	},
	{
		route: "GET /v1/orgs/{org}/audit",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/audit?limit=10`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/audit?limit=201`, field: "query.limit" },
		role: "admin",
	},
	{
		route: "POST /v1/orgs/{org}/socket-tickets",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/socket-tickets`,
		ok: 201,
		role: "viewer",
		ingest: true,
	},
	{
		route: "GET /v1/orgs/{org}/patterns",
		role: "viewer",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/patterns?period=hourly`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/patterns?period=fortnightly`, field: "query.period" },
	},
	{
		route: "POST /v1/orgs/{org}/rollups",
		role: "analyst",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/rollups`,
		body: () => ({ period: "hourly" }),
		// A tenant org is younger than an hour, so its last complete hour predates it: nothing to roll up, 200.
		// Rolling up a real window (201) is covered in rollups.test.ts.
		ok: 200,
		invalid: { body: { period: "fortnightly" }, field: "period" },
		writes: true,
	},
	{
		route: "GET /v1/orgs/{org}/sessions",
		role: "viewer",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/sessions?status=active`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/sessions?status=sleeping`, field: "query.status" },
	},
	{ route: "GET /v1/orgs/{org}/cameras", role: "viewer", method: "GET", path: (t) => `/v1/orgs/${t.org}/cameras`, ok: 200 },
	{
		route: "GET /v1/orgs/{org}/interactions",
		role: "viewer",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/interactions`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/interactions?limit=0`, field: "query.limit" },
	},
	{
		route: "GET /v1/orgs/{org}/interactions/search",
		role: "viewer",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/interactions/search?source=web&limit=10`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/interactions/search?limit=201`, field: "query.limit" },
	},
	{
		route: "GET /v1/orgs/{org}/projections",
		role: "admin",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/projections`,
		ok: 200,
	},
	{
		route: "POST /v1/orgs/{org}/projections/{name}/rebuild",
		role: "admin",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/projections/interactions/rebuild`,
		ok: 202,
		invalid: { path: (t) => `/v1/orgs/${t.org}/projections/Not%20a%20name/rebuild`, field: "path.name" },
	},
	{
		route: "POST /v1/orgs/{org}/keys",
		role: "admin",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/keys`,
		body: () => ({ role: "admin", label: "ci" }),
		ok: 201,
		invalid: { body: { role: "admin", label: "x".repeat(101) }, field: "label" },
		writes: true,
	},
	{
		route: "DELETE /v1/orgs/{org}/keys/{keyId}",
		role: "admin",
		method: "DELETE",
		// A key made for the occasion, with the tenant's own key, so every call has a live key to revoke.
		path: async (t) => `/v1/orgs/${t.org}/keys/${(await createKey(t.org, t.key, "to revoke")).keyId}`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/keys/bad%20id`, field: "path.keyId" },
		writes: true,
	},
	{
		route: "POST /v1/orgs/{org}/cameras/{id}/frames",
		role: "ingest",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/cameras/${t.session}/frames`,
		body: () => patternFrame("png", { square: { x: 10, y: 10, size: 20 } }),
		contentType: "image/png",
		ok: 202,
		invalid: { body: patternFrame("png").slice(0, 60), field: "body" },
		writes: true,
	},
	{
		route: "GET /v1/orgs/{org}/cameras/{id}/frames/{frameId}",
		role: "viewer",
		method: "GET",
		// The tenant's camera has no frame with this id: its own 404. Serving a stored frame is in camera-ingest.test.ts.
		path: (t) => `/v1/orgs/${t.org}/cameras/${t.session}/frames/no-such-frame`,
		ok: 404,
		invalid: { path: (t) => `/v1/orgs/${t.org}/cameras/${t.session}/frames/%20bad`, field: "path.frameId" },
	},
	{
		route: "POST /v1/orgs/{org}/sessions/{id}/events",
		role: "ingest",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/sessions/${t.session}/events`,
		body: () => ({ events: [pageView("/route-table")] }),
		ok: 202,
		invalid: {
			body: { events: [{ id: "e1", type: "session.page_viewed", ts: "soon", data: { url: "https://x/", path: "/" } }] },
			field: "events[0].ts",
		},
		writes: true,
	},
	{
		route: "POST /v1/orgs/{org}/chats/{id}/messages",
		role: "analyst",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/chats/${t.session}/messages`,
		body: () => ({ text: "How many visits ended today?", clientActionId: uniqueId("m") }),
		ok: 202,
		invalid: { body: { text: "", clientActionId: "route-table" }, field: "text" },
		writes: true,
	},
	{
		route: "POST /v1/orgs/{org}/chats/{id}/cancel",
		role: "analyst",
		method: "POST",
		// A message posted with the tenant's own key first, so there is an answer to cancel; an org that does not
		// exist (no key) just gets the path.
		path: (t) => {
			const path = `/v1/orgs/${t.org}/chats/${t.session}/cancel`;
			if (!t.key) return path;
			return postChatMessage(t, "Stop this answer").then((operationId) => {
				cancelTarget = operationId;
				return path;
			});
		},
		body: () => ({ operationId: cancelTarget }),
		ok: 200,
		invalid: { body: { operationId: "" }, field: "operationId" },
		writes: true,
	},
	...webhookRoutes(),
	{
		route: "GET /v1/orgs/{org}/parked",
		role: "analyst",
		method: "GET",
		path: (t) => `/v1/orgs/${t.org}/parked`,
		ok: 200,
		invalid: { path: (t) => `/v1/orgs/${t.org}/parked?limit=0`, field: "query.limit" },
	},
	// The tenant has no parked work: the route's own 404. Retrying and discarding real parked work is in parked.test.ts.
	{
		route: "POST /v1/orgs/{org}/parked/{id}/retry",
		role: "admin",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/parked/session.${t.session}.1/retry`,
		ok: 404,
		invalid: { path: (t) => `/v1/orgs/${t.org}/parked/bad%20id/retry`, field: "path.id" },
		writes: true,
	},
	{
		route: "POST /v1/orgs/{org}/parked/{id}/discard",
		role: "admin",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/parked/session.${t.session}.1/discard`,
		ok: 404,
		invalid: { path: (t) => `/v1/orgs/${t.org}/parked/bad%20id/discard`, field: "path.id" },
		writes: true,
	},
	{ route: "GET /v1/orgs/{org}/health", role: "analyst", method: "GET", path: (t) => `/v1/orgs/${t.org}/health`, ok: 200 },
	...["sessions", "cameras", "chats"].map(
		(kind): OrgRoute => ({
			route: `GET /v1/orgs/{org}/{kind}/{id}/health (${kind})`,
			role: "analyst",
			method: "GET",
			path: (t) => `/v1/orgs/${t.org}/${kind}/${t.session}/health`,
			ok: 200,
			invalid: { path: (t) => `/v1/orgs/${t.org}/${kind}/bad%20id/health`, field: "path.id" },
		}),
	),
	// The data policy (docs/privacy.md). DELETE /v1/orgs/{org} takes only the admin token: retention.test.ts.
	{ route: "GET /v1/orgs/{org}/policy", role: "analyst", method: "GET", path: (t) => `/v1/orgs/${t.org}/policy`, ok: 200 },
	{
		route: "PUT /v1/orgs/{org}/policy",
		role: "admin",
		method: "PUT",
		path: (t) => `/v1/orgs/${t.org}/policy`,
		body: () => ({ sessionsDays: 90, chatsDays: 90, framesDays: 30, interactionsDays: 365, archiveSessions: false }),
		ok: 200,
		invalid: {
			body: { sessionsDays: 0, chatsDays: 90, framesDays: 30, interactionsDays: 365, archiveSessions: false },
			field: "sessionsDays",
		},
		writes: true,
	},
	// The org's settings (docs/api.md, "Org settings").
	{ route: "GET /v1/orgs/{org}/settings", role: "analyst", method: "GET", path: (t) => `/v1/orgs/${t.org}/settings`, ok: 200 },
	{
		route: "PUT /v1/orgs/{org}/settings",
		role: "admin",
		method: "PUT",
		path: (t) => `/v1/orgs/${t.org}/settings`,
		body: () => ({ cameraBatchSeconds: 300 }),
		ok: 200,
		invalid: { body: { sessionInactivitySeconds: 59 }, field: "sessionInactivitySeconds" },
		writes: true,
	},
	// Backfill (docs/api.md, "Backfill"): a past page view in a session made for the occasion.
	{
		route: "POST /v1/orgs/{org}/backfill",
		role: "admin",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/backfill`,
		body: () => ({ source: "web", session: uniqueId("s"), events: [pageView("/past", Date.now() - 60_000)] }),
		ok: 202,
		invalid: { body: { source: "web", session: "s-1", events: [] }, field: "events" },
		writes: true,
	},
	// Erasure (docs/privacy.md): a session made for the occasion is erased, never the tenant's own.
	{
		route: "POST /v1/orgs/{org}/erasures",
		role: "admin",
		method: "POST",
		path: (t) => `/v1/orgs/${t.org}/erasures`,
		body: () => ({ session: uniqueId("erase") }),
		ok: 202,
		invalid: { body: { userId: "u", session: "s" }, field: "userId" },
		writes: true,
	},
	{
		route: "GET /v1/orgs/{org}/erasures/{id}",
		role: "admin",
		method: "GET",
		// The tenant has no erasure with this id: its own 404. Following a real erasure is in erasure.test.ts.
		path: (t) => `/v1/orgs/${t.org}/erasures/00000000-0000-0000-0000-000000000000`,
		ok: 404,
		invalid: { path: (t) => `/v1/orgs/${t.org}/erasures/not-an-erasure`, field: "path.id" },
	},
	...readRoutes,
];

/**
 * The webhook routes (src/api/webhooks.ts). Routes on one endpoint use an id the tenant does not have (their own
 * 404, writing nothing); creating and deleting make room first, so a suite that calls them many times on one
 * org stays under MAX_WEBHOOKS. Their good answers are in test/workers/webhooks.test.ts.
 */
function webhookRoutes(): OrgRoute[] {
	const base = "/v1/orgs/{org}/webhooks";
	const none = (t: Tenant) => `/v1/orgs/${t.org}/webhooks/wh_none`;
	const badId = (suffix = "") => ({ path: (t: Tenant) => `/v1/orgs/${t.org}/webhooks/bad%20id${suffix}`, field: "path.webhookId" });
	return [
		{ route: `GET ${base}`, role: "admin", method: "GET", path: (t) => `/v1/orgs/${t.org}/webhooks`, ok: 200 },
		{
			route: `POST ${base}`,
			role: "admin",
			method: "POST",
			path: (t) => (t.key ? makeRoomForWebhook(t).then(() => `/v1/orgs/${t.org}/webhooks`) : `/v1/orgs/${t.org}/webhooks`),
			body: () => ({ url: "https://hooks.invalid/roost", events: ["camera.offline"] }),
			ok: 201,
			invalid: { body: { url: "https://10.0.0.1/roost", events: ["camera.offline"] }, field: "url" },
			writes: true,
		},
		{ route: `GET ${base}/{webhookId}`, role: "admin", method: "GET", path: none, ok: 404, invalid: badId() },
		{
			route: `PATCH ${base}/{webhookId}`,
			role: "admin",
			method: "PATCH",
			path: none,
			body: () => ({ enabled: true }),
			ok: 404,
			invalid: { body: { enabled: "yes" }, field: "enabled" },
			writes: true,
		},
		{
			route: `DELETE ${base}/{webhookId}`,
			role: "admin",
			method: "DELETE",
			// An endpoint made for the occasion with the tenant's own key, as for keys, so every call has one to delete.
			path: (t) => (t.key ? createWebhookFor(t).then((id) => `/v1/orgs/${t.org}/webhooks/${id}`) : none(t)),
			ok: 200,
			invalid: badId(),
			writes: true,
		},
		{
			route: `POST ${base}/{webhookId}/rotate-secret`,
			role: "admin",
			method: "POST",
			path: (t) => `${none(t)}/rotate-secret`,
			ok: 404,
			invalid: badId("/rotate-secret"),
			writes: true,
		},
		{
			route: `POST ${base}/{webhookId}/test`,
			role: "admin",
			method: "POST",
			path: (t) => `${none(t)}/test`,
			ok: 404,
			invalid: badId("/test"),
			writes: true,
		},
		{
			route: `GET ${base}/{webhookId}/deliveries`,
			role: "admin",
			method: "GET",
			path: (t) => `${none(t)}/deliveries`,
			ok: 404,
			invalid: { path: (t) => `${none(t)}/deliveries?limit=0`, field: "query.limit" },
		},
		{
			route: `POST ${base}/{webhookId}/deliveries/{deliveryId}/retry`,
			role: "admin",
			method: "POST",
			path: (t) => `${none(t)}/deliveries/msg_1/retry`,
			ok: 404,
			invalid: { path: (t) => `/v1/orgs/${t.org}/webhooks/bad%20id/deliveries/msg_1/retry`, field: "path.webhookId" },
			writes: true,
		},
	];
}

/** Deletes the tenant's oldest endpoint when one more would pass the org's limit (src/reducers/org-webhooks.ts). */
async function makeRoomForWebhook(t: Tenant): Promise<void> {
	const headers = { authorization: `Bearer ${t.key}` };
	const list = await call(`/v1/orgs/${t.org}/webhooks`, { headers });
	const { webhooks } = await list.json<{ webhooks: { id: string }[] }>();
	const oldest = webhooks[0];
	if (webhooks.length >= MAX_WEBHOOKS && oldest) await call(`/v1/orgs/${t.org}/webhooks/${oldest.id}`, { method: "DELETE", headers });
}

async function createWebhookFor(t: Tenant): Promise<string> {
	await makeRoomForWebhook(t);
	const res = await call(`/v1/orgs/${t.org}/webhooks`, {
		method: "POST",
		headers: { authorization: `Bearer ${t.key}` },
		body: JSON.stringify({ url: "https://hooks.invalid/roost", events: ["camera.offline"] }),
	});
	if (res.status !== 201) throw new Error(`webhook: ${res.status} ${await res.text()}`);
	return (await res.json<{ webhook: { id: string } }>()).webhook.id;
}
/** The member the DELETE members route's body names: set by its `path`, which runs just before. */
let memberTarget = "";

/** The operation the cancel route's body names: set by its `path`, which runs just before. */
let cancelTarget = "";

/** Posts a chat message with the tenant's key; returns the answer's operation id. */
async function postChatMessage(t: Tenant, text: string): Promise<string> {
	const res = await call(`/v1/orgs/${t.org}/chats/${t.session}/messages`, {
		method: "POST",
		headers: { authorization: `Bearer ${t.key}` },
		body: JSON.stringify({ text, clientActionId: uniqueId("m") }),
	});
	if (res.status !== 202) throw new Error(`chat message: ${res.status} ${await res.text()}`);
	return (await res.json<{ operationId: string }>()).operationId;
}

/** A fresh tenant-specific session id with one batch in it. */
export async function seedSession(org: string, key: string): Promise<string> {
	const session = uniqueId("s");
	const res = await call(`/v1/orgs/${org}/sessions/${session}/events`, {
		method: "POST",
		headers: { authorization: `Bearer ${key}` },
		body: JSON.stringify({ events: [pageView("/seed"), pageView("/seed/2")] }),
	});
	if (res.status !== 202) throw new Error(`seed: ${res.status} ${await res.text()}`);
	return session;
}
