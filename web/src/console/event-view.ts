/**
 * The event that made the version being looked at: the row as stored (`?raw=true`: the version and data
 * it was written with, what the hash covers) beside the form reducers and reads see (upcast to the type's
 * current version), and its metadata: who acted (the key or member in `meta.principal`), and as links the causing
 * actor and event, and searches of this log for the same correlation, request, client action or operation id.
 * The kernel's parked-work events say what was parked and link to the Parked work view, or to the event acted on.
 */
import { type ActorPath, parseActor } from "../../../src/cli/actors.ts";
import type { ExportedEvent } from "../../../src/cli/chain.ts";
import { principalOf, type RecordedEvent } from "../../../src/events/envelope.ts";
import { h, replace } from "../shared/dom.ts";
import { isoTime } from "../shared/format.ts";

export interface EventViewActions {
	/** Opens the actor that caused this event, at the causing event when its id is known there. */
	followCause(actor: ActorPath, eventId: string | undefined, from: ExportedEvent): void;
	/** Lists the events of this actor whose meta has `key` = `value`. */
	findMeta(key: string, value: string): Promise<ExportedEvent[]>;
	goTo(seq: number): void;
}

const SEARCHABLE = ["correlationId", "requestId", "clientActionId", "operationId"];

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

export class EventView {
	readonly #body: HTMLElement;
	readonly #title: HTMLElement;

	constructor(
		container: HTMLElement,
		private readonly actions: EventViewActions,
	) {
		this.#title = h("h2", { id: "event-title" }, "Event");
		this.#body = h("div", {});
		replace(container, this.#title, this.#body);
	}

	showNone(): void {
		this.#title.textContent = "Event";
		replace(this.#body, h("p", { class: "empty" }, "Version 0 is the state before any event: move forward to see the first one."));
	}

	show(raw: ExportedEvent, upcast: RecordedEvent, broken: boolean): void {
		this.#title.textContent = `Event #${raw.seq}`;
		const lifted = upcast.v !== raw.v;
		replace(
			this.#body,
			h(
				"dl",
				{ class: "facts" },
				h("dt", {}, "type"),
				h("dd", {}, h("code", { id: "event-type" }, raw.type)),
				h("dt", {}, "id"),
				h("dd", {}, h("code", {}, raw.id)),
				h("dt", {}, "time"),
				h("dd", {}, `${isoTime(raw.ts)} (${raw.ts})`),
				h("dt", {}, "hash"),
				h("dd", {}, h("code", { class: "hash" }, raw.hash), broken ? h("span", { class: "pill bad" }, "the chain breaks here") : null),
			),
			this.#kernelNote(raw),
			this.#meta(raw),
			h(
				"div",
				{ class: "raw-upcast" },
				h(
					"figure",
					{},
					h("figcaption", {}, `As stored (raw): v${raw.v}`),
					h("pre", { id: "event-raw", class: "json" }, pretty({ v: raw.v, data: raw.data })),
				),
				h(
					"figure",
					{},
					h(
						"figcaption",
						{},
						lifted ? `Upcast: v${raw.v} → v${upcast.v}, as reducers and reads see it` : `Upcast: v${upcast.v}, already current`,
					),
					h("pre", { id: "event-upcast", class: "json" }, pretty({ v: upcast.v, data: upcast.data })),
				),
			),
		);
	}

	/** What a parked-work event of the kernel (src/events/kernel.ts) means, with where to act on it; null for other events. */
	#kernelNote(raw: ExportedEvent): HTMLElement | null {
		const data = raw.data as Record<string, unknown>;
		if (raw.type === "kernel.work_parked") {
			const item = raw.actor ? `${raw.actor.kind}.${raw.actor.id}.${raw.seq}` : null;
			return h(
				"p",
				{ class: "kernel-note parked", id: "parked-note" },
				h("strong", {}, "Parked work. "),
				`This actor stopped retrying its ${String(data.work)} ${String(data.name)} after ${String(data.attempts)} attempt(s), reason ${String(data.reason)}: ${String(data.lastError)}. `,
				item ? h("span", {}, "Item ", h("code", {}, item), ": ") : null,
				h("a", { href: "#parked", id: "parked-note-link" }, "retry or discard it in Parked work"),
				".",
			);
		}
		if (raw.type === "kernel.parked_retried" || raw.type === "kernel.parked_discarded") {
			const seq = Number(data.parkedSeq);
			return h(
				"p",
				{ class: "kernel-note", id: "parked-note" },
				raw.type === "kernel.parked_retried" ? "An operator retried " : "An operator discarded ",
				"the work parked by ",
				h("button", { type: "button", class: "link", onclick: () => this.actions.goTo(seq) }, `event #${seq}`),
				`: ${String(data.work)} ${String(data.name)}.`,
			);
		}
		return null;
	}

	#meta(raw: ExportedEvent): HTMLElement {
		const meta = raw.meta as Record<string, string>;
		const results = h("div", { class: "meta-results", id: "meta-results", "aria-live": "polite" });
		const rows: HTMLElement[] = [];
		const causeActor = meta.causationActor ? parseActor(meta.causationActor) : null;
		if (meta.causationActor) {
			rows.push(
				h("dt", {}, "caused by"),
				h(
					"dd",
					{},
					causeActor
						? h(
								"button",
								{
									type: "button",
									class: "link",
									id: "follow-cause",
									onclick: () => this.actions.followCause(causeActor, meta.causationId, raw),
								},
								`${meta.causationActor}${meta.causationId ? ` · event ${meta.causationId}` : ""}`,
							)
						: h("code", {}, meta.causationActor),
				),
			);
		} else if (meta.causationId) {
			rows.push(h("dt", {}, "causationId"), h("dd", {}, h("code", {}, meta.causationId)));
		}
		const actedAs = principalOf((raw.meta as Record<string, unknown>).principal);
		if (actedAs) {
			const text = actedAs.kind === "key" ? `key ${actedAs.id}` : `member ${actedAs.email}`;
			rows.push(h("dt", {}, "acted as"), h("dd", {}, h("code", { id: "event-principal" }, text)));
		}
		for (const key of SEARCHABLE) {
			const value = meta[key];
			if (!value) continue;
			rows.push(
				h("dt", {}, key),
				h(
					"dd",
					{},
					h("code", {}, value),
					" ",
					h(
						"button",
						{
							type: "button",
							class: "link",
							"data-find": key,
							onclick: async () => {
								replace(results, h("p", { class: "caption" }, `Searching this actor's log for ${key} ${value}…`));
								const found = await this.actions.findMeta(key, value);
								replace(
									results,
									h(
										"p",
										{ class: "caption" },
										`${found.length} event(s) of this actor carry ${key} ${value}. Only this actor's log is searched: Roost keeps no index of these ids across actors.`,
									),
									h(
										"ul",
										{ class: "chips" },
										...found.map((e) =>
											h(
												"li",
												{},
												h(
													"button",
													{ type: "button", class: "quiet chip", onclick: () => this.actions.goTo(e.seq) },
													`#${e.seq} ${e.type}`,
												),
											),
										),
									),
								);
							},
						},
						"find in this log",
					),
				),
			);
		}
		if (rows.length === 0) return h("p", { class: "caption" }, "No metadata.");
		return h("div", {}, h("dl", { class: "facts meta" }, ...rows), results);
	}
}
