/**
 * Orgs and their API keys. Creating and listing orgs takes the admin token; reading an org and
 * managing its keys takes one of its own keys (requireOrgKey, mounted for all of /v1/orgs/:org).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { REGISTRY_NAME } from "../actors/registry.ts";
import { actorName } from "../core/identity.ts";
import { KEY_ROLES, MAX_HISTORY_AGE_MS } from "../events/org.ts";
import { mintApiKey } from "../http/api-keys.ts";
import { requireAdmin } from "../http/auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { keyCreated, keyRevoked, orgKeysDropped } from "../http/key-cache.ts";
import { orgCreated } from "../http/org-existence.ts";
import { ApiError, unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { ADMIN_TOKEN, json, ORG_KEY, problems } from "./openapi.ts";

/** Org and key bodies are a name, a label and an action id: a few hundred bytes. */
export const MAX_ORG_BODY_BYTES = 4096;

const clientActionId = z
	.string()
	.min(1)
	.max(128)
	.openapi({ description: "Makes a retry safe: the same id never makes a second org or a second live key (see docs/api.md)." });

const createOrgBody = z
	.object({
		name: z.string().trim().min(1).max(200),
		clientActionId: clientActionId.optional(),
		// Checked here too (the org checks it again), so a refused start never registers an org.
		historyFrom: z
			.number()
			.int()
			.refine((at) => at <= Date.now() && at >= Date.now() - MAX_HISTORY_AGE_MS, "must be in the past 400 days")
			.optional()
			.openapi({
				description:
					"Where the org's rollups start, in ms, when history from before its creation will be backfilled (at most 400 days back); default: its creation.",
			}),
	})
	.openapi("CreateOrg");
const keyRole = z.enum(KEY_ROLES).openapi({
	description:
		'`admin` opens everything (keys included); `analyst` every read, chats, rollups, sandboxes, forks and imports; `viewer` reads, sockets and MCP; `ingest` only sends session events and camera frames (for public web pages and devices). See docs/api.md, "Roles".',
});
/** The furthest a key may be set to expire: ten years. */
const MAX_KEY_LIFETIME_MS = 10 * 365 * 24 * 60 * 60_000;
const createKeyBody = z
	.object({
		role: keyRole,
		label: z.string().trim().min(1).max(100).optional(),
		expiresAt: z
			.number()
			.int()
			.positive()
			.max(8_640_000_000_000_000)
			.optional()
			.openapi({ description: "When the key stops working (ms since the epoch; in the future, at most ten years on)." }),
		clientActionId: clientActionId.optional(),
	})
	.openapi("CreateKey");

const keyView = z
	.object({
		id: z.string(),
		label: z.string().nullable(),
		role: keyRole,
		createdAt: z.number().int(),
		revokedAt: z.number().int().nullable(),
		expiresAt: z.number().int().nullable(),
	})
	.openapi("ApiKey");
const orgProfile = z.object({ id: z.string(), name: z.string(), createdAt: z.number().int() }).openapi("Org");
const createdOrg = z
	.object({
		org: orgProfile,
		apiKey: z.string().openapi({ description: "The org's first API key. Shown once: only its SHA-256 is stored." }),
		key: keyView,
	})
	.openapi("CreatedOrg");
const orgList = z
	.object({ orgs: z.array(z.object({ id: z.string(), name: z.string(), registeredAt: z.number().int() })) })
	.openapi("OrgList");
const count = z.number().int();
const deletionView = z
	.object({
		status: z.enum(["deleting", "deleted"]),
		requestedAt: count,
		deletedAt: count.nullable(),
		counts: z.object({ actors: count, actorsErased: count, keys: count, keysShredded: count, objectsDeleted: count }),
	})
	.openapi("OrgDeletion");
const orgView = z
	.object({ org: orgProfile, keys: z.array(keyView), version: z.number().int(), deletion: deletionView.optional() })
	.openapi("OrgView");
const createdKey = z
	.object({ apiKey: z.string().openapi({ description: "Shown once: only its SHA-256 is stored." }), key: keyView })
	.openapi("CreatedKey");

const orgParam = id.openapi({ param: { name: "org", in: "path" } });

const registry = (c: Context<AppEnv>) => c.env.REGISTRY.getByName(REGISTRY_NAME);
const orgActor = (c: Context<AppEnv>, org: string) => c.env.ORG.getByName(actorName(org, org));

