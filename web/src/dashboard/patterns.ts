/**
 * Patterns and rollups of one period (`GET /patterns?period=`): interactions and page views per window as a
 * chart, each window's numbers as a table, the patterns found and the newest report. Read again when the
 * org's log says a rollup, pattern or report of that period was written. "Roll up now" asks the org to
 * roll up the last complete window of the period (`POST /rollups`).
 */
import { ApiError, type EventEnvelope, type RoostApi } from "../shared/api.ts";
import { TimeChart } from "../shared/chart.ts";
import { h, replace } from "../shared/dom.ts";
import { count, dateTime, duration, percent } from "../shared/format.ts";

const PERIODS = ["hourly", "daily", "weekly", "monthly", "yearly", "all"] as const;
type Period = (typeof PERIODS)[number];

interface WebMetrics {
	sessions: number;
	pageViews: number;
	clicks: number;
	errors: number;
	medianSessionMs: number | null;
	topPages: { path: string; visits: number }[];
}

interface Rollup {
	period: string;
	start: number;
	end: number;
	label: string;
	metrics: {
		interactions: number;
		bySource: { web: number; cctv: number; chat: number };
		web: WebMetrics;
		cctv: { episodes: number };
		chat: { conversations: number };
		late: number;
	};
}

interface Pattern {
	id: string;
	type: string;
	period: string;
	window: { start: number; end: number };
	source: string;
	metric: string;
	value: number;
	confidence: number;
	detail: string;
}

interface Report {
	period: string;
	start: number;
	end: number;
	provider: string;
	report: { headline: string; highlights: string[]; concerns: string[] };
}

interface PatternsBody {
	period: string;
	rollups: Rollup[];
	patterns: Pattern[];
	reports: Report[];
}

const PERIOD_KEY = "roost.period";

