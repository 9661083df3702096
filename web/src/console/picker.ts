/**
 * Picking an actor of the org: the org itself, or a session, camera or chat by id. Ids are suggested from
 * what the org knows (its directories of sessions and cameras, and the actors named by the interactions on
 * its log), from the actors opened here before, and from the dashboard in this tab; any id can be typed.
 */
import { type ActorPath, actorLabel, parseActor, type Segment, segmentOfKind, segments } from "../../../src/cli/actors.ts";
import type { RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";

export interface KnownActor {
	kind: Segment;
	id: string;
	/** Where it was seen, shown beside the id. */
	note: string;
}

const RECENT_KEY = "roost.console.recent";
const MAX_RECENT = 30;
const SHOWN = 40;
/** The org's interactions looked at for camera and chat ids (the newest events of that type). */
const INTERACTION_EVENTS = 2000;

interface SessionsBody {
	sessions: { session: string; status: "active" | "ended" }[];
	cursor: string | null;
}

interface CamerasBody {
	cameras: { camera: string; status: "online" | "offline" }[];
}

interface InteractionEvent {
	data: { source: string; actor: { kind: string; id: string } };
}

export function rememberActor(actor: ActorPath): void {
	if (actor.kind === "org") return;
	const label = actorLabel(actor);
	const recent = recentActors().filter((entry) => entry !== label);
	localStorage.setItem(RECENT_KEY, JSON.stringify([label, ...recent].slice(0, MAX_RECENT)));
}

function recentActors(): string[] {
	try {
		const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]") as unknown;
		return Array.isArray(list) ? list.filter((entry): entry is string => typeof entry === "string") : [];
	} catch {
		return [];
	}
}

export class Picker {
	readonly #known = new Map<string, KnownActor>();
	readonly #kind: HTMLSelectElement;
	readonly #id: HTMLInputElement;
	readonly #list: HTMLUListElement;
	readonly #status: HTMLElement;

