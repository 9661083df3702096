/**
 * Active web sessions: the org's directory (`GET /sessions?status=active`) kept current from the org's log
 * (`org.visit_started` adds a session, its visit's `org.interaction_recorded` removes it). The newest
 * WATCHED of them are followed on their own sockets for their current page and last event; the rest are
 * counted, not followed, to keep the number of sockets polite.
 */
import type { ActorSocket } from "../shared/actor-socket.ts";
import type { EventEnvelope, RoostApi } from "../shared/api.ts";
import { h, perFrame, replace } from "../shared/dom.ts";
import { ago, count, plural, shortId } from "../shared/format.ts";
import type { LiveHub } from "../shared/live-hub.ts";

export const WATCHED = 12;
/** A visit the org hears of this long after it started is backfilled history, not one in progress. */
const BACKFILLED_AFTER_MS = 10 * 60_000;
/** The directory page read on start (the API's largest). */
const LOAD_LIMIT = 200;

interface ActiveSession {
	id: string;
	visit: number;
	startedAt: number;
	/** Known once the session's socket has replayed its log. */
	currentPage: string | null;
	lastEvent: { type: string; ts: number } | null;
	/** Events of the current visit. */
	events: number;
	ended: boolean;
	/** Its socket has delivered at least one event, so the page and counts are known. */
	known: boolean;
	socket?: ActorSocket;
	updatedAt: number;
}

interface SessionList {
	sessions: { session: string; status: "active" | "ended"; visit: number; startedAt: number }[];
	active: number;
}

export class SessionsView {
	readonly #sessions = new Map<string, ActiveSession>();
	/** The last visit of each session whose interaction arrived: a late directory read must not bring it back. */
	readonly #endedVisits = new Map<string, number>();
	readonly #list: HTMLOListElement;
	readonly #counter: HTMLElement;
	readonly #more: HTMLElement;
	/** Active sessions the directory had beyond the page read on start. */
	#unlisted = 0;
	readonly render = perFrame(() => this.#render());

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
		private readonly hub: LiveHub,
	) {
		this.#counter = h("span", { class: "count", id: "sessions-count" }, "…");
		this.#list = h("ol", { class: "session-list", id: "session-list", "aria-live": "off" });
		this.#more = h("p", { class: "caption" });
		replace(
			section,
			h("h2", { id: "sessions-title" }, "Active sessions ", this.#counter),
			h(
				"p",
				{ class: "caption" },
				`Web visits in progress. The ${WATCHED} newest are followed live for their current page and last event.`,
			),
			this.#list,
			this.#more,
		);
		setInterval(() => this.render(), 5000);
	}

	async load(): Promise<void> {
		const list = await this.api.get<SessionList>(this.api.orgPath("/sessions"), { status: "active", limit: LOAD_LIMIT });
		for (const s of list.sessions) this.#upsert(s.session, s.visit, s.startedAt);
		this.#unlisted = Math.max(0, list.active - list.sessions.length);
		this.#reconcile();
	}

	/** The org's log: visits start and end here. */
	onOrgEvent(event: EventEnvelope): void {
		if (event.type === "org.visit_started") {
			const data = event.data as { session: string; visit: number; startedAt: number };
			// A visit the org hears of long after it started is history being backfilled: it ends at once, and following
			// hundreds of those on sockets would only load the page and the server.
			if (event.ts - data.startedAt > BACKFILLED_AFTER_MS) return;
			this.#upsert(data.session, data.visit, data.startedAt);
			this.#reconcile();
		} else if (event.type === "org.interaction_recorded") {
			const data = event.data as { actor: { kind: string; id: string }; summary: { visit?: unknown } };
			if (data.actor.kind !== "session") return;
			const session = this.#sessions.get(data.actor.id);
			const visit = typeof data.summary.visit === "number" ? data.summary.visit : (session?.visit ?? 1);
			this.#endedVisits.set(data.actor.id, Math.max(visit, this.#endedVisits.get(data.actor.id) ?? 0));
			// Only a directory read racing the org's log needs this memory: keep the newest few thousand.
			if (this.#endedVisits.size > 5000) this.#endedVisits.delete(this.#endedVisits.keys().next().value ?? "");
			if (!session || visit < session.visit) return;
			this.hub.close(session.socket);
			this.#sessions.delete(session.id);
			this.#reconcile();
		}
	}

	get size(): number {
		return this.#sessions.size;
	}

	#upsert(id: string, visit: number, startedAt: number): void {
		if ((this.#endedVisits.get(id) ?? 0) >= visit) return;
		const known = this.#sessions.get(id);
		if (known && known.visit > visit) return;
		if (known) {
			Object.assign(known, { visit, startedAt, ended: false });
			return;
		}
		this.#sessions.set(id, {
			id,
			visit,
			startedAt,
			currentPage: null,
			lastEvent: null,
			events: 0,
			ended: false,
			known: false,
			updatedAt: 0,
		});
	}

	/** Follows the WATCHED newest sessions, and lets go of the others. */
	#reconcile(): void {
		const newest = this.#newest();
		const watched = new Set(newest.slice(0, WATCHED).map((s) => s.id));
		for (const session of this.#sessions.values()) {
			if (watched.has(session.id) && !session.socket) {
				session.socket = this.hub.open({ kind: "sessions", id: session.id }, { onEvent: (event) => this.#onSessionEvent(session, event) });
			} else if (!watched.has(session.id) && session.socket) {
				this.hub.close(session.socket);
				session.socket = undefined;
			}
		}
		this.render();
	}

	#newest(): ActiveSession[] {
		return [...this.#sessions.values()].sort((a, b) => b.startedAt - a.startedAt || a.id.localeCompare(b.id));
	}

	/** A session's own log, replayed from its start: the state of its current visit. */
	#onSessionEvent(session: ActiveSession, event: EventEnvelope): void {
		switch (event.type) {
			case "session.started":
				session.visit = Math.max(session.visit, Number(event.data.visit) || 0);
				session.currentPage = null;
				session.events = 0;
				session.ended = false;
				break;
			case "session.ended":
				session.ended = true;
				break;
			case "session.page_viewed":
				session.currentPage = String(event.data.path ?? event.data.url ?? "");
				session.events++;
				break;
			default:
				session.events++;
		}
		session.lastEvent = { type: event.type, ts: event.ts };
		session.known = true;
		session.updatedAt = Date.now();
		this.render();
	}

	#render(): void {
		const total = this.#sessions.size + this.#unlisted;
		this.#counter.textContent = `(${count(total)})`;
		const newest = this.#newest().slice(0, WATCHED);
		const rows = newest.map((s) => this.#row(s));
		if (rows.length === 0) rows.push(h("li", { class: "empty" }, "No web session is active right now."));
		replace(this.#list, ...rows);
		const others = total - newest.length;
		this.#more.textContent = others > 0 ? `${count(others)} more active, not followed live.` : "";
	}

	#row(s: ActiveSession): HTMLLIElement {
		const fresh = Date.now() - s.updatedAt < 1500;
		return h(
			"li",
			{ class: fresh ? "session updated" : "session", "data-session": s.id },
			h("span", { class: "session-id", title: s.id }, shortId(s.id)),
			h("span", { class: "session-page" }, s.currentPage ?? (s.known ? "(no page yet)" : "…")),
			h(
				"span",
				{ class: "session-last" },
				s.lastEvent ? `${s.lastEvent.type.replace(/^session\./, "")} · ${ago(s.lastEvent.ts)}` : `started ${ago(s.startedAt)}`,
			),
			h("span", { class: "session-events" }, s.ended ? "ended" : s.known ? plural(s.events, "event") : ""),
		);
	}
}
