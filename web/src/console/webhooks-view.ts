/**
 * Webhook deliveries (`/console#webhooks`, `#webhooks/<endpoint id>`): the org's endpoints, and the picked one's
 * delivery log, newest first: status, attempts, time taken, the receiver's response code, the next retry; a failed or
 * parked delivery is sent again from here, and a test delivery sent (docs/webhooks.md). Every webhook route needs the
 * admin role (src/http/roles.ts), so another role sees why the view is empty.
 */
import { ApiError, type RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";
import { isoTime, shortId } from "../shared/format.ts";
import { atLeast, type Me } from "../shared/sign-in.ts";

interface WebhookEndpoint {
	id: string;
	url: string;
	events: string[];
	description: string | null;
	enabled: boolean;
	disabledReason: string | null;
	createdAt: number;
	updatedAt: number;
}

/** As `GET .../webhooks/{id}/deliveries` answers (src/api/webhooks.ts, WebhookDelivery). */
interface DeliveryView {
	id: string;
	type: string;
	status: DeliveryStatus;
	createdAt: number;
	attempts: number;
	lastAttemptAt: number | null;
	responseStatus: number | null;
	ms: number | null;
	error: string | null;
	response: string | null;
	nextAttemptAt: number | null;
}

const STATUSES = ["pending", "retrying", "delivered", "failed", "parked"] as const;
type DeliveryStatus = (typeof STATUSES)[number];
/** Only these can be sent again (POST .../deliveries/{id}/retry answers 422 for the others). */
const RETRYABLE: readonly DeliveryStatus[] = ["failed", "parked"];
/** Deliveries shown: the newest this many (the API's cap is 100). */
const DELIVERIES = 50;
/** While pending or retrying deliveries are shown, the log is read again this often. */
const POLL_MS = 2000;

const problemText = (error: unknown) =>
	error instanceof ApiError
		? `${error.status} ${error.problem.title}: ${error.message}`
		: error instanceof Error
			? error.message
			: String(error);

const when = (ts: number | null) =>
	ts === null
		? "—"
		: isoTime(ts)
				.replace("T", " ")
				.replace(/\.\d+Z$/, "Z");

/** "in 12 s", "3 min ago": a time near now, for the next retry. */
function fromNow(ts: number | null, now = Date.now()): string {
	if (ts === null) return "—";
	const s = Math.round((ts - now) / 1000);
	const text = Math.abs(s) < 120 ? `${Math.abs(s)} s` : `${Math.round(Math.abs(s) / 60)} min`;
	return s >= 0 ? `in ${text}` : `${text} ago`;
}

export class WebhooksView {
	readonly #status: HTMLElement;
	readonly #endpoints: HTMLElement;
	readonly #log: HTMLElement;
	#webhooks: WebhookEndpoint[] = [];
	#picked: string | null = null;
	#filter: DeliveryStatus | "" = "";
	#poll: ReturnType<typeof setTimeout> | undefined;
	#ticket = 0;

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
		private readonly me: Me,
	) {
		this.#status = h("p", { class: "tool-status", id: "webhooks-status", role: "status" });
		this.#endpoints = h("div", { id: "webhook-endpoints" });
		this.#log = h("div", { id: "webhook-log" });
		replace(
			section,
			h(
				"div",
				{ class: "view-head" },
				h("h1", { id: "webhooks-title" }, "Webhook deliveries"),
				h("button", { type: "button", class: "quiet", id: "webhooks-refresh", onclick: () => void this.show(this.#picked) }, "Refresh"),
			),
			h(
				"p",
				{ class: "caption" },
				"Each endpoint's deliveries, newest first: a delivery keeps its webhook-id on every attempt; 429, 5xx and no answer are retried with backoff, and a delivery that used up its attempts is parked and disables its endpoint (docs/webhooks.md).",
			),
			this.#status,
			this.#endpoints,
			this.#log,
		);
	}

	/** Shows the endpoints, and the delivery log of `webhookId` (or of the only endpoint). */
	async show(webhookId: string | null): Promise<void> {
		this.#picked = webhookId;
		if (!atLeast(this.me, "admin")) {
			replace(
				this.#endpoints,
				h(
					"p",
					{ class: "empty", id: "webhooks-forbidden" },
					`The webhook routes need the admin role; you are signed in as ${this.me.role}.`,
				),
			);
			replace(this.#log);
			return;
		}
		try {
			this.#webhooks = (await this.api.get<{ webhooks: WebhookEndpoint[] }>(this.api.orgPath("/webhooks"))).webhooks;
		} catch (error) {
			this.#say("bad", `Could not read the endpoints: ${problemText(error)}`);
			return;
		}
		if (this.#picked === null && this.#webhooks.length === 1) this.#picked = this.#webhooks[0]?.id ?? null;
		this.#renderEndpoints();
		await this.#loadLog();
	}

	/** The view was left: stop reading the log. */
	hide(): void {
		clearTimeout(this.#poll);
		this.#ticket++;
	}

	#renderEndpoints(): void {
		if (this.#webhooks.length === 0) {
			replace(
				this.#endpoints,
				h(
					"p",
					{ class: "empty", id: "webhooks-empty" },
					"The org has no webhook endpoints. Create one with POST /v1/orgs/{org}/webhooks (docs/webhooks.md).",
				),
			);
			return;
		}
		replace(
			this.#endpoints,
			h(
				"ul",
				{ class: "endpoint-list", "aria-label": "Endpoints" },
				...this.#webhooks.map((webhook) =>
					h(
						"li",
						{},
						h(
							"a",
							{
								href: `#webhooks/${encodeURIComponent(webhook.id)}`,
								class: "endpoint",
								"data-webhook": webhook.id,
								"aria-current": webhook.id === this.#picked ? "true" : null,
							},
							h("code", { class: "endpoint-url" }, webhook.url),
							h("span", { class: "caption" }, `${webhook.description ? `${webhook.description} · ` : ""}${webhook.events.join(", ")}`),
							webhook.enabled
								? h("span", { class: "pill ok" }, "enabled")
								: h("span", { class: "pill bad", title: webhook.disabledReason ?? "" }, "disabled"),
						),
					),
				),
			),
		);
	}

	async #loadLog(): Promise<void> {
		clearTimeout(this.#poll);
		const ticket = ++this.#ticket;
		const webhook = this.#webhooks.find((w) => w.id === this.#picked);
		if (!webhook) {
			replace(
				this.#log,
				this.#picked === null || this.#webhooks.length === 0
					? null
					: h("p", { class: "empty" }, `The org has no endpoint ${this.#picked}: pick one above.`),
				this.#picked === null && this.#webhooks.length > 0
					? h("p", { class: "empty", id: "webhooks-pick" }, "Pick an endpoint to see its deliveries.")
					: null,
			);
			return;
		}
		let deliveries: DeliveryView[];
		try {
			const query = { limit: DELIVERIES, status: this.#filter || undefined };
			deliveries = (
				await this.api.get<{ deliveries: DeliveryView[] }>(
					this.api.orgPath(`/webhooks/${encodeURIComponent(webhook.id)}/deliveries`),
					query,
				)
			).deliveries;
		} catch (error) {
			this.#say("bad", `Could not read the deliveries: ${problemText(error)}`);
			return;
		}
		if (ticket !== this.#ticket) return;
		this.#renderLog(webhook, deliveries);
		if (deliveries.some((d) => d.status === "pending" || d.status === "retrying"))
			this.#poll = setTimeout(() => void this.#loadLog(), POLL_MS);
	}

	#renderLog(webhook: WebhookEndpoint, deliveries: DeliveryView[]): void {
		const filter = h(
			"select",
			{
				id: "delivery-status",
				onchange: (e: Event) => {
					this.#filter = (e.currentTarget as HTMLSelectElement).value as DeliveryStatus | "";
					void this.#loadLog();
				},
			},
			h("option", { value: "" }, "every status"),
			...STATUSES.map((status) => h("option", { value: status, selected: status === this.#filter }, status)),
		);
		const head = ["delivery", "type", "status", "attempts", "response", "ms", "last attempt", "next retry", "error", ""];
		replace(
			this.#log,
			h(
				"div",
				{ class: "log-head" },
				h("h2", { id: "deliveries-title" }, "Deliveries to ", h("code", {}, webhook.url)),
				h(
					"div",
					{ class: "tools" },
					h("label", { for: "delivery-status" }, "Status"),
					filter,
					h(
						"button",
						{ type: "button", class: "quiet", id: "send-test", onclick: () => void this.#sendTest(webhook) },
						"Send a test delivery",
					),
				),
			),
			webhook.enabled
				? null
				: h(
						"p",
						{ class: "notice", id: "webhook-disabled" },
						`This endpoint is disabled${webhook.disabledReason ? `: ${webhook.disabledReason}` : ""}. Deliveries are sent again only after it is enabled (PATCH with { "enabled": true }).`,
					),
			deliveries.length === 0
				? h("p", { class: "empty", id: "deliveries-empty" }, this.#filter ? `No ${this.#filter} deliveries.` : "No deliveries yet.")
				: h("p", { class: "caption", id: "deliveries-caption" }, `The newest ${deliveries.length} (at most ${DELIVERIES}), newest first.`),
			deliveries.length === 0
				? null
				: h(
						"table",
						{ class: "ops-table", id: "deliveries-table", "aria-describedby": "deliveries-caption" },
						h("thead", {}, h("tr", {}, ...head.map((title) => h("th", { scope: "col" }, title)))),
						h("tbody", {}, ...deliveries.map((delivery) => this.#row(webhook, delivery))),
					),
		);
	}

	#row(webhook: WebhookEndpoint, d: DeliveryView): HTMLElement {
		const retryable = RETRYABLE.includes(d.status);
		return h(
			"tr",
			{ "data-delivery": d.id, "data-status": d.status },
			h("td", { "data-label": "delivery", title: d.id }, h("code", {}, shortId(d.id, 20))),
			h("td", { "data-label": "type" }, d.type),
			h("td", { "data-label": "status" }, h("span", { class: `pill delivery-${d.status}` }, d.status)),
			h("td", { "data-label": "attempts", class: "num" }, d.attempts),
			h("td", { "data-label": "response", class: "num", title: d.response ?? "" }, d.responseStatus ?? "—"),
			h("td", { "data-label": "ms", class: "num" }, d.ms ?? "—"),
			h("td", { "data-label": "last attempt" }, when(d.lastAttemptAt)),
			h("td", { "data-label": "next retry", title: d.nextAttemptAt === null ? "" : when(d.nextAttemptAt) }, fromNow(d.nextAttemptAt)),
			h("td", { "data-label": "error", class: "parked-error" }, d.error ?? ""),
			h(
				"td",
				{ class: "actions" },
				retryable
					? h(
							"button",
							{
								type: "button",
								"data-act": "retry",
								disabled: !webhook.enabled,
								title: webhook.enabled ? "Send it again: same webhook-id and body, a fresh retry budget" : "The endpoint is disabled",
								onclick: (e: Event) => void this.#retry(webhook, d, e),
							},
							"Retry",
						)
					: null,
			),
		);
	}

	async #retry(webhook: WebhookEndpoint, delivery: DeliveryView, event: Event): Promise<void> {
		(event.currentTarget as HTMLButtonElement).disabled = true;
		this.#say("busy", `Sending ${delivery.id} again…`);
		try {
			const again = await this.api.post<DeliveryView>(
				this.api.orgPath(`/webhooks/${encodeURIComponent(webhook.id)}/deliveries/${encodeURIComponent(delivery.id)}/retry`),
				{},
			);
			this.#say("ok", `${delivery.id} is ${again.status} again: it is sent at once, with the same webhook-id.`);
		} catch (error) {
			this.#say("bad", `${delivery.id} could not be sent again: ${problemText(error)}`);
		}
		await this.#loadLog();
	}

	async #sendTest(webhook: WebhookEndpoint): Promise<void> {
		this.#say("busy", "Queueing a test delivery…");
		try {
			const { delivery } = await this.api.post<{ delivery: string }>(
				this.api.orgPath(`/webhooks/${encodeURIComponent(webhook.id)}/test`),
				{},
			);
			this.#say("ok", `Test delivery ${delivery} queued.`);
		} catch (error) {
			this.#say("bad", `Could not send a test delivery: ${problemText(error)}`);
		}
		await this.#loadLog();
	}

	#say(state: "ok" | "bad" | "busy", text: string): void {
		this.#status.dataset.state = state;
		this.#status.textContent = text;
	}
}
