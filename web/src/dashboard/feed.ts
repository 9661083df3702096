/**
 * The live feed of interactions: `org.interaction_recorded` events from the org's log, newest first, one row
 * per interaction id. A web visit becomes one when it ends (after the session's inactivity timeout), a
 * camera batch when it closes, a chat conversation when it is handed over.
 */
import type { EventEnvelope, RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";
import { clock, count, dateTime, duration, plural, shortId } from "../shared/format.ts";

const KEEP = 100;
/** How many of the latest interactions the feed starts with, before the live ones. */
const LOAD_LIMIT = 30;

export interface InteractionData {
	id: string;
	source: "web" | "cctv" | "chat";
	actor: { kind: string; id: string };
	startedAt: number;
	endedAt: number;
	summary: Record<string, unknown>;
}

export class FeedView {
	readonly #ids = new Set<string>();
	readonly #list: HTMLOListElement;
	readonly #empty: HTMLElement;
	readonly #counter: HTMLElement;
	#total = 0;

	constructor(section: HTMLElement) {
		this.#list = h("ol", { class: "feed", id: "feed-list", "aria-live": "polite", "aria-relevant": "additions" });
		this.#empty = h("p", { class: "empty" }, "No interaction yet. A web visit turns into one when it ends, after its inactivity timeout.");
		this.#counter = h("span", { class: "count", id: "feed-count" }, "(0)");
		replace(
			section,
			h("h2", { id: "feed-title" }, "Interactions ", this.#counter),
			h("p", { class: "caption" }, "Finished web visits, camera batches and chats, as the org records them. Newest first."),
			this.#empty,
			this.#list,
		);
	}

	/**
	 * The latest interactions by when they ended (`GET .../interactions/search`), below any the org's log brought
	 * already: the log's replay covers only its last events, and an org busy with rollups may have none among them.
	 */
	async load(api: RoostApi): Promise<void> {
		const page = await api.get<{ interactions: (InteractionData & { seq: number; recordedAt: number })[] }>(
			api.orgPath("/interactions/search"),
			{ limit: LOAD_LIMIT },
		);
		for (const interaction of page.interactions) this.#add(interaction, interaction.seq, "append");
	}

	onOrgEvent(event: EventEnvelope): void {
		if (event.type !== "org.interaction_recorded") return;
		this.#add(event.data as unknown as InteractionData, event.seq, "prepend");
	}

	#add(interaction: InteractionData, seq: number, where: "prepend" | "append"): void {
		if (this.#ids.has(interaction.id)) return;
		this.#ids.add(interaction.id);
		this.#total++;
		this.#counter.textContent = `(${count(this.#total)})`;
		this.#empty.hidden = true;
		this.#list[where](this.#row(interaction, seq));
		// The socket never sends an event twice, so the ids of rows that scroll off need not be kept.
		while (this.#list.children.length > KEEP) {
			const last = this.#list.lastElementChild as HTMLElement | null;
			if (!last) break;
			this.#ids.delete(last.dataset.interaction ?? "");
			last.remove();
		}
	}

	#row(i: InteractionData, seq: number): HTMLLIElement {
		// When it ended: the time of day for today's, the date too for older ones (a backfilled history).
		const today = new Date(i.endedAt).toDateString() === new Date().toDateString();
		return h(
			"li",
			{ class: "interaction updated", "data-interaction": i.id, "data-seq": seq },
			h("time", { datetime: new Date(i.endedAt).toISOString() }, today ? clock(i.endedAt) : dateTime(i.endedAt)),
			h("span", { class: `source source-${i.source}` }, i.source),
			h("span", { class: "actor", title: `${i.actor.kind} ${i.actor.id}` }, `${i.actor.kind} ${shortId(i.actor.id, 10)}`),
			h("span", { class: "what" }, describe(i)),
		);
	}
}

const num = (value: unknown): number => (typeof value === "number" ? value : 0);

/** One line about an interaction, from the summary its source writes. */
export function describe(i: InteractionData): string {
	const s = i.summary;
	const took = duration(Math.max(0, i.endedAt - i.startedAt));
	if (i.source === "web") {
		const pages = Array.isArray(s.pages) ? (s.pages as string[]) : [];
		const parts = [plural(num(s.pageViews), "page view"), plural(num(s.clicks), "click"), took];
		if (num(s.errors)) parts.push(plural(num(s.errors), "error"));
		if (typeof s.userId === "string") parts.push(s.userId);
		return `${parts.join(" · ")}${pages.length ? ` · ${pages.slice(0, 4).join(" → ")}${pages.length > 4 ? " …" : ""}` : ""}`;
	}
	if (i.source === "cctv") {
		const parts = [plural(num(s.frames), "frame"), `${num(s.motionFrames)} with motion`, took];
		if (typeof s.peopleSeen === "number") parts.push(`up to ${s.peopleSeen} people`);
		if (typeof s.lastDescription === "string" && s.lastDescription) parts.push(s.lastDescription);
		return parts.join(" · ");
	}
	return [plural(num(s.messages), "message"), took].join(" · ");
}
