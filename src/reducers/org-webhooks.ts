/**
 * What an org's webhook events mean and what its webhook commands decide, and which of its events become
 * deliveries. Pure: ids, salts and time come in on the commands and the context.
 */
import { sha256Hex } from "../core/hash.ts";
import type { EventOf, ProposalOf } from "../events/catalog.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { kernelCatalog } from "../events/kernel.ts";
import { orgCatalog } from "../events/org.ts";
import type { WebhookEventType } from "../events/org-webhooks.ts";
import { eventOfType } from "../events/stored.ts";
import type { DecideContext, Refusal } from "./definition.ts";
import type { Erasure, Erasures } from "./org-erasure.ts";

type OrgEvent = EventOf<typeof orgCatalog>;
type WebhookEvent = Extract<OrgEvent, { type: `org.webhook_${string}` }>;
type WebhookProposal = Extract<ProposalOf<typeof orgCatalog>, { type: `org.webhook_${string}` }>;

/** Endpoints an org may have at once. */
export const MAX_WEBHOOKS = 20;
/** How long a rotated-out secret still signs (a second `v1,` signature), so receivers can switch without a gap. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60_000;

export interface WebhookEndpoint {
	url: string;
	events: WebhookEventType[];
	description: string | null;
	enabled: boolean;
	/** Why it was disabled after failing (null when enabled, or disabled by hand). */
	disabledReason: string | null;
	createdAt: number;
	updatedAt: number;
	/** With WEBHOOK_SECRET_KEY, derives the signing secret; never leaves the actor. */
	salt: string;
	previous: { salt: string; until: number } | null;
}

export type Webhooks = Record<string, WebhookEndpoint>;

/** An endpoint as its owners see it: never its salts. */
export type WebhookView = { id: string } & Omit<WebhookEndpoint, "salt" | "previous">;

export type WebhookCommand =
	| { kind: "create_webhook"; webhookId: string; url: string; events: WebhookEventType[]; description?: string; salt: string }
	| {
			kind: "update_webhook";
			webhookId: string;
			patch: { url?: string; events?: WebhookEventType[]; description?: string; enabled?: boolean };
	  }
	| { kind: "delete_webhook"; webhookId: string }
	/** `delivery`: the delivery that exhausted its retries; the event id derives from it, so a repeat is a duplicate. */
	| { kind: "disable_webhook"; webhookId: string; reason: string; delivery: string }
	| { kind: "rotate_webhook_secret"; webhookId: string; salt: string };

export interface WebhookContext extends DecideContext {
	newId(): string;
}

/** Whether `org` exists, for refusals; passed in so this module needs nothing else of the org's state. */
export function decideWebhooks(
	command: WebhookCommand,
	webhooks: Webhooks,
	orgExists: boolean,
	context: WebhookContext,
): WebhookProposal[] | Refusal {
	if (!orgExists) return { kind: "not_found", detail: "the org does not exist" };
	const { now } = context;
	if (command.kind === "create_webhook") {
		const { webhookId, url, events, description, salt } = command;
		if (Object.hasOwn(webhooks, webhookId)) return { kind: "rejected", detail: `webhook id ${webhookId} is taken` };
		if (Object.keys(webhooks).length >= MAX_WEBHOOKS)
			return { kind: "rejected", detail: `an org has at most ${MAX_WEBHOOKS} webhook endpoints` };
		return [
			{
				id: context.newId(),
				type: "org.webhook_created",
				ts: now,
				data: { webhookId, url, events, salt, ...(description ? { description } : {}) },
			},
		];
	}
	const endpoint = Object.hasOwn(webhooks, command.webhookId) ? webhooks[command.webhookId] : undefined;
	if (!endpoint) {
		// A disable that lost a race with a delete has nothing left to do.
		if (command.kind === "disable_webhook") return [];
		return { kind: "not_found", detail: `the org has no webhook ${command.webhookId}` };
	}
	const { webhookId } = command;
	switch (command.kind) {
		case "update_webhook": {
			const changed = changedFields(endpoint, command.patch);
			if (Object.keys(changed).length === 0) return [];
			return [{ id: context.newId(), type: "org.webhook_updated", ts: now, data: { webhookId, ...changed } }];
		}
		case "delete_webhook":
			return [{ id: context.newId(), type: "org.webhook_deleted", ts: now, data: { webhookId } }];
		case "disable_webhook": {
			if (!endpoint.enabled) return [];
			const { reason, delivery } = command;
			// Delivery ids run past the 200 characters an event id may have: the disabling event's id is derived from its hash.
			const id = `~webhook-disabled:${sha256Hex(new TextEncoder().encode(delivery)).slice(0, 32)}`;
			return [{ id, type: "org.webhook_disabled", ts: now, data: { webhookId, reason, delivery } }];
		}
		case "rotate_webhook_secret":
			return [
				{
					id: context.newId(),
					type: "org.webhook_secret_rotated",
					ts: now,
					data: { webhookId, salt: command.salt, previousUntil: now + SECRET_OVERLAP_MS },
				},
			];
	}
}

