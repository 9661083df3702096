/**
 * Event rate: events per minute over the last 30 minutes, counted in the browser from the logs this page
 * follows live (the org's and the watched sessions' and cameras'; not the chat's tokens), by each event's
 * own time; and web visits started per minute across the whole org (`org.visit_started` on the org's log).
 * Each event is counted once by actor and seq, even when a log is followed again later.
 */
import type { EventEnvelope } from "../shared/api.ts";
import { TimeChart } from "../shared/chart.ts";
import { h, replace } from "../shared/dom.ts";
import { count } from "../shared/format.ts";
import { WATCHED } from "./sessions.ts";

const MINUTE = 60_000;
const WINDOW_MINUTES = 30;

export class RatesView {
	readonly #events = new Map<number, number>();
	readonly #visits = new Map<number, number>();
	/** Highest seq counted per actor, so a log that is followed again is not counted twice. */
	readonly #counted = new Map<string, number>();
	readonly #summary: HTMLElement;
	readonly #chart: TimeChart;
	#total = 0;
	#dirty = true;
	/** The minute the chart was last drawn for; it moves on even when no event comes. */
	#renderedAt = 0;

	constructor(section: HTMLElement) {
		const chartBox = h("div", { class: "chart", id: "rates-chart" });
		this.#summary = h("p", { class: "chart-summary", "aria-live": "off", id: "rates-summary" });
		replace(
			section,
			h("h2", { id: "rates-title" }, "Event rate"),
			h(
				"p",
				{ class: "caption" },
				`Events per minute, by event time, in the logs this page follows live: the org's, the ${WATCHED} newest active sessions' and the cameras'. The line counts web visits started across the whole org.`,
			),
			chartBox,
			this.#summary,
		);
		this.#chart = new TimeChart(chartBox, {
			height: 220,
			y2Label: "visits",
			formatX: (seconds) => new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
			series: [
				{ label: "events / min (followed logs)", color: "--chart-1", kind: "bars" },
				{ label: "visits started / min (org)", color: "--chart-2", kind: "line", scale: "y2" },
			],
		});
		// Redraw at most once a second, and move the window along even when nothing happens.
		setInterval(() => this.#render(), 1000);
		this.#render();
	}

	/** Counts one event from any followed log (the chat's are skipped by the caller). */
	record(event: EventEnvelope): void {
		const actor = `${event.actor.kind}/${event.actor.id}`;
		if ((this.#counted.get(actor) ?? 0) >= event.seq) return;
		this.#counted.set(actor, event.seq);
		const minute = Math.floor(event.ts / MINUTE) * MINUTE;
		if (minute < Date.now() - WINDOW_MINUTES * MINUTE * 2) return;
		this.#events.set(minute, (this.#events.get(minute) ?? 0) + 1);
		if (event.type === "org.visit_started") this.#visits.set(minute, (this.#visits.get(minute) ?? 0) + 1);
		this.#total++;
		this.#dirty = true;
	}

	/** Events counted so far (for the tests and the summary). */
	get total(): number {
		return this.#total;
	}

	#render(): void {
		const now = Math.floor(Date.now() / MINUTE) * MINUTE;
		const first = now - (WINDOW_MINUTES - 1) * MINUTE;
		if (!this.#dirty && this.#renderedAt === now) return;
		this.#dirty = false;
		this.#renderedAt = now;
		for (const counts of [this.#events, this.#visits]) {
			for (const minute of counts.keys()) if (minute < first - WINDOW_MINUTES * MINUTE) counts.delete(minute);
		}
		const xs: number[] = [];
		const events: number[] = [];
		const visits: number[] = [];
		for (let minute = first; minute <= now; minute += MINUTE) {
			xs.push(minute / 1000);
			events.push(this.#events.get(minute) ?? 0);
			visits.push(this.#visits.get(minute) ?? 0);
		}
		const latest = events.at(-1) ?? 0;
		const peak = Math.max(...events);
		const inWindow = events.reduce((a, b) => a + b, 0);
		const text = `This minute: ${count(latest)} events, ${count(visits.at(-1) ?? 0)} visits started. Last ${WINDOW_MINUTES} minutes: ${count(inWindow)} events, peak ${count(peak)} a minute.`;
		this.#chart.setData(xs, [events, visits], `Events per minute over the last ${WINDOW_MINUTES} minutes. ${text}`);
		this.#summary.textContent = text;
		this.#summary.dataset.total = String(this.#total);
	}
}
