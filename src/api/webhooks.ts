/**
 * Webhook endpoints of an org and their deliveries (docs/webhooks.md). Every route takes a full key of the org
 * (an ingest key gets 403, like every route that is not ingest); changes are org events.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { DELIVERY_STATUSES } from "../actors/org-webhooks.ts";
import { actorName } from "../core/identity.ts";
import { webhookUrlProblem } from "../core/webhook-address.ts";
import { WEBHOOK_EVENT_TYPES } from "../events/org-webhooks.ts";
import { limitBody } from "../http/body-limit.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError, unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** A URL, a few event names and a description: well under 8 KiB. */
export const MAX_WEBHOOK_BODY_BYTES = 8192;

const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const webhookParam = id.openapi({ param: { name: "webhookId", in: "path" } });
const deliveryParam = z
	.string()
	.min(1)
	.max(400)
	.openapi({ param: { name: "deliveryId", in: "path" } });

const url = z.string().trim().min(1).max(2048).openapi({ description: "https, on a public address (docs/webhooks.md, Safety)." });
const events = z
	.array(z.enum(WEBHOOK_EVENT_TYPES))
	.min(1)
	.max(WEBHOOK_EVENT_TYPES.length)
	.refine((list) => new Set(list).size === list.length, "lists an event type twice")
	.openapi({ description: "Event types to deliver." });
const description = z.string().trim().max(500);

const createBody = z.object({ url, events, description: description.optional() }).strict().openapi("CreateWebhook");
const patchBody = z
	.object({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() })
	.strict()
	.openapi("UpdateWebhook");

const webhookView = z
	.object({
		id: z.string(),
		url: z.string(),
		events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
		description: z.string().nullable(),
		enabled: z.boolean(),
		disabledReason: z.string().nullable().openapi({ description: "Why it was disabled after failing; null when enabled." }),
		createdAt: z.number().int(),
		updatedAt: z.number().int(),
	})
	.openapi("Webhook");
const withSecret = z
	.object({
		webhook: webhookView,
		secret: z.string().openapi({ description: "`whsec_...`, shown once: it is derived on the server, never stored." }),
	})
	.openapi("WebhookWithSecret");
const deliveryView = z
	.object({
		id: z.string().openapi({ description: "The `webhook-id` header: the same on every attempt." }),
		type: z.string(),
		status: z.enum(DELIVERY_STATUSES),
		createdAt: z.number().int(),
		attempts: z.number().int(),
		lastAttemptAt: z.number().int().nullable(),
		responseStatus: z.number().int().nullable(),
		ms: z.number().int().nullable(),
		error: z.string().nullable(),
		response: z.string().nullable().openapi({ description: "The start of the receiver's last answer, at most 256 characters." }),
		nextAttemptAt: z.number().int().nullable(),
	})
	.openapi("WebhookDelivery");

const orgActor = (c: Context<AppEnv>, org: string) => c.env.ORG.getByName(actorName(org, org));

/** The URL policy of this deployment: the local escape hatch only in local development. */
function checkUrl(c: Context<AppEnv>, text: string | undefined): void {
	if (text === undefined) return;
	const allowLocal = c.env.WEBHOOKS_ALLOW_LOCAL === "1" && c.env.ROOST_ENV === "development";
	const problem = webhookUrlProblem(text, { allowLocal });
	if (problem) throw new ApiError(400, "Invalid input", `url ${problem}`, { errors: [{ path: "url", message: problem }] });
}

function requireSecretKey(c: Context<AppEnv>): void {
	if (!c.env.WEBHOOK_SECRET_KEY)
		throw new ApiError(
			503,
			"Not configured",
			"WEBHOOK_SECRET_KEY is not set: `wrangler secret put WEBHOOK_SECRET_KEY` (docs/webhooks.md).",
		);
}