	constructor(
		container: HTMLElement,
		private readonly api: RoostApi,
		private readonly onOpen: (actor: ActorPath) => void,
	) {
		this.#kind = h(
			"select",
			{ id: "picker-kind", onchange: () => this.#changedKind() },
			h("option", { value: "org" }, "org"),
			...segments("console").map((segment, i) => h("option", { value: segment, selected: i === 0 }, segment)),
		);
		this.#id = h("input", {
			id: "picker-id",
			type: "search",
			autocomplete: "off",
			spellcheck: "false",
			placeholder: "id, or part of one",
			"aria-describedby": "picker-status",
			oninput: () => this.#renderList(),
		});
		this.#list = h("ul", { class: "picker-list", "aria-label": "Known actors" });
		this.#status = h("p", { id: "picker-status", class: "caption" }, "Loading the org's actors…");
		const form = h(
			"form",
			{
				class: "picker-form",
				onsubmit: (event: Event) => {
					event.preventDefault();
					this.#openTyped();
				},
			},
			h("label", { for: "picker-kind" }, "Kind"),
			this.#kind,
			h("label", { for: "picker-id" }, "Id"),
			this.#id,
			h("button", { type: "submit", id: "picker-open" }, "Open"),
		);
		replace(container, h("h2", { id: "picker-title", class: "visually-hidden" }, "Pick an actor"), form, this.#status, this.#list);
	}

	/** Shows `actor` as the one picked (after a link or an address change opened it). */
	select(actor: ActorPath): void {
		this.#kind.value = actor.kind;
		this.#id.value = actor.kind === "org" ? "" : actor.id;
		this.#changedKind(false);
	}

	add(actor: KnownActor): void {
		const key = `${actor.kind}/${actor.id}`;
		if (!this.#known.has(key)) this.#known.set(key, actor);
	}

	/** Fills the suggestions from the org's directory and log. */
	async load(orgVersion: number): Promise<void> {
		for (const label of recentActors()) {
			const actor = parseActor(label);
			if (actor && actor.kind !== "org") this.add({ ...actor, note: actor.id.startsWith("sandbox-") ? "sandbox" : "opened before" });
		}
		this.#fromDashboard();
		const results = await Promise.allSettled([this.#loadSessions(), this.#loadCameras(), this.#loadInteractions(orgVersion)]);
		const failed = results.filter((r) => r.status === "rejected").length;
		this.#status.textContent = `${this.#known.size} known actors${failed ? " (some lists could not be read)" : ""}. Type any id to open an actor that is not listed: chats are known only by their id.`;
		this.#renderList();
	}

	async #loadSessions(): Promise<void> {
		let cursor: string | null = null;
		for (let page = 0; page < 3; page++) {
			const body: SessionsBody = await this.api.get<SessionsBody>(this.api.orgPath("/sessions"), {
				status: "all",
				limit: 200,
				cursor: cursor ?? undefined,
			});
			for (const s of body.sessions) this.add({ kind: "sessions", id: s.session, note: s.status });
			cursor = body.cursor;
			if (!cursor) break;
		}
		this.#renderList();
	}

	async #loadCameras(): Promise<void> {
		const body = await this.api.get<CamerasBody>(this.api.orgPath("/cameras"));
		for (const c of body.cameras) this.add({ kind: "cameras", id: c.camera, note: c.status });
		this.#renderList();
	}

	async #loadInteractions(orgVersion: number): Promise<void> {
		let after: number | null = Math.max(0, orgVersion - INTERACTION_EVENTS);
		while (after !== null) {
			const page: { events: InteractionEvent[]; next: number | null } = await this.api.get(this.api.orgPath("/events"), {
				after,
				limit: 1000,
				type: "org.interaction_recorded",
			});
			for (const event of page.events) {
				const segment = segmentOfKind(event.data.actor.kind);
				if (segment) this.add({ kind: segment, id: event.data.actor.id, note: `${event.data.source} interaction` });
			}
			after = page.next;
		}
		this.#renderList();
	}

	/** The dashboard in this tab keeps its chat and followed cameras in session storage. */
	#fromDashboard(): void {
		const chat = sessionStorage.getItem("roost.chatId");
		if (chat) this.add({ kind: "chats", id: chat, note: "the dashboard's chat" });
		try {
			const cameras = JSON.parse(sessionStorage.getItem("roost.cameras") ?? "[]") as unknown;
			if (Array.isArray(cameras))
				for (const id of cameras) if (typeof id === "string") this.add({ kind: "cameras", id, note: "followed on the dashboard" });
		} catch {}
	}

	#changedKind(render = true): void {
		const org = this.#kind.value === "org";
		this.#id.disabled = org;
		if (org) this.#id.value = "";
		if (render) this.#renderList();
	}

	#openTyped(): void {
		if (this.#kind.value === "org") {
			this.onOpen({ kind: "org" });
			return;
		}
		const id = this.#id.value.trim();
		const actor = parseActor(`${this.#kind.value}/${id}`);
		if (!actor) {
			this.#status.textContent = id
				? `"${id}" is not an actor id: letters, digits, . _ - (starting with a letter or digit).`
				: "Type an id.";
			return;
		}
		this.onOpen(actor);
	}

	#renderList(): void {
		const kind = this.#kind.value;
		const needle = this.#id.value.trim().toLowerCase();
		const matches = [...this.#known.values()].filter((a) => a.kind === kind && a.id.toLowerCase().includes(needle));
		replace(
			this.#list,
			...matches.slice(0, SHOWN).map((a) =>
				h(
					"li",
					{},
					h(
						"button",
						{
							type: "button",
							class: "quiet actor-choice",
							"data-actor": `${a.kind}/${a.id}`,
							onclick: () => this.onOpen({ kind: a.kind, id: a.id }),
						},
						h("code", {}, a.id),
						" ",
						h("span", { class: "pill" }, a.note),
					),
				),
			),
			matches.length > SHOWN ? h("li", { class: "caption" }, `and ${matches.length - SHOWN} more: type to narrow`) : null,
			kind !== "org" && matches.length === 0
				? h("li", { class: "empty" }, needle ? "No known actor matches; Open tries the id as typed." : "None known yet.")
				: null,
		);
	}
}
