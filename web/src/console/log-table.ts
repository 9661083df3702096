/**
 * The actor's log, a page at a time, optionally of one event type. Without a filter the page follows the
 * version being looked at; clicking a row moves to that version. The row where the chain breaks is marked.
 */
import type { ExportedEvent } from "../../../src/cli/chain.ts";
import { h, replace } from "../shared/dom.ts";
import { isoTime } from "../shared/format.ts";
import type { ActorLog } from "./actor-log.ts";

const ROWS = 50;

const time = (ts: number) => isoTime(ts).replace("T", " ").replace("Z", "");

/** The kernel's parked-work events stand out in the log: work that waits for an operator, and what was done about it. */
const KERNEL_PILLS: Record<string, { text: string; tone: string }> = {
	"kernel.work_parked": { text: "parked", tone: "warn" },
	"kernel.parked_retried": { text: "retried", tone: "ok" },
	"kernel.parked_discarded": { text: "discarded", tone: "muted" },
};

export class LogTable {
	readonly #body: HTMLTableSectionElement;
	readonly #type: HTMLSelectElement;
	readonly #where: HTMLElement;
	readonly #prev: HTMLButtonElement;
	readonly #next: HTMLButtonElement;
	/** Seq after which the page starts; with a filter, the cursors of earlier pages for "previous". */
	#after = 0;
	#back: number[] = [];
	#nextAfter: number | null = null;
	#version = 0;
	#broken: number | null = null;
	#rows: ExportedEvent[] = [];
	#loading = 0;

	constructor(
		container: HTMLElement,
		private readonly log: ActorLog,
		private readonly onPick: (seq: number) => void,
	) {
		this.#type = h(
			"select",
			{ id: "log-type", onchange: () => void this.#filterChanged() },
			h("option", { value: "" }, "all types"),
			...log.definition.catalog.types.map((type) => h("option", { value: type }, type)),
		);
		this.#body = h("tbody", {});
		this.#where = h("span", { class: "caption", id: "log-where" });
		this.#prev = h("button", { type: "button", class: "quiet", id: "log-prev", onclick: () => void this.#previous() }, "‹ Earlier");
		this.#next = h("button", { type: "button", class: "quiet", id: "log-next", onclick: () => void this.#later() }, "Later ›");
		replace(
			container,
			h("h2", { id: "log-title" }, "Log"),
			h("div", { class: "log-controls" }, h("label", { for: "log-type" }, "Type"), this.#type),
			h(
				"div",
				{ class: "table-wrap" },
				h(
					"table",
					{ class: "log-table", "aria-describedby": "log-where" },
					h(
						"thead",
						{},
						h("tr", {}, h("th", { scope: "col" }, "seq"), h("th", { scope: "col" }, "time (UTC)"), h("th", { scope: "col" }, "type")),
					),
					this.#body,
				),
			),
			h("div", { class: "pager" }, this.#prev, this.#where, this.#next),
		);
	}

	get filter(): string {
		return this.#type.value;
	}

	/** Moves the highlight to `version`, turning to its page when no type filter is set. */
	async follow(version: number): Promise<void> {
		this.#version = version;
		if (!this.filter && version > 0) {
			const start = Math.floor((version - 1) / ROWS) * ROWS;
			// A version past the rows loaded (the log grew live on this page) reloads the page too.
			if (start !== this.#after || !this.#rows.some((event) => event.seq === version)) {
				this.#after = start;
				await this.#load();
				return;
			}
		}
		this.#render();
	}

	/** Reloads the current page (the log grew). */
	refresh(): Promise<void> {
		return this.#load();
	}

	markBroken(seq: number | null): void {
		this.#broken = seq;
		if (seq !== null && !this.filter) void this.follow(seq);
		else this.#render();
	}

	async #filterChanged(): Promise<void> {
		this.#back = [];
		this.#after = this.filter ? 0 : Math.floor(Math.max(0, this.#version - 1) / ROWS) * ROWS;
		await this.#load();
	}

	async #previous(): Promise<void> {
		if (this.filter) this.#after = this.#back.pop() ?? 0;
		else this.#after = Math.max(0, this.#after - ROWS);
		await this.#load();
	}

	async #later(): Promise<void> {
		if (this.#nextAfter === null) return;
		if (this.filter) this.#back.push(this.#after);
		this.#after = this.#nextAfter;
		await this.#load();
	}

	async #load(): Promise<void> {
		const ticket = ++this.#loading;
		const page = await this.log.page(this.#after, ROWS, this.filter || undefined);
		if (ticket !== this.#loading) return;
		this.#rows = page.events;
		this.#nextAfter = page.next;
		this.#render();
	}

	#render(): void {
		const first = this.#rows[0]?.seq;
		const last = this.#rows.at(-1)?.seq;
		this.#where.textContent =
			first === undefined
				? this.filter
					? `No ${this.filter} events here`
					: "The log is empty"
				: `seq ${first}–${last} of ${this.log.version}`;
		this.#prev.disabled = this.#after === 0;
		this.#next.disabled = this.#nextAfter === null;
		replace(
			this.#body,
			...this.#rows.map((event) => {
				const current = event.seq === this.#version;
				const broken = event.seq === this.#broken;
				const pill = KERNEL_PILLS[event.type];
				const row = h(
					"tr",
					{
						class: [current ? "current" : "", broken ? "broken" : ""].join(" ").trim() || null,
						"data-seq": event.seq,
						"aria-current": current ? "true" : null,
						tabindex: 0,
						title: broken ? "The hash chain breaks here" : null,
						onclick: () => this.onPick(event.seq),
						onkeydown: (e: Event) => {
							if ((e as KeyboardEvent).key === "Enter") this.onPick(event.seq);
						},
					},
					h("td", { class: "num" }, event.seq),
					h("td", { class: "time" }, time(event.ts)),
					h(
						"td",
						{},
						h("code", {}, event.type),
						pill ? h("span", { class: `pill ${pill.tone}`, "data-kernel": pill.text }, pill.text) : null,
						broken ? h("span", { class: "pill bad" }, "broken") : null,
					),
				);
				return row;
			}),
		);
		this.#body.querySelector("tr.current")?.scrollIntoView({ block: "nearest" });
	}
}
