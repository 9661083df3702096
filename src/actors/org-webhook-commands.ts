/**
 * The org's webhook commands and delivery hooks: endpoints are managed through org events (decided in
 * src/reducers/org-webhooks.ts), deliveries are outbox messages recorded with the events that cause them, and
 * sent by WebhookDeliveries (src/actors/org-webhooks.ts). Kept out of org.ts so the org actor only wires it in.
 */
import { uuidv7 } from "uuidv7";
import { log } from "../core/log.ts";
import { type ActorError, fail, type Outcome, ok } from "../core/outcome.ts";
import { deriveWebhookSecret } from "../core/webhook-signature.ts";
import type { Env } from "../env.ts";
import type { WebhookEventType } from "../events/org-webhooks.ts";
import { isRefusal, type Refusal } from "../reducers/definition.ts";
import type { OrgCommand, OrgProposal, OrgState } from "../reducers/org.ts";
import { deliveryBody, type WebhookView, webhookDeliveries, webhookView, webhookViews } from "../reducers/org-webhooks.ts";
import type { AppendReceipt, Effects, Plan } from "./actor.ts";
import type { ExternalVerdict } from "./kernel/courier.ts";
import { type DeliveryStatus, type DeliveryView, deliveryMessage, WebhookDeliveries } from "./org-webhooks.ts";
import type { PendingMessage } from "./outbox.ts";

/** Delivered deliveries are kept in the log this long (failed and parked ones until they are retried or their endpoint goes). */
const DELIVERED_KEPT_MS = 7 * 24 * 60 * 60_000;

export interface WebhookHost {
	org(): string;
	state(): OrgState;
	now(): number;
	execute<R>(plan: (state: OrgState, version: number) => Plan<R, OrgState, OrgProposal> | ActorError): Outcome<R>;
	decide(command: OrgCommand, state: OrgState, version: number): OrgProposal[] | Refusal;
	rearm(): Promise<void>;
}

export interface CreatedWebhook {
	webhook: WebhookView;
	/** Shown once: it is derived, never stored. */
	secret: string;
}

