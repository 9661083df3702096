/**
 * The open actor's header: what it is, its version and head hash, and the tools: verify the chain, the
 * what-if replay, export as NDJSON, fork at the version being looked at, import a file into a sandbox.
 */
import { type ActorPath, actorLabel, isSandbox } from "../../../src/cli/actors.ts";
import { h, replace } from "../shared/dom.ts";

export interface HeadActions {
	verify(): void;
	replay(): void;
	exportLog(): void;
	fork(): void;
	importFile(file: File): void;
}

export class ActorHead {
	readonly #title: HTMLElement;
	readonly #facts: HTMLElement;
	readonly #status: HTMLElement;
	readonly #fork: HTMLButtonElement;

	constructor(container: HTMLElement, actions: HeadActions) {
		this.#title = h("h1", { id: "actor-title" });
		this.#facts = h("p", { class: "caption", id: "actor-facts" });
		this.#status = h("div", { id: "tool-status", class: "tool-status", role: "status" });
		this.#fork = h("button", { type: "button", class: "quiet", id: "tool-fork", onclick: () => actions.fork() }, "Fork here");
		const file = h("input", {
			type: "file",
			id: "import-file",
			accept: ".ndjson,.jsonl,application/x-ndjson",
			class: "visually-hidden",
			onchange: () => {
				const chosen = file.files?.[0];
				if (chosen) actions.importFile(chosen);
				file.value = "";
			},
		});
		replace(
			container,
			h("div", { class: "actor-title-row" }, this.#title, this.#facts),
			h(
				"div",
				{ class: "tools", role: "toolbar", "aria-label": "Tools" },
				h("button", { type: "button", id: "tool-verify", onclick: () => actions.verify() }, "Verify chain"),
				h("button", { type: "button", class: "quiet", id: "tool-replay", onclick: () => actions.replay() }, "What-if replay"),
				h("button", { type: "button", class: "quiet", id: "tool-export", onclick: () => actions.exportLog() }, "Export NDJSON"),
				this.#fork,
				file,
				h("label", { for: "import-file", class: "button quiet", id: "tool-import" }, "Import NDJSON…"),
			),
			this.#status,
		);
	}

	show(actor: ActorPath, version: number, headHash: string | null): void {
		this.#title.textContent = actor.kind === "org" ? "org" : actorLabel(actor);
		const parts = [`version ${version}`];
		if (headHash) parts.push(`head ${headHash.slice(0, 16)}…`);
		if (isSandbox(actor)) parts.push("sandbox: inert (no timers, sends nothing)");
		this.#facts.textContent = parts.join(" · ");
		this.#fork.hidden = actor.kind === "org";
	}

	/** Labels the fork button with the version it forks at. */
	forkAt(version: number): void {
		this.#fork.textContent = `Fork at version ${version}`;
	}

	status(kind: "ok" | "bad" | "busy" | "info", ...content: (Node | string)[]): void {
		this.#status.dataset.state = kind;
		replace(this.#status, ...content);
	}
}
