/**
 * Generated frames for tests and demos: a grey scene with a light square that can move, encoded as
 * PNG or JPEG with the same libraries that decode them. (scripts/camera-uploader.mjs draws the
 * same pattern in plain JS for Node.)
 */
import { encode as encodePng } from "fast-png";
import { encode as encodeJpeg } from "jpeg-js";
import type { ImageFormat } from "./image-format.ts";
import type { Raster } from "./raster.ts";

export interface Pattern {
	width?: number;
	height?: number;
	/** Top-left corner and side of the square, in pixels; no square when omitted. */
	square?: { x: number; y: number; size: number };
	/** Background grey, 0..255. */
	background?: number;
}

export function patternRaster({ width = 160, height = 120, square, background = 60 }: Pattern = {}): Raster {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const inSquare = square && x >= square.x && x < square.x + square.size && y >= square.y && y < square.y + square.size;
			// A gentle gradient, so frames are not flat; the square is bright and warm.
			const grey = background + Math.round((x / width) * 20);
			const at = (y * width + x) * 4;
			rgba[at] = inSquare ? 230 : grey;
			rgba[at + 1] = inSquare ? 200 : grey;
			rgba[at + 2] = inSquare ? 60 : grey;
			rgba[at + 3] = 255;
		}
	}
	return { width, height, rgba };
}

export function encodeRaster(raster: Raster, format: ImageFormat): Uint8Array {
	if (format === "png") return encodePng({ width: raster.width, height: raster.height, data: raster.rgba, channels: 4, depth: 8 });
	return new Uint8Array(encodeJpeg({ width: raster.width, height: raster.height, data: raster.rgba }, 85).data);
}

/** A frame of the pattern, encoded. */
export function patternFrame(format: ImageFormat, pattern: Pattern = {}): Uint8Array {
	return encodeRaster(patternRaster(pattern), format);
}