function changedFields(endpoint: WebhookEndpoint, patch: Extract<WebhookCommand, { kind: "update_webhook" }>["patch"]) {
	return {
		...(patch.url !== undefined && patch.url !== endpoint.url ? { url: patch.url } : {}),
		...(patch.events !== undefined && patch.events.join() !== endpoint.events.join() ? { events: patch.events } : {}),
		...(patch.description !== undefined && patch.description !== (endpoint.description ?? "") ? { description: patch.description } : {}),
		...(patch.enabled !== undefined && patch.enabled !== endpoint.enabled ? { enabled: patch.enabled } : {}),
	};
}

export function evolveWebhooks(webhooks: Webhooks, event: WebhookEvent): Webhooks {
	if (event.type === "org.webhook_created") {
		const { webhookId, url, events, description, salt } = event.data;
		if (Object.hasOwn(webhooks, webhookId)) throw new Error(`webhook ${webhookId} already exists`);
		const endpoint: WebhookEndpoint = {
			url,
			events,
			description: description ?? null,
			enabled: true,
			disabledReason: null,
			createdAt: event.ts,
			updatedAt: event.ts,
			salt,
			previous: null,
		};
		return { ...webhooks, [webhookId]: endpoint };
	}
	const { webhookId } = event.data;
	const endpoint = Object.hasOwn(webhooks, webhookId) ? webhooks[webhookId] : undefined;
	if (!endpoint) throw new Error(`no webhook ${webhookId}`);
	switch (event.type) {
		case "org.webhook_updated": {
			const { url, events, description, enabled } = event.data;
			const next: WebhookEndpoint = {
				...endpoint,
				url: url ?? endpoint.url,
				events: events ?? endpoint.events,
				description: description === undefined ? endpoint.description : description || null,
				enabled: enabled ?? endpoint.enabled,
				disabledReason: enabled === true ? null : endpoint.disabledReason,
				updatedAt: event.ts,
			};
			return { ...webhooks, [webhookId]: next };
		}
		case "org.webhook_deleted": {
			const { [webhookId]: _deleted, ...rest } = webhooks;
			return rest;
		}
		case "org.webhook_disabled":
			return { ...webhooks, [webhookId]: { ...endpoint, enabled: false, disabledReason: event.data.reason, updatedAt: event.ts } };
		case "org.webhook_secret_rotated":
			return {
				...webhooks,
				[webhookId]: {
					...endpoint,
					salt: event.data.salt,
					previous: { salt: endpoint.salt, until: event.data.previousUntil },
					updatedAt: event.ts,
				},
			};
	}
}