const randomHex = (bytes: number) =>
	[...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

export class OrgWebhooks {
	readonly #deliveries: WebhookDeliveries;

	constructor(
		sql: SqlStorage,
		private readonly env: Env,
		private readonly host: WebhookHost,
	) {
		this.#deliveries = new WebhookDeliveries(sql, env, { org: () => host.org() });
	}

	create(input: { url: string; events: WebhookEventType[]; description?: string }): Outcome<CreatedWebhook> {
		const key = this.env.WEBHOOK_SECRET_KEY;
		if (!key) return fail({ kind: "rejected", detail: "WEBHOOK_SECRET_KEY is not set on this deployment" });
		const webhookId = `wh_${randomHex(12)}`;
		const salt = randomHex(16);
		return this.#decided({ kind: "create_webhook", webhookId, salt, ...input }, (after) => ({
			webhook: this.#view(after, webhookId),
			secret: deriveWebhookSecret(key, this.host.org(), webhookId, salt),
		}));
	}

	update(
		webhookId: string,
		patch: { url?: string; events?: WebhookEventType[]; description?: string; enabled?: boolean },
	): Outcome<WebhookView> {
		return this.#decided({ kind: "update_webhook", webhookId, patch }, (after) => this.#view(after, webhookId));
	}

	delete(webhookId: string): Outcome<{ deleted: string }> {
		return this.#decided({ kind: "delete_webhook", webhookId }, () => ({ deleted: webhookId }));
	}

	/** A new secret, shown once; the old one keeps signing (a second signature) until `previousValidUntil`. */
	rotateSecret(webhookId: string): Outcome<CreatedWebhook & { previousValidUntil: number }> {
		const key = this.env.WEBHOOK_SECRET_KEY;
		if (!key) return fail({ kind: "rejected", detail: "WEBHOOK_SECRET_KEY is not set on this deployment" });
		const salt = randomHex(16);
		return this.#decided({ kind: "rotate_webhook_secret", webhookId, salt }, (after) => ({
			webhook: this.#view(after, webhookId),
			secret: deriveWebhookSecret(key, this.host.org(), webhookId, salt),
			previousValidUntil: after.webhooks[webhookId]?.previous?.until ?? 0,
		}));
	}

	list(): WebhookView[] {
		return webhookViews(this.host.state().webhooks);
	}

	get(webhookId: string): Outcome<WebhookView> {
		const endpoint = this.#endpoint(webhookId);
		return endpoint ? ok(webhookView(webhookId, endpoint)) : fail({ kind: "not_found", detail: `the org has no webhook ${webhookId}` });
	}

	/** Sends a `webhook.test` delivery now, through the outbox like any other. */
	test(webhookId: string): Outcome<{ delivery: string }> {
		if (!this.#endpoint(webhookId)) return fail({ kind: "not_found", detail: `the org has no webhook ${webhookId}` });
		const now = this.host.now();
		const id = `msg_${webhookId}_test-${uuidv7()}`;
		const body = deliveryBody("webhook.test", now, { webhook: webhookId, org: this.host.org() });
		return this.host.execute(() => ({
			events: [],
			result: () => ({ delivery: id }),
			effects: () => ({ outbox: [deliveryMessage({ id, endpoint: webhookId, type: "webhook.test", body })] }),
		}));
	}

	deliveries(webhookId: string, query: { limit: number; status?: DeliveryStatus }): Outcome<{ deliveries: DeliveryView[] }> {
		if (!this.#endpoint(webhookId)) return fail({ kind: "not_found", detail: `the org has no webhook ${webhookId}` });
		return ok({ deliveries: this.#deliveries.list(webhookId, query) });
	}

	/** Sends a failed or parked delivery again, with the same `webhook-id` and body, and a fresh retry budget. */
	retry(webhookId: string, deliveryId: string): Outcome<DeliveryView> {
		const endpoint = this.#endpoint(webhookId);
		const delivery = endpoint ? this.#deliveries.get(webhookId, deliveryId) : null;
		if (endpoint && !delivery && this.#deliveries.waiting(webhookId, deliveryId))
			return fail({ kind: "rejected", detail: `delivery ${deliveryId} is pending: only failed or parked deliveries are retried` });
		if (!endpoint || !delivery) return fail({ kind: "not_found", detail: `webhook ${webhookId} has no delivery ${deliveryId}` });
		if (delivery.status !== "failed" && delivery.status !== "parked")
			return fail({
				kind: "rejected",
				detail: `delivery ${deliveryId} is ${delivery.status}: only failed or parked deliveries are retried`,
			});
		if (!endpoint.enabled)
			return fail({ kind: "rejected", detail: `webhook ${webhookId} is disabled: enable it first (PATCH enabled: true)` });
		const now = this.host.now();
		const message = deliveryMessage({ id: deliveryId, endpoint: webhookId, type: delivery.type as WebhookEventType, body: delivery.body });
		return this.host.execute(() => ({
			events: [],
			result: () => {
				this.#deliveries.requeued(deliveryId, now);
				const { body: _body, ...view } = delivery;
				return { ...view, status: "pending" as const, nextAttemptAt: now };
			},
			effects: () => ({ outbox: [message] }),
		}));
	}

	/** The deliveries a commit causes, as outbox messages written in its transaction. */
	deliveriesOf(receipt: AppendReceipt, state: OrgState): Effects {
		if (receipt.appended.length === 0) return {};
		const deliveries = webhookDeliveries(receipt.appended, state.webhooks, state.erasures);
		return deliveries.length ? { outbox: deliveries.map(deliveryMessage) } : {};
	}

	/** One attempt of one delivery; a delivery parked after its last retry disables its endpoint with an event. */
	async deliver(message: PendingMessage): Promise<ExternalVerdict> {
		const webhookId = "webhook" in message.target ? message.target.webhook : "";
		const result = await this.#deliveries.attempt(message, this.#endpoint(webhookId), () => this.host.now());
		if (result.disable) {
			const outcome = this.#decided(
				{ kind: "disable_webhook", webhookId, reason: result.disable.reason, delivery: message.id },
				() => null,
			);
			if (!outcome.ok) log("warn", "webhook not disabled", { org: this.host.org(), webhookId, error: outcome.error.detail });
		}
		this.#deliveries.prune(this.host.now() - DELIVERED_KEPT_MS);
		return result.verdict;
	}

	#endpoint(webhookId: string) {
		const { webhooks } = this.host.state();
		return Object.hasOwn(webhooks, webhookId) ? webhooks[webhookId] : undefined;
	}

	#view(state: OrgState, webhookId: string): WebhookView {
		const endpoint = state.webhooks[webhookId];
		if (!endpoint) throw new Error(`no webhook ${webhookId}`);
		return webhookView(webhookId, endpoint);
	}

	#decided<R>(command: OrgCommand, answer: (after: OrgState) => R): Outcome<R> {
		return this.host.execute((state, version) => {
			const events = this.host.decide(command, state, version);
			if (isRefusal(events)) return events;
			return { events, result: (_receipt, after) => answer(after) };
		});
	}
}
