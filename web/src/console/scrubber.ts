/**
 * Moving through an actor's versions: a slider over 0..version, step buttons, and a box to type a version.
 * Keyboard: the slider takes the arrow keys, Home and End, as any range input does.
 */
import { h, replace } from "../shared/dom.ts";

export class Scrubber {
	readonly #slider: HTMLInputElement;
	readonly #number: HTMLInputElement;
	readonly #of: HTMLElement;
	readonly #buttons: HTMLButtonElement[];
	readonly #broken: HTMLElement;
	#version = 0;
	#max = 0;

	constructor(
		container: HTMLElement,
		private readonly onMove: (version: number) => void,
	) {
		this.#slider = h("input", {
			id: "version-slider",
			type: "range",
			min: 0,
			max: 0,
			value: 0,
			"aria-label": "Version",
			oninput: () => this.onMove(Number(this.#slider.value)),
		});
		this.#number = h("input", {
			id: "version-input",
			type: "number",
			min: 0,
			value: 0,
			inputmode: "numeric",
			"aria-label": "Go to version",
			onchange: () => this.onMove(Number(this.#number.value)),
		});
		this.#of = h("span", { id: "version-of" }, "of 0");
		const step = (label: string, title: string, id: string, to: () => number) =>
			h("button", { type: "button", class: "quiet step", id, title, "aria-label": title, onclick: () => this.onMove(to()) }, label);
		this.#buttons = [
			step("«", "First version (0: before any event)", "step-first", () => 0),
			step("◀", "Previous version", "step-back", () => this.#version - 1),
			step("▶", "Next version", "step-forward", () => this.#version + 1),
			step("»", "Latest version", "step-last", () => this.#max),
		];
		this.#broken = h("span", { class: "broken-mark", hidden: true });
		const [first, back, forward, last] = this.#buttons;
		replace(
			container,
			h("h2", { id: "scrubber-title" }, "Version"),
			h("div", { class: "scrubber-row" }, first, back, h("div", { class: "slider-wrap" }, this.#slider, this.#broken), forward, last),
			h("p", { class: "scrubber-where" }, h("label", { for: "version-input" }, "Version "), this.#number, " ", this.#of),
		);
	}

	setMax(max: number): void {
		this.#max = max;
		this.#slider.max = String(max);
		this.#number.max = String(max);
		this.#of.textContent = `of ${max}`;
		this.#refreshButtons();
	}

	show(version: number): void {
		this.#version = version;
		this.#slider.value = String(version);
		this.#number.value = String(version);
		this.#slider.setAttribute("aria-valuetext", `version ${version} of ${this.#max}`);
		this.#refreshButtons();
	}

	/** A mark on the slider where the chain breaks (verify). */
	markBroken(seq: number | null): void {
		this.#broken.hidden = seq === null;
		if (seq === null) return;
		this.#broken.style.left = `${this.#max > 0 ? (seq / this.#max) * 100 : 0}%`;
		this.#broken.title = `The chain breaks at seq ${seq}`;
	}

	#refreshButtons(): void {
		const [first, back, forward, last] = this.#buttons;
		if (first) first.disabled = this.#version <= 0;
		if (back) back.disabled = this.#version <= 0;
		if (forward) forward.disabled = this.#version >= this.#max;
		if (last) last.disabled = this.#version >= this.#max;
	}
}
