/**
 * The offline analyser's measurements. A frame is reduced to a small grid of mean luminance
 * (32 x 24 cells, whatever the frame's size), which is all that is kept of it between frames;
 * brightness, motion and the changed regions are read off two such grids. Pure and deterministic.
 */
import type { Raster } from "./raster.ts";

export const GRID_WIDTH = 32;
export const GRID_HEIGHT = 24;

/** Mean luminance (0..255) per cell, row by row. */
export interface LumaGrid {
	width: number;
	height: number;
	cells: Uint8Array;
}

/** A box in fractions of the frame (0..1 from the top left). */
export interface Region {
	x: number;
	y: number;
	width: number;
	height: number;
}

export interface Measurement {
	/** Mean luminance, 0 (black) .. 1 (white). */
	brightness: number;
	/** Whether enough of the frame changed since the previous one. False when there is no previous frame. */
	motion: boolean;
	/** Fraction of grid cells that changed, 0..1. */
	motionScore: number;
	/** Boxes around connected changed cells, largest first (at most MAX_REGIONS). */
	changedRegions: Region[];
}

export interface MotionOptions {
	/** A cell changed when its luminance moved by more than this (0..255), after the frame-wide shift is taken out. */
	cellThreshold: number;
	/** Motion when at least this fraction of cells changed. */
	minChangedFraction: number;
}

export const DEFAULT_MOTION: MotionOptions = { cellThreshold: 24, minChangedFraction: 0.005 };
export const MAX_REGIONS = 8;
/** At most about this many pixels are sampled per frame; larger frames are read on a stride. */
const SAMPLE_BUDGET = 1_000_000;

/** Box-averages the frame's luminance (Rec. 601) into the grid. */
export function lumaGrid(raster: Raster, width = GRID_WIDTH, height = GRID_HEIGHT): LumaGrid {
	const sums = new Float64Array(width * height);
	const counts = new Uint32Array(width * height);
	const stride = Math.max(1, Math.floor(Math.sqrt((raster.width * raster.height) / SAMPLE_BUDGET)));
	for (let y = 0; y < raster.height; y += stride) {
		const row = Math.min(height - 1, Math.floor((y * height) / raster.height)) * width;
		for (let x = 0; x < raster.width; x += stride) {
			const at = (y * raster.width + x) * 4;
			const luma = 0.299 * (raster.rgba[at] ?? 0) + 0.587 * (raster.rgba[at + 1] ?? 0) + 0.114 * (raster.rgba[at + 2] ?? 0);
			const cell = row + Math.min(width - 1, Math.floor((x * width) / raster.width));
			sums[cell] = (sums[cell] ?? 0) + luma;
			counts[cell] = (counts[cell] ?? 0) + 1;
		}
	}
	const cells = new Uint8Array(width * height);
	for (let i = 0; i < cells.length; i++) {
		// A frame smaller than the grid leaves cells without samples: they take the pixel under their centre.
		cells[i] = counts[i]
			? Math.round((sums[i] ?? 0) / (counts[i] ?? 1))
			: lumaAt(raster, (i % width) + 0.5, Math.floor(i / width) + 0.5, width, height);
	}
	return { width, height, cells };
}

function lumaAt(raster: Raster, cellX: number, cellY: number, width: number, height: number): number {
	const x = Math.min(raster.width - 1, Math.floor((cellX * raster.width) / width));
	const y = Math.min(raster.height - 1, Math.floor((cellY * raster.height) / height));
	const at = (y * raster.width + x) * 4;
	return Math.round(0.299 * (raster.rgba[at] ?? 0) + 0.587 * (raster.rgba[at + 1] ?? 0) + 0.114 * (raster.rgba[at + 2] ?? 0));
}

const mean = (grid: LumaGrid) => grid.cells.reduce((sum, v) => sum + v, 0) / grid.cells.length;
const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/** Brightness of `current`, and motion against `previous` when there is one of the same grid size. */
export function measure(current: LumaGrid, previous?: LumaGrid | null, options: MotionOptions = DEFAULT_MOTION): Measurement {
	const brightness = round4(mean(current) / 255);
	if (!previous || previous.width !== current.width || previous.height !== current.height) {
		return { brightness, motion: false, motionScore: 0, changedRegions: [] };
	}
	// A light switched on changes every cell alike: take the frame-wide shift out before comparing cells.
	const shift = mean(current) - mean(previous);
	const changed = new Uint8Array(current.cells.length);
	let count = 0;
	for (let i = 0; i < changed.length; i++) {
		if (Math.abs((current.cells[i] ?? 0) - (previous.cells[i] ?? 0) - shift) > options.cellThreshold) {
			changed[i] = 1;
			count++;
		}
	}
	const motionScore = round4(count / changed.length);
	return {
		brightness,
		motion: count > 0 && motionScore >= options.minChangedFraction,
		motionScore,
		changedRegions: regionsOf(changed, current.width, current.height),
	};
}

/** Bounding boxes of 8-connected changed cells, largest (by cells) first. */
function regionsOf(changed: Uint8Array, width: number, height: number): Region[] {
	const seen = new Uint8Array(changed.length);
	const found: { cells: number; region: Region }[] = [];
	for (let start = 0; start < changed.length; start++) {
		if (!changed[start] || seen[start]) continue;
		let [minX, minY, maxX, maxY, cells] = [width, height, -1, -1, 0];
		const stack = [start];
		seen[start] = 1;
		while (stack.length > 0) {
			const cell = stack.pop() ?? 0;
			const x = cell % width;
			const y = Math.floor(cell / width);
			cells++;
			[minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
			for (let dy = -1; dy <= 1; dy++) {
				for (let dx = -1; dx <= 1; dx++) {
					const nx = x + dx;
					const ny = y + dy;
					if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
					const next = ny * width + nx;
					if (changed[next] && !seen[next]) {
						seen[next] = 1;
						stack.push(next);
					}
				}
			}
		}
		found.push({
			cells,
			region: {
				x: round4(minX / width),
				y: round4(minY / height),
				width: round4((maxX - minX + 1) / width),
				height: round4((maxY - minY + 1) / height),
			},
		});
	}
	return found
		.sort((a, b) => b.cells - a.cells)
		.slice(0, MAX_REGIONS)
		.map((f) => f.region);
}
