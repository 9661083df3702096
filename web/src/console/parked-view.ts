/**
 * Parked work (`/console#parked`): the org's outbox messages, timers and dead letters its actors stopped retrying
 * (docs/operations.md), a page at a time, each linked to the event that parked it in its actor's log, with retry and
 * discard for a role that may use them. Listing needs analyst; retry and discard need admin (src/http/roles.ts).
 */
import { actorLabel, parseActor } from "../../../src/cli/actors.ts";
import { ApiError, type RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";
import { isoTime } from "../shared/format.ts";
import { actOnParked, age, type ParkedAction, type ParkedItem, parkedPage, parkedSeq } from "../shared/parked.ts";
import { atLeast, type Me } from "../shared/sign-in.ts";

/** Items a page: the API takes up to 500, a page of the view stays readable on a phone. */
export const PARKED_PAGE = 10;
/** After an action, how often and how long the list is read again: the org hears of it through the outbox. */
const FOLLOW_MS = 500;
const FOLLOW_TRIES = 20;

const problemText = (error: unknown) =>
	error instanceof ApiError
		? `${error.status} ${error.problem.title}: ${error.message}`
		: error instanceof Error
			? error.message
			: String(error);

export class ParkedView {
	readonly #status: HTMLElement;
	readonly #list: HTMLElement;
	readonly #where: HTMLElement;
	readonly #prev: HTMLButtonElement;
	readonly #next: HTMLButtonElement;
	/** The `after` of the page shown, and those of the pages before it (for "Earlier"). */
	#after = 0;
	#back: number[] = [];
	#nextAfter: number | null = null;
	#ticket = 0;

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
		private readonly me: Me,
	) {
		this.#status = h("p", { class: "tool-status", id: "parked-status", role: "status" });
		this.#list = h("div", { id: "parked-list" });
		this.#where = h("span", { class: "caption", id: "parked-where" });
		this.#prev = h("button", { type: "button", class: "quiet", id: "parked-prev", onclick: () => void this.#earlier() }, "‹ Earlier");
		this.#next = h("button", { type: "button", class: "quiet", id: "parked-next", onclick: () => void this.#later() }, "Later ›");
		replace(
			section,
			h(
				"div",
				{ class: "view-head" },
				h("h1", { id: "parked-title" }, "Parked work"),
				h("button", { type: "button", class: "quiet", id: "parked-refresh", onclick: () => void this.load() }, "Refresh"),
			),
			h(
				"p",
				{ class: "caption" },
				"Outbox messages, timers and dead letters the org's actors stopped retrying: nobody does them until someone retries or discards them (docs/operations.md). Each actor links to the event that parked the work in its log.",
			),
			atLeast(me, "admin")
				? null
				: h(
						"p",
						{ class: "caption", id: "parked-role" },
						`Retry and discard need the admin role; you are signed in as ${me.role}, so they are not offered.`,
					),
			this.#status,
			this.#list,
			h("div", { class: "pager" }, this.#prev, this.#where, this.#next),
		);
	}

	/** Reads the page shown again (from the first page when `fromStart`). */
	async load(fromStart = false): Promise<ParkedItem[]> {
		if (fromStart) {
			this.#after = 0;
			this.#back = [];
		}
		if (!atLeast(this.me, "analyst")) {
			this.#prev.disabled = this.#next.disabled = true;
			replace(
				this.#list,
				h(
					"p",
					{ class: "empty", id: "parked-forbidden" },
					`Listing parked work needs the analyst role or higher; you are signed in as ${this.me.role}.`,
				),
			);
			return [];
		}
		const ticket = ++this.#ticket;
		try {
			const page = await parkedPage(this.api, this.#after, PARKED_PAGE);
			if (ticket !== this.#ticket) return page.items;
			if (page.items.length === 0 && this.#after > 0) {
				// The page emptied (its items were acted on): step back to one that has items.
				this.#after = this.#back.pop() ?? 0;
				return this.load();
			}
			this.#nextAfter = page.next;
			this.#render(page.items, page.total);
			return page.items;
		} catch (error) {
			this.#say("bad", `Could not read the parked work: ${problemText(error)}`);
			return [];
		}
	}

	#render(items: ParkedItem[], total: number): void {
		this.#where.textContent = items.length === 0 ? "" : `page ${this.#back.length + 1}: ${items.length} of ${total} parked`;
		this.#prev.disabled = this.#after === 0;
		this.#next.disabled = this.#nextAfter === null;
		if (items.length === 0) {
			replace(
				this.#list,
				h(
					"p",
					{ class: "empty", id: "parked-empty" },
					"Nothing is parked: every actor of the org is delivering its messages and running its timers.",
				),
			);
			return;
		}
		const admin = atLeast(this.me, "admin");
		const head = ["actor", "work", "age", "reason", "attempts", "last error", ...(admin ? [""] : [])];
		replace(
			this.#list,
			h(
				"table",
				{ class: "ops-table", id: "parked-table" },
				h("thead", {}, h("tr", {}, ...head.map((title) => h("th", { scope: "col" }, title)))),
				h("tbody", {}, ...items.map((item) => this.#row(item, admin))),
			),
		);
	}

	#row(item: ParkedItem, admin: boolean): HTMLElement {
		const actor = parseActor(`${item.actor.kind}:${item.actor.id}`);
		const seq = parkedSeq(item.id);
		const label = `${item.actor.kind}/${item.actor.id}`;
		return h(
			"tr",
			{ "data-id": item.id },
			h(
				"td",
				{ "data-label": "actor" },
				actor
					? h("a", { href: `#${actorLabel(actor)}@${seq}`, class: "parked-actor", title: `Open its log at #${seq}` }, label)
					: h("code", {}, label),
			),
			h("td", { "data-label": "work" }, h("span", {}, item.work, " ", h("code", { class: "parked-name" }, item.name))),
			h("td", { "data-label": "age", title: `parked at ${isoTime(item.parkedAt)}` }, age(item.ageMs)),
			h("td", { "data-label": "reason" }, item.reason),
			h("td", { "data-label": "attempts", class: "num" }, item.attempts),
			h("td", { "data-label": "last error", class: "parked-error" }, item.lastError),
			admin
				? h(
						"td",
						{ class: "actions" },
						h("button", { type: "button", "data-act": "retry", onclick: (e: Event) => void this.#act(item, "retry", e) }, "Retry"),
						h(
							"button",
							{ type: "button", class: "quiet", "data-act": "discard", onclick: (e: Event) => void this.#act(item, "discard", e) },
							"Discard",
						),
					)
				: null,
		);
	}

	async #act(item: ParkedItem, how: ParkedAction, event: Event): Promise<void> {
		const row = (event.currentTarget as HTMLElement).closest("tr");
		for (const button of row?.querySelectorAll("button") ?? []) button.disabled = true;
		this.#say("busy", `${how === "retry" ? "Retrying" : "Discarding"} ${item.id}…`);
		try {
			const done = await actOnParked(this.api, item.id, how);
			const what = how === "retry" ? "retried: its actor tries it again now" : "discarded";
			this.#say("ok", `${item.id} ${done.repeated ? `was already ${how === "retry" ? "retried" : "discarded"}` : what}.`);
		} catch (error) {
			this.#say("bad", `${item.id} could not be ${how === "retry" ? "retried" : "discarded"}: ${problemText(error)}`);
			for (const button of row?.querySelectorAll("button") ?? []) button.disabled = false;
			return;
		}
		// The org drops the item when the actor's report reaches it, normally within a second.
		for (let i = 0; i < FOLLOW_TRIES; i++) {
			const items = await this.load();
			if (!items.some((listed) => listed.id === item.id)) return;
			await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
		}
	}

	async #earlier(): Promise<void> {
		this.#after = this.#back.pop() ?? 0;
		await this.load();
	}

	async #later(): Promise<void> {
		if (this.#nextAfter === null) return;
		this.#back.push(this.#after);
		this.#after = this.#nextAfter;
		await this.load();
	}

	#say(state: "ok" | "bad" | "busy", text: string): void {
		this.#status.dataset.state = state;
		this.#status.textContent = text;
	}
}
