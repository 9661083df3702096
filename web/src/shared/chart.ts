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
	/** An x value (seconds since the epoch) as a label on the axis and for screen readers. */
	formatX: (seconds: number) => string;
	/** About how wide one x label is (CSS px); labels are thinned to fit. */
	labelWidth?: number;
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
			{ label: "Time", value: (_u, v) => (v === null ? "" : options.formatX(v)) },
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
				// A label under a data point (a minute, a window), as many as fit side by side, the newest always.
				splits: (u) => {
					const xs = u.data[0] as number[];
					const fit = Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / (options.labelWidth ?? 72)));
					const every = Math.max(1, Math.ceil(xs.length / fit));
					return xs.filter((_x, i) => (xs.length - 1 - i) % every === 0);
				},
				values: (_u, splits) => splits.map((v) => options.formatX(v)),
			},
			{ stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 }, size: 44, values: compactValues },
		];
		if (options.series.some((s) => s.scale === "y2")) {
			axes.push({
				stroke: axisColor,
				scale: "y2",
				side: 1,
				grid: { show: false },
				size: 44,
				label: options.y2Label,
				values: compactValues,
			});
		}
		this.#plot = new uPlot(
			{
				width: Math.max(200, container.clientWidth),
				height: options.height,
				series,
				axes,
				scales: { x: { time: false, range: padded }, y: { range: fromZero }, y2: { range: fromZero } },
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

/** Count labels that fit the 44 px axis whatever the count: 950, 1.2K, 15K, 1.5M. */
const compactNumber = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const compactValues = (_u: uPlot, splits: number[]): string[] => splits.map((v) => compactNumber.format(v));

/** Counts: from 0, with a little headroom, never a flat line at the top. */
const fromZero = (_u: uPlot, _min: number | null, max: number | null): uPlot.Range.MinMax => [0, Math.max(4, Math.ceil((max ?? 0) * 1.15))];

/** Half a step of room at each end, so the first and last bars are whole. */
function padded(u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
	const xs = u.data[0] as number[];
	const step = xs.length > 1 ? (xs[1] ?? 0) - (xs[0] ?? 0) : 60;
	return [(min ?? 0) - step / 2, (max ?? 0) + step / 2];
}
