/**
 * The what-if replay's report: the server folded the whole stored log again with the reducers it runs now
 * and compared the result with every stored snapshot and with the state in memory. Each difference is
 * shown as a jsondiffpatch delta from what was stored to what the replay gives.
 */
import type { Delta } from "jsondiffpatch";
import type { ReplayReport } from "../../../src/core/reports.ts";
import { h, replace } from "../shared/dom.ts";
import { deltaHtml } from "./diff-view.ts";

export type { ReplayReport };

export class ReplayView {
	constructor(
		private readonly container: HTMLElement,
		private readonly goTo: (version: number) => void,
	) {}

	busy(): void {
		this.container.hidden = false;
		replace(
			this.container,
			h("h2", { id: "replay-title" }, "What-if replay"),
			h("p", { class: "caption" }, "Replaying the whole log on the server…"),
		);
	}

	show(report: ReplayReport): void {
		this.container.hidden = false;
		this.container.dataset.ok = String(report.ok);
		replace(
			this.container,
			h("h2", { id: "replay-title" }, "What-if replay"),
			h(
				"p",
				{ class: "caption" },
				`The server folded all ${report.checked} stored events again with ${report.reducerVersion}, the reducer it runs now, and compared the result with its ${report.snapshots} stored snapshot(s) and its state in memory. A difference means evolve is not deterministic, or changed meaning without a new reducerVersion.`,
			),
			report.ok
				? h(
						"p",
						{ class: "verdict ok", id: "replay-verdict" },
						"No difference: the replay agrees with every snapshot and with the state in memory.",
					)
				: h("p", { class: "verdict bad", id: "replay-verdict" }, `${report.mismatches.length} difference(s):`),
			h(
				"ol",
				{ class: "mismatches" },
				...report.mismatches.map((m) => {
					const body = h("div", { class: "diff-body" });
					if (typeof m.delta === "string") body.textContent = m.delta;
					else body.innerHTML = deltaHtml(m.delta as Delta);
					return h(
						"li",
						{ "data-version": m.version },
						h(
							"p",
							{},
							"At ",
							h("button", { type: "button", class: "link", onclick: () => this.goTo(m.version) }, `version ${m.version}`),
							`, against ${m.against} (stored → replayed):`,
						),
						body,
					);
				}),
			),
		);
	}

	failed(message: string): void {
		this.container.hidden = false;
		replace(this.container, h("h2", { id: "replay-title" }, "What-if replay"), h("p", { class: "form-error" }, message));
	}

	hide(): void {
		this.container.hidden = true;
	}
}
