/**
 * Operations: the health of the org's actors per kind, amber or red past the thresholds the server applies
 * (src/core/health.ts, docs/operations.md), and the org's parked work with retry and discard. Polled every 10 s.
 */
import type { KindHealth } from "../../../src/core/health.ts";
import type { RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";
import { actOnParked, age, type ParkedItem, parkedPage } from "../shared/parked.ts";

const POLL_MS = 10_000;
const kib = (bytes: number): string => `${Math.round(bytes / 1024)} KiB`;

export class OperationsView {
	readonly #status: HTMLElement;
	readonly #kinds: HTMLElement;
	readonly #parked: HTMLElement;

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
	) {
		this.#status = h("span", { class: "ops-status", id: "ops-status" });
		this.#kinds = h("div", { id: "ops-kinds" });
		this.#parked = h("div", { id: "ops-parked" });
		replace(
			section,
			h("h2", { id: "operations-title" }, "Operations ", this.#status),
			h("p", { class: "caption" }, "What the org's actors owe and what is stuck: amber or red past the thresholds in docs/operations.md."),
			this.#kinds,
			h("h3", {}, "Parked work"),
			this.#parked,
		);
		void this.refresh();
		setInterval(() => void this.refresh(), POLL_MS);
	}

	async refresh(): Promise<void> {
		try {
			const [health, parked] = await Promise.all([
				this.api.get<{ status: KindHealth["status"]; kinds: Record<string, KindHealth> }>(this.api.orgPath("/health")),
				parkedPage(this.api, 0, 50),
			]);
			this.#render(health.status, health.kinds, parked.items, parked.total);
		} catch {
			// Offline or refused: the figures shown stay until the next poll answers.
		}
	}

	#render(status: KindHealth["status"], kinds: Record<string, KindHealth>, items: ParkedItem[], total: number): void {
		this.#status.textContent = status;
		this.#status.dataset.status = status;
		const head = ["kind", "followed", "outbox", "oldest undelivered", "overdue timers", "parked", "sockets", "snapshot lag", "storage"];
		replace(
			this.#kinds,
			h(
				"table",
				{ class: "ops-table" },
				h("thead", {}, h("tr", {}, ...head.map((title) => h("th", { scope: "col" }, title)))),
				h(
					"tbody",
					{},
					...Object.entries(kinds).map(([kind, k]) =>
						h(
							"tr",
							{ "data-kind": kind, "data-status": k.status, class: `ops-${k.status}` },
							h("th", { scope: "row" }, kind),
							h("td", {}, `${k.followed}${k.probed < k.followed ? ` (${k.probed} asked)` : ""}`),
							h("td", {}, k.outboxPending),
							h("td", {}, age(k.oldestUndeliveredAgeMs)),
							h("td", {}, k.overdueTimers),
							h("td", {}, k.parked),
							h("td", {}, k.sockets),
							h("td", {}, k.snapshotLagEvents ?? "—"),
							h("td", {}, kib(k.storageBytes)),
						),
					),
				),
			),
		);
		if (items.length === 0) {
			replace(this.#parked, h("p", { class: "empty", id: "ops-parked-empty" }, "Nothing parked."));
			return;
		}
		replace(
			this.#parked,
			h("p", {}, `${total} parked`),
			h(
				"ul",
				{ class: "ops-parked" },
				...items.map((item) =>
					h(
						"li",
						{ "data-id": item.id },
						h("code", {}, item.id),
						` ${item.actor.kind}/${item.actor.id}: ${item.work} ${item.name}, ${item.attempts} attempts, ${age(item.ageMs)} ago: ${item.lastError} `,
						h("button", { type: "button", onclick: () => void this.#act(item.id, "retry") }, "Retry"),
						h("button", { type: "button", onclick: () => void this.#act(item.id, "discard") }, "Discard"),
					),
				),
			),
		);
	}

	async #act(id: string, how: "retry" | "discard"): Promise<void> {
		await actOnParked(this.api, id, how);
		await this.refresh();
	}
}
