/** What can happen to an org's webhook endpoints: created, changed, deleted, disabled after failing, secret rotated. */
import { z } from "zod";
import { defineEvent } from "./catalog.ts";

/** Event types an endpoint may subscribe to (docs/webhooks.md has their payloads). `webhook.test` is sent on request only. */
export const WEBHOOK_EVENT_TYPES = [
	"pattern.detected",
	"rollup.completed",
	"camera.offline",
	"camera.online",
	"interaction.recorded",
	"work.parked",
	"erasure.completed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const webhookId = z.string().min(1).max(128);
/** Random; with the deployment's WEBHOOK_SECRET_KEY it derives the signing secret, which is never stored. */
const salt = z.string().regex(/^[0-9a-f]{32}$/);
const url = z.string().min(1).max(2048);
const events = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length);
const description = z.string().max(500);

export const webhookCreated = defineEvent(
	"org.webhook_created",
	z.object({ webhookId, url, events, description: description.optional(), salt }),
	{ internal: true },
);

/** Only the fields that changed; `enabled: true` re-enables an endpoint disabled after failing. */
export const webhookUpdated = defineEvent(
	"org.webhook_updated",
	z.object({
		webhookId,
		url: url.optional(),
		events: events.optional(),
		description: description.optional(),
		enabled: z.boolean().optional(),
	}),
	{ internal: true },
);

export const webhookDeleted = defineEvent("org.webhook_deleted", z.object({ webhookId }), { internal: true });

/** An endpoint whose delivery exhausted its retries stops receiving until it is re-enabled. */
export const webhookDisabled = defineEvent(
	"org.webhook_disabled",
	z.object({ webhookId, reason: z.string().max(500), delivery: z.string().max(400) }),
	{ internal: true },
);

/** A new secret; the previous one still signs (a second signature) until `previousUntil`. */
export const webhookSecretRotated = defineEvent(
	"org.webhook_secret_rotated",
	z.object({ webhookId, salt, previousUntil: z.number().int() }),
	{ internal: true },
);

export const WEBHOOK_EVENTS = [webhookCreated, webhookUpdated, webhookDeleted, webhookDisabled, webhookSecretRotated] as const;
