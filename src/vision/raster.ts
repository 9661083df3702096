/**
 * Decoding frames to pixels with pure-JS decoders (jpeg-js, fast-png), so it runs the same in
 * workerd, Node and the browser. Every PNG flavour (grey, palette, alpha, 1..16 bits, interlaced)
 * comes out as 8-bit RGBA.
 */
import { convertIndexedToRgb, type DecodedPng, decode as decodePng } from "fast-png";
import { decode as decodeJpeg } from "jpeg-js";
import { IMAGE_FORMATS, type ImageFormat, inspectImage, MAX_FRAME_PIXELS } from "./image-format.ts";

export interface Raster {
	width: number;
	height: number;
	/** 8-bit RGBA, row by row. */
	rgba: Uint8Array;
}

/** Decodes a frame, after its header shows that decoding fits the memory budget (MAX_DECODE_BYTES); throws otherwise. */
export function decodeFrame(bytes: Uint8Array, format: ImageFormat): Raster {
	// Checked here too, not only at upload: the bytes in R2 may predate the budget.
	const inspected = inspectImage(bytes, IMAGE_FORMATS[format]);
	if (!inspected.ok) throw new Error(`the frame ${inspected.message}`);
	if (format === "jpeg") {
		const image = decodeJpeg(bytes, {
			useTArray: true,
			formatAsRGBA: true,
			// A truncated scan must fail here rather than decode as grey.
			tolerantDecoding: false,
			maxResolutionInMP: MAX_FRAME_PIXELS / 1_000_000 + 1,
			maxMemoryUsageInMB: 96,
		});
		return { width: image.width, height: image.height, rgba: image.data };
	}
	return pngToRaster(decodePng(bytes));
}

function pngToRaster(png: DecodedPng): Raster {
	const { width, height } = png;
	const pixels = width * height;
	const rgba = new Uint8Array(pixels * 4);
	if (png.palette) {
		const rgb = convertIndexedToRgb(png);
		const channels = rgb.length / pixels;
		for (let p = 0; p < pixels; p++) {
			rgba[p * 4] = rgb[p * channels] ?? 0;
			rgba[p * 4 + 1] = rgb[p * channels + 1] ?? 0;
			rgba[p * 4 + 2] = rgb[p * channels + 2] ?? 0;
			rgba[p * 4 + 3] = channels === 4 ? (rgb[p * channels + 3] ?? 255) : 255;
		}
		return { width, height, rgba };
	}
	const samples = png.depth < 8 ? unpackBits(png.data as Uint8Array, width, height, png.depth) : png.data;
	const shift = png.depth === 16 ? 8 : 0;
	const channels = png.channels;
	for (let p = 0; p < pixels; p++) {
		const at = p * channels;
		const first = (samples[at] ?? 0) >> shift;
		if (channels <= 2) {
			rgba[p * 4] = rgba[p * 4 + 1] = rgba[p * 4 + 2] = first;
			rgba[p * 4 + 3] = channels === 2 ? (samples[at + 1] ?? 0) >> shift : 255;
		} else {
			rgba[p * 4] = first;
			rgba[p * 4 + 1] = (samples[at + 1] ?? 0) >> shift;
			rgba[p * 4 + 2] = (samples[at + 2] ?? 0) >> shift;
			rgba[p * 4 + 3] = channels === 4 ? (samples[at + 3] ?? 0) >> shift : 255;
		}
	}
	return { width, height, rgba };
}

/** Grey samples of 1, 2 or 4 bits, packed per row, spread to 0..255. */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
	const out = new Uint8Array(width * height);
	const rowBytes = Math.ceil((width * depth) / 8);
	const max = (1 << depth) - 1;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const bit = x * depth;
			const byte = packed[y * rowBytes + (bit >> 3)] ?? 0;
			const value = (byte >> (8 - depth - (bit & 7))) & max;
			out[y * width + x] = Math.round((value * 255) / max);
		}
	}
	return out;
}

/** A smaller copy (nearest neighbour, longest side at most `longest`), e.g. for a vision model's input. */
export function downscale(raster: Raster, longest: number): Raster {
	const scale = Math.min(1, longest / Math.max(raster.width, raster.height));
	if (scale === 1) return raster;
	const width = Math.max(1, Math.round(raster.width * scale));
	const height = Math.max(1, Math.round(raster.height * scale));
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		const sy = Math.min(raster.height - 1, Math.floor(y / scale));
		for (let x = 0; x < width; x++) {
			const sx = Math.min(raster.width - 1, Math.floor(x / scale));
			rgba.set(raster.rgba.subarray((sy * raster.width + sx) * 4, (sy * raster.width + sx) * 4 + 4), (y * width + x) * 4);
		}
	}
	return { width, height, rgba };
}