/** A window's start, short, in UTC like the windows themselves: "23 Nov 14:00", "23 Nov", "Nov 2026", "2026". */
function windowLabel(ms: number, period: Period): string {
	const utc = (options: Intl.DateTimeFormatOptions) => new Date(ms).toLocaleString([], { ...options, timeZone: "UTC" });
	if (period === "hourly") return utc({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
	if (period === "daily" || period === "weekly" || period === "all") return utc({ day: "numeric", month: "short" });
	if (period === "monthly") return utc({ month: "short", year: "numeric" });
	return utc({ year: "numeric" });
}

export class PatternsView {
	#period: Period;
	readonly #tabs: HTMLButtonElement[];
	readonly #chart: TimeChart;
	readonly #table: HTMLElement;
	readonly #patterns: HTMLElement;
	readonly #report: HTMLElement;
	readonly #status: HTMLElement;
	readonly #rollUp: HTMLButtonElement;
	#reload: ReturnType<typeof setTimeout> | undefined;
	#loading = 0;

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
	) {
		const saved = sessionStorage.getItem(PERIOD_KEY);
		this.#period = PERIODS.includes(saved as Period) ? (saved as Period) : "hourly";
		this.#tabs = PERIODS.map((period) =>
			h("button", { type: "button", role: "tab", "data-period": period, onclick: () => this.select(period) }, period),
		);
		this.#rollUp = h("button", { type: "button", id: "roll-up-now", class: "quiet", onclick: () => void this.#runRollup() }, "Roll up now");
		const chartBox = h("div", { class: "chart", id: "patterns-chart" });
		this.#table = h("div", { class: "table-wrap", id: "rollup-table" });
		this.#patterns = h("ul", { class: "patterns", id: "pattern-list" });
		this.#report = h("div", { class: "report", id: "report" });
		this.#status = h("p", { class: "caption", role: "status", id: "patterns-status" });
		replace(
			section,
			h("h2", { id: "patterns-title" }, "Patterns and rollups"),
			h("div", { class: "toolbar" }, h("div", { class: "tabs", role: "tablist", "aria-label": "Period" }, ...this.#tabs), this.#rollUp),
			this.#status,
			h(
				"div",
				{ class: "patterns-layout" },
				h("div", {}, chartBox, this.#table),
				h("div", {}, h("h3", {}, "Patterns found"), this.#patterns, h("h3", {}, "Latest report"), this.#report),
			),
		);
		this.#chart = new TimeChart(chartBox, {
			height: 200,
			formatX: (seconds) => windowLabel(seconds * 1000, this.#period),
			labelWidth: 64,
			y2Label: "page views",
			series: [
				{ label: "interactions", color: "--chart-1", kind: "bars" },
				{ label: "page views", color: "--chart-3", kind: "line", scale: "y2" },
			],
		});
		this.#markTabs();
	}

	get period(): Period {
		return this.#period;
	}

	select(period: Period): void {
		this.#period = period;
		sessionStorage.setItem(PERIOD_KEY, period);
		this.#markTabs();
		void this.load();
	}

	/** The org's log: a rollup, pattern or report of the shown period means new numbers. */
	onOrgEvent(event: EventEnvelope): void {
		if (!["org.rollup_completed", "org.pattern_detected", "org.report_written"].includes(event.type)) return;
		const period = String(event.data.period ?? "");
		if (period !== this.#period && !(this.#period === "all" && period === "daily")) return;
		// At most one read a second: a backfill's rollups and reports arrive by the hundred, and every read counts
		// against the per-IP rate limit the page shares with everything else on this machine.
		if (this.#reload !== undefined) return;
		this.#reload = setTimeout(() => {
			this.#reload = undefined;
			void this.load();
		}, 1000);
	}

	async load(): Promise<void> {
		const ticket = ++this.#loading;
		const period = this.#period;
		this.#status.textContent = "Loading…";
		try {
			const body = await this.api.get<PatternsBody>(this.api.orgPath("/patterns"), { period, limit: 48 });
			if (ticket !== this.#loading) return;
			this.#show(body);
			this.#status.textContent =
				body.rollups.length === 0
					? `No ${period} rollup yet. They run on a schedule (UTC); "Roll up now" runs one for the last complete window.`
					: `${body.rollups.length} ${period} rollups, newest first in the table.`;
		} catch (error) {
			if (ticket !== this.#loading) return;
			this.#status.textContent = `Could not load the ${period} rollups: ${error instanceof ApiError ? error.message : String(error)}`;
		}
	}

	async #runRollup(): Promise<void> {
		const period = this.#period === "all" ? "daily" : this.#period;
		this.#rollUp.disabled = true;
		this.#status.textContent = `Rolling up the last ${period} window…`;
		try {
			const run = await this.api.post<{ duplicate: boolean }>(this.api.orgPath("/rollups"), { period });
			await this.load();
			this.#status.textContent += run.duplicate
				? ` The last ${period} window was already rolled up.`
				: ` Rolled up the last ${period} window.`;
		} catch (error) {
			this.#status.textContent = `Roll-up failed: ${error instanceof ApiError ? error.message : String(error)}`;
		} finally {
			this.#rollUp.disabled = false;
		}
	}

	#markTabs(): void {
		for (const tab of this.#tabs) tab.setAttribute("aria-selected", String(tab.dataset.period === this.#period));
		this.#rollUp.textContent = this.#period === "all" ? "Roll up yesterday" : "Roll up now";
	}

	#show(body: PatternsBody): void {
		const oldestFirst = [...body.rollups].reverse();
		const interactions = oldestFirst.map((r) => r.metrics.interactions);
		const pageViews = oldestFirst.map((r) => r.metrics.web.pageViews);
		this.#chart.setData(
			oldestFirst.map((r) => r.start / 1000),
			[interactions, pageViews],
			`${body.period} rollups: interactions and page views per window, ${oldestFirst.length} windows; the table below has the numbers.`,
		);
		const rows = body.rollups.map((r) =>
			h(
				"tr",
				{ "data-window": r.start },
				h("th", { scope: "row" }, r.label),
				h("td", {}, count(r.metrics.interactions)),
				h("td", {}, `${r.metrics.bySource.web} / ${r.metrics.bySource.cctv} / ${r.metrics.bySource.chat}`),
				h("td", {}, count(r.metrics.web.pageViews)),
				h("td", {}, r.metrics.web.medianSessionMs === null ? "–" : duration(r.metrics.web.medianSessionMs)),
				h("td", { class: "top-page" }, r.metrics.web.topPages[0]?.path ?? "–"),
			),
		);
		replace(
			this.#table,
			h(
				"table",
				{},
				h("caption", { class: "visually-hidden" }, `${body.period} rollups`),
				h(
					"thead",
					{},
					h(
						"tr",
						{},
						h("th", { scope: "col" }, "Window (UTC)"),
						h("th", { scope: "col" }, "Interactions"),
						h("th", { scope: "col" }, "Web / CCTV / chat"),
						h("th", { scope: "col" }, "Page views"),
						h("th", { scope: "col" }, "Median visit"),
						h("th", { scope: "col" }, "Top page"),
					),
				),
				h("tbody", {}, ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No rollup yet."))])),
			),
		);
		replace(
			this.#patterns,
			...(body.patterns.length
				? body.patterns
						.slice(0, 12)
						.map((p) =>
							h(
								"li",
								{ "data-pattern": p.id },
								h("span", { class: `pill pill-${p.type}` }, p.type),
								h("span", {}, p.detail),
								h("span", { class: "caption" }, ` ${dateTime(p.window.start)} · confidence ${percent(p.confidence)}`),
							),
						)
				: [h("li", { class: "empty" }, "No pattern found in these windows.")]),
		);
		const latest = body.reports[0];
		replace(
			this.#report,
			latest
				? h(
						"article",
						{},
						h("p", { class: "headline" }, latest.report.headline),
						h("ul", {}, ...latest.report.highlights.map((item) => h("li", {}, item))),
						latest.report.concerns.length
							? h("ul", { class: "concerns" }, ...latest.report.concerns.map((item) => h("li", {}, item)))
							: null,
						h("p", { class: "caption" }, `${latest.period} ${dateTime(latest.start)}, written by ${latest.provider}`),
					)
				: h("p", { class: "empty" }, "No report yet."),
		);
	}
}
