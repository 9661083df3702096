/**
 * Time charts on uPlot (small, fast, canvas): bars or lines over time, sized to their container and redrawn
 * when it resizes, coloured from the page's CSS variables (so dark mode follows). A canvas says nothing to
 * a screen reader, so every chart carries a text description that the caller keeps current.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
	label: string;
	/** A CSS variable name (e.g. `--chart-1`) or a colour. */
	color: string;
	kind: "bars" | "line";
	/** "y" (default) or "y2" for a second axis on the right. */
	scale?: "y" | "y2";
}

export interface TimeChartOptions {
	series: ChartSeries[];
	height: number;
	/** How x values (seconds) are labelled on the axis. */
	x: "time" | "date";
	y2Label?: string;
}

const cssColor = (value: string): string =>
	value.startsWith("--") ? getComputedStyle(document.documentElement).getPropertyValue(value).trim() || "#888" : value;

export class TimeChart {
	readonly #plot: uPlot;
	readonly #observer: ResizeObserver;
	readonly #figure: HTMLElement;

	constructor(
		readonly container: HTMLElement,
		options: TimeChartOptions,
	) {
		this.#figure = container;
		container.setAttribute("role", "img");
		const axisColor = cssColor("--muted");
		const gridColor = cssColor("--grid");
		const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0, gap: 1 });
		const series: uPlot.Series[] = [
			{ label: options.x === "time" ? "Time" : "Window", value: (_u, v) => (v === null ? "" : formatX(v, options.x)) },
			...options.series.map((s) => ({
				label: s.label,
				stroke: cssColor(s.color),
				fill: s.kind === "bars" ? cssColor(s.color) : `${cssColor(s.color)}22`,
				width: s.kind === "bars" ? 0 : 2,
				scale: s.scale ?? "y",
				points: { show: false },
				...(s.kind === "bars" && bars ? { paths: bars } : {}),
			})),
		];
		const axes: uPlot.Axis[] = [
			{
				stroke: axisColor,
				grid: { stroke: gridColor, width: 1 },
				ticks: { stroke: gridColor, width: 1 },
				values: (_u, splits) => splits.map((v) => formatX(v, options.x)),
			},
			{ stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 }, size: 44 },
		];
		if (options.series.some((s) => s.scale === "y2")) {
			axes.push({ stroke: axisColor, scale: "y2", side: 1, grid: { show: false }, size: 44, label: options.y2Label });
		}
		this.#plot = new uPlot(
			{
				width: Math.max(200, container.clientWidth),
				height: options.height,
				series,
				axes,
				scales: { x: { time: false }, y: { range: fromZero }, y2: { range: fromZero } },
				legend: { show: true, live: false },
				cursor: { drag: { x: false, y: false } },
			},
			[[]],
			container,
		);
		this.#observer = new ResizeObserver(() => {
			const width = Math.max(200, container.clientWidth);
			if (width !== this.#plot.width) this.#plot.setSize({ width, height: options.height });
		});
		this.#observer.observe(container);
	}

	/** `x` in seconds since the epoch; one array of y values per series. */
	setData(x: number[], ys: (number | null)[][], description: string): void {
		this.#plot.setData([x, ...ys] as uPlot.AlignedData);
		this.#figure.setAttribute("aria-label", description);
	}

	destroy(): void {
		this.#observer.disconnect();
		this.#plot.destroy();
	}
}

/** Counts: from 0, with a little headroom, never a flat line at the top. */
const fromZero = (_u: uPlot, _min: number | null, max: number | null): uPlot.Range.MinMax => [0, Math.max(4, Math.ceil((max ?? 0) * 1.15))];

function formatX(seconds: number, kind: "time" | "date"): string {
	const d = new Date(seconds * 1000);
	return kind === "time"
		? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
		: d.toLocaleDateString([], { month: "short", day: "numeric" }) +
				(d.getUTCHours() || d.getUTCMinutes() ? ` ${d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}` : "");
}