export function webhookView(id: string, endpoint: WebhookEndpoint): WebhookView {
	const { url, events, description, enabled, disabledReason, createdAt, updatedAt } = endpoint;
	return { id, url, events, description, enabled, disabledReason, createdAt, updatedAt };
}

export function webhookViews(webhooks: Webhooks): WebhookView[] {
	return Object.entries(webhooks)
		.map(([id, endpoint]) => webhookView(id, endpoint))
		.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** A delivery to make: `id` is the Standard Webhooks `webhook-id`, stable across retries. */
export interface WebhookDelivery {
	id: string;
	endpoint: string;
	type: WebhookEventType | "webhook.test";
	/** The exact JSON body: fixed when the event commits, so every retry sends (and signs) the same bytes. */
	body: string;
}

/**
 * The notice an org event means to webhook subscribers, or null for one they never hear of. `erasures`: the org's
 * erasures after the commit, so the event that completes one (its last step, or a request with no steps) is known.
 */
export function webhookNotice(
	event: RecordedEvent,
	erasures: Erasures = {},
): { type: WebhookEventType; data: unknown; once?: string } | null {
	switch (event.type) {
		case "org.pattern_detected":
			return { type: "pattern.detected", data: eventOfType(event, orgCatalog, "org.pattern_detected").data };
		case "org.rollup_completed":
			return { type: "rollup.completed", data: eventOfType(event, orgCatalog, "org.rollup_completed").data };
		case "org.camera_status": {
			const { data } = eventOfType(event, orgCatalog, "org.camera_status");
			return { type: data.status === "online" ? "camera.online" : "camera.offline", data };
		}
		case "org.interaction_recorded":
			return { type: "interaction.recorded", data: eventOfType(event, orgCatalog, "org.interaction_recorded").data };
		// Any actor of the org (the org included) parked work: the org records each report as this event.
		case "kernel.parked_reported":
			return { type: "work.parked", data: eventOfType(event, kernelCatalog, "kernel.parked_reported").data };
		case "org.erasure_requested":
		case "org.erasure_step_done": {
			const id = eventOfType(event, orgCatalog, event.type).data.erasure;
			const erasure = Object.hasOwn(erasures, id) ? erasures[id] : undefined;
			if (erasure?.status !== "done" || erasure.doneAt !== event.ts) return null;
			// `once`: a commit that holds several of its events tells it once.
			return { type: "erasure.completed", data: erasureCompleted(erasure), once: `erasure:${id}` };
		}
		default:
			return null;
	}
}

/** What `erasure.completed` says: ids, times and counts; never who asked or whose data it was. */
function erasureCompleted(erasure: Erasure) {
	const { id, subject, requestedAt, doneAt, counts } = erasure;
	return { erasure: id, subject, requestedAt, doneAt, counts };
}

export function deliveryBody(type: string, ts: number, data: unknown): string {
	return JSON.stringify({ type, timestamp: new Date(ts).toISOString(), data });
}

/**
 * The deliveries that `appended` events cause: one per event and enabled endpoint subscribed to its notice.
 * `erasures`: the org's erasures after them; an erasure completed is told once, by the first event that completed it.
 */
export function webhookDeliveries(appended: readonly RecordedEvent[], webhooks: Webhooks, erasures: Erasures = {}): WebhookDelivery[] {
	const endpoints = Object.entries(webhooks).filter(([, e]) => e.enabled);
	if (endpoints.length === 0) return [];
	const told = new Set<string>();
	return appended.flatMap((event) => {
		const notice = webhookNotice(event, erasures);
		if (!notice) return [];
		if (notice.once !== undefined) {
			if (told.has(notice.once)) return [];
			told.add(notice.once);
		}
		const body = deliveryBody(notice.type, event.ts, notice.data);
		return endpoints
			.filter(([, e]) => e.events.includes(notice.type))
			.map(([endpoint]) => ({ id: `msg_${endpoint}_${event.id}`, endpoint, type: notice.type, body }));
	});
}