export function webhookRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	const base = "/v1/orgs/{org}/webhooks";
	const one = `${base}/{webhookId}`;

	app.openapi(
		createRoute({
			method: "post",
			path: base,
			tags: ["webhooks"],
			summary: "Create a webhook endpoint; the answer carries its signing secret, once",
			security: ORG_KEY,
			middleware: [limitBody(MAX_WEBHOOK_BODY_BYTES)] as const,
			request: { params: z.object({ org: orgParam }), body: { required: true, content: { "application/json": { schema: createBody } } } },
			responses: { 201: json(withSecret, "The endpoint and its secret"), ...problems(400, 401, 403, 404, 413, 422, 429, 503) },
		}),
		async (c) => {
			const body = c.req.valid("json");
			checkUrl(c, body.url);
			requireSecretKey(c);
			return c.json(unwrap(await orgActor(c, c.req.valid("param").org).createWebhook(body)), 201);
		},
	);

	app.openapi(
		createRoute({
			method: "get",
			path: base,
			tags: ["webhooks"],
			summary: "The org's webhook endpoints (never their secrets)",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam }) },
			responses: {
				200: json(z.object({ webhooks: z.array(webhookView) }).openapi("WebhookList"), "Oldest first"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => c.json({ webhooks: await orgActor(c, c.req.valid("param").org).listWebhooks() }, 200),
	);

	app.openapi(
		createRoute({
			method: "get",
			path: one,
			tags: ["webhooks"],
			summary: "One webhook endpoint",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, webhookId: webhookParam }) },
			responses: { 200: json(webhookView, "The endpoint"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org, webhookId } = c.req.valid("param");
			return c.json(unwrap(await orgActor(c, org).webhook(webhookId)), 200);
		},
	);

	app.openapi(
		createRoute({
			method: "patch",
			path: one,
			tags: ["webhooks"],
			summary: "Change an endpoint's url, events, description, or enable it again",
			security: ORG_KEY,
			middleware: [limitBody(MAX_WEBHOOK_BODY_BYTES)] as const,
			request: {
				params: z.object({ org: orgParam, webhookId: webhookParam }),
				body: { required: true, content: { "application/json": { schema: patchBody } } },
			},
			responses: { 200: json(webhookView, "The endpoint as it is now"), ...problems(400, 401, 403, 404, 413, 429) },
		}),
		async (c) => {
			const { org, webhookId } = c.req.valid("param");
			const patch = c.req.valid("json");
			checkUrl(c, patch.url);
			return c.json(unwrap(await orgActor(c, org).updateWebhook(webhookId, patch)), 200);
		},
	);

	app.openapi(
		createRoute({
			method: "delete",
			path: one,
			tags: ["webhooks"],
			summary: "Delete an endpoint; its pending deliveries are not sent",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, webhookId: webhookParam }) },
			responses: {
				200: json(z.object({ deleted: z.string() }).openapi("DeletedWebhook"), "Deleted"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org, webhookId } = c.req.valid("param");
			return c.json(unwrap(await orgActor(c, org).deleteWebhook(webhookId)), 200);
		},
	);

	app.openapi(
		createRoute({
			method: "post",
			path: `${one}/rotate-secret`,
			tags: ["webhooks"],
			summary: "A new signing secret, shown once; the old one also signs for 24 hours",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, webhookId: webhookParam }) },
			responses: {
				200: json(withSecret.extend({ previousValidUntil: z.number().int() }).openapi("RotatedWebhookSecret"), "The new secret"),
				...problems(400, 401, 403, 404, 422, 429, 503),
			},
		}),
		async (c) => {
			requireSecretKey(c);
			const { org, webhookId } = c.req.valid("param");
			return c.json(unwrap(await orgActor(c, org).rotateWebhookSecret(webhookId)), 200);
		},
	);

	app.openapi(
		createRoute({
			method: "post",
			path: `${one}/test`,
			tags: ["webhooks"],
			summary: "Send a webhook.test delivery now",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, webhookId: webhookParam }) },
			responses: {
				202: json(z.object({ delivery: z.string() }).openapi("WebhookTest"), "Queued; see its deliveries"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org, webhookId } = c.req.valid("param");
			return c.json(unwrap(await orgActor(c, org).testWebhook(webhookId)), 202);
		},
	);

	app.openapi(
		createRoute({
			method: "get",
			path: `${one}/deliveries`,
			tags: ["webhooks"],
			summary: "An endpoint's deliveries, newest first: attempts, status, time taken, response, next retry",
			security: ORG_KEY,
			request: {
				params: z.object({ org: orgParam, webhookId: webhookParam }),
				query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50), status: z.enum(DELIVERY_STATUSES).optional() }),
			},
			responses: {
				200: json(z.object({ deliveries: z.array(deliveryView) }).openapi("WebhookDeliveries"), "Newest first"),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org, webhookId } = c.req.valid("param");
			return c.json(unwrap(await orgActor(c, org).webhookDeliveries(webhookId, c.req.valid("query"))), 200);
		},
	);

	app.openapi(
		createRoute({
			method: "post",
			path: `${one}/deliveries/{deliveryId}/retry`,
			tags: ["webhooks"],
			summary: "Send a failed or parked delivery again (same webhook-id and body)",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, webhookId: webhookParam, deliveryId: deliveryParam }) },
			responses: { 202: json(deliveryView, "Queued again"), ...problems(400, 401, 403, 404, 422, 429) },
		}),
		async (c) => {
			const { org, webhookId, deliveryId } = c.req.valid("param");
			return c.json(unwrap(await orgActor(c, org).retryWebhookDelivery(webhookId, deliveryId)), 202);
		},
	);

	return app;
}