export function orgRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs",
			tags: ["orgs"],
			summary: "Create an org and its first API key (admin)",
			security: ADMIN_TOKEN,
			middleware: [requireAdmin, limitBody(MAX_ORG_BODY_BYTES)] as const,
			request: { body: { required: true, content: { "application/json": { schema: createOrgBody } } } },
			responses: { 201: json(createdOrg, "The org, and its first API key"), ...problems(400, 401, 413, 429, 503) },
		}),
		async (c) => {
			const { name, clientActionId, historyFrom } = c.req.valid("json");
			const meta = requestMeta(c);
			const registered = unwrap(await registry(c).register({ name, clientActionId }, meta));
			orgCreated(registered.id);
			const key = await mintApiKey(registered.id, "admin", { label: "initial" });
			// A retry reaches the same org through the registry; the org then replaces the key the lost answer carried.
			const created = unwrap(await orgActor(c, registered.id).create({ name: registered.name, key, clientActionId, historyFrom }, meta));
			return c.json({ org: created.org, apiKey: key.apiKey, key: created.key }, 201);
		},
	);

	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs",
			tags: ["orgs"],
			summary: "List every org (admin)",
			security: ADMIN_TOKEN,
			middleware: [requireAdmin] as const,
			responses: { 200: json(orgList, "Every org, oldest first"), ...problems(401, 429, 503) },
		}),
		async (c) => c.json({ orgs: await registry(c).list() }, 200),
	);

	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}",
			tags: ["orgs"],
			summary: "The org: profile, keys (never their hashes), log version, and its deletion's progress (org key or admin token)",
			security: [...ORG_KEY, ...ADMIN_TOKEN],
			request: { params: z.object({ org: orgParam }) },
			responses: { 200: json(orgView, "The org"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => c.json(unwrap(await orgActor(c, c.req.valid("param").org).view()), 200),
	);

	app.openapi(
		createRoute({
			method: "delete",
			path: "/v1/orgs/{org}",
			tags: ["orgs"],
			summary: "Delete the org (admin token): its keys stop at once, then every actor and R2 object of it is erased",
			security: ADMIN_TOKEN,
			request: { params: z.object({ org: orgParam }) },
			responses: { 202: json(deletionView, "The deletion: follow it on GET /v1/orgs/{org}"), ...problems(400, 401, 403, 404, 429, 503) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const deletion = unwrap(await orgActor(c, org).deleteOrg(requestMeta(c), null));
			orgKeysDropped(org);
			return c.json(deletion, 202);
		},
	);

	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/keys",
			tags: ["orgs"],
			summary: "The org's API keys, revoked ones included",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam }) },
			responses: {
				200: json(z.object({ keys: z.array(keyView) }).openapi("KeyList"), "Keys, oldest first"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => c.json({ keys: await orgActor(c, c.req.valid("param").org).keys() }, 200),
	);

	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/keys",
			tags: ["orgs"],
			summary: "Create an API key",
			security: ORG_KEY,
			middleware: [limitBody(MAX_ORG_BODY_BYTES)] as const,
			request: {
				params: z.object({ org: orgParam }),
				body: { required: true, content: { "application/json": { schema: createKeyBody } } },
			},
			responses: { 201: json(createdKey, "The new key"), ...problems(400, 401, 403, 404, 413, 429) },
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const { role, label, expiresAt, clientActionId } = c.req.valid("json");
			if (expiresAt !== undefined && expiresAt > Date.now() + MAX_KEY_LIFETIME_MS)
				throw new ApiError(400, "Invalid input", "expiresAt is more than ten years away.", {
					errors: [{ path: "expiresAt", message: "at most ten years from now" }],
				});
			const key = await mintApiKey(org, role, { label, expiresAt });
			const issued = unwrap(await orgActor(c, org).issueKey({ key, clientActionId }, requestMeta(c)));
			keyCreated(org);
			return c.json({ apiKey: key.apiKey, key: issued }, 201);
		},
	);

	app.openapi(
		createRoute({
			method: "delete",
			path: "/v1/orgs/{org}/keys/{keyId}",
			tags: ["orgs"],
			summary: "Revoke an API key: it stops working at once in this isolate, within 10 s everywhere",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, keyId: id.openapi({ param: { name: "keyId", in: "path" } }) }) },
			responses: {
				200: json(z.object({ key: keyView }).openapi("RevokedKey"), "The key, revoked (again, if it already was)"),
				...problems(400, 401, 403, 404, 409, 429),
			},
		}),
		async (c) => {
			const { org, keyId } = c.req.valid("param");
			const outcome = await orgActor(c, org).revokeKey(keyId, requestMeta(c));
			keyRevoked(org, keyId);
			// The only conflict a revocation meets: the org would be left without a live key.
			if (!outcome.ok && outcome.error.kind === "conflict") {
				throw new ApiError(409, "Last active key", outcome.error.detail, { currentVersion: outcome.error.currentVersion });
			}
			return c.json({ key: unwrap(outcome) }, 200);
		},
	);

	return app;
}
