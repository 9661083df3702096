/**
 * What an event did to state: the jsondiffpatch delta from the state before it to the state after it, in
 * jsondiffpatch's HTML form (its formatter escapes every key and value), and the whole state at the version.
 */
import { create, type Delta } from "jsondiffpatch";
import { format } from "jsondiffpatch/formatters/html";
import "jsondiffpatch/formatters/styles/html.css";
import { h, replace } from "../shared/dom.ts";

/** Arrays of objects are matched by a stable id when they have one, so an insertion reads as one, not as every later item changing. */
export const differ = create({
	objectHash: (item: object, index?: number) => {
		const o = item as Record<string, unknown>;
		const key = o.id ?? o.messageId ?? o.frameId ?? o.seq ?? o.number;
		return key === undefined ? `$$index:${index}` : String(key);
	},
	arrays: { detectMove: true },
});

export function deltaHtml(delta: Delta, left?: unknown): string {
	return format(delta, left) ?? "";
}

export class DiffView {
	readonly #title: HTMLElement;
	readonly #body: HTMLElement;
	readonly #unchanged: HTMLInputElement;

	constructor(container: HTMLElement) {
		this.#title = h("h2", { id: "diff-title" }, "Diff");
		this.#unchanged = h("input", { type: "checkbox", id: "diff-unchanged", onchange: () => this.#toggle() });
		this.#body = h("div", { id: "diff-body", class: "diff-body jsondiffpatch-unchanged-hidden" });
		replace(container, this.#title, h("label", { class: "toggle" }, this.#unchanged, " show unchanged parts"), this.#body);
	}

	show(seq: number, type: string, before: unknown, after: unknown): void {
		this.#title.textContent = `Diff made by #${seq} (${type})`;
		const delta = differ.diff(before, after);
		if (delta === undefined) {
			replace(this.#body, h("p", { class: "empty", id: "diff-none" }, "This event left the state as it was."));
			return;
		}
		this.#body.innerHTML = deltaHtml(delta, before);
	}

	showNone(): void {
		this.#title.textContent = "Diff";
		replace(this.#body, h("p", { class: "empty" }, "Version 0: no event yet, so no diff."));
	}

	#toggle(): void {
		this.#body.classList.toggle("jsondiffpatch-unchanged-hidden", !this.#unchanged.checked);
		this.#body.classList.toggle("jsondiffpatch-unchanged-visible", this.#unchanged.checked);
	}
}

export class StateView {
	readonly #title: HTMLElement;
	readonly #pre: HTMLPreElement;

	constructor(container: HTMLElement) {
		this.#title = h("h2", { id: "state-title" }, "State");
		this.#pre = h("pre", { id: "state-json", class: "json" });
		replace(
			container,
			this.#title,
			h("p", { class: "caption" }, "Folded in this page with the same reducers the Worker runs (src/reducers)."),
			this.#pre,
		);
	}

	show(version: number, state: unknown): void {
		this.#title.textContent = `State at version ${version}`;
		this.#pre.textContent = JSON.stringify(state, null, 2);
	}
}
