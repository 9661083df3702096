/**
 * What an uploaded frame is, from its bytes alone: the format by magic number, the dimensions from
 * the header, and whether the file is whole (every PNG chunk present up to IEND; every JPEG segment
 * up to EOI). Cheap enough for the request path: nothing is decompressed. Pure: runs in workerd and Node.
 */

export const IMAGE_FORMATS = { jpeg: "image/jpeg", png: "image/png" } as const;
export type ImageFormat = keyof typeof IMAGE_FORMATS;
export type ImageContentType = (typeof IMAGE_FORMATS)[ImageFormat];
export const IMAGE_CONTENT_TYPES = Object.values(IMAGE_FORMATS) as [ImageContentType, ...ImageContentType[]];

/** Largest frame accepted, in pixels (3840 x 2160): decoding bigger ones would not fit a Worker's memory. */
export const MAX_FRAME_PIXELS = 3840 * 2160;

/**
 * Most memory that decoding one frame may take, in bytes: what a 3840x2160 8-bit RGBA PNG needs. The isolate
 * has 128 MB in all; a 16-bit PNG of that size would take about 200 MB.
 */
export const MAX_DECODE_BYTES = 96 * 1_048_576;

export interface ImageInfo {
	format: ImageFormat;
	contentType: ImageContentType;
	width: number;
	height: number;
}

/** What the header says decoding will allocate: samples per pixel and bits per sample (and a PNG's palette). */
interface Header {
	width: number;
	height: number;
	channels: number;
	bitDepth: number;
	palette?: boolean;
}

export type Inspection = { ok: true; info: ImageInfo } | { ok: false; message: string };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format the bytes' magic number says, or null for anything else. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
	if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "png";
	if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
	return null;
}

/** The content type without parameters, lower-cased, if it is one of the image types accepted. */
export function imageContentType(header: string | undefined): ImageContentType | null {
	const essence = header?.split(";")[0]?.trim().toLowerCase();
	return (IMAGE_CONTENT_TYPES as string[]).includes(essence ?? "") ? (essence as ImageContentType) : null;
}

export function formatOf(contentType: ImageContentType): ImageFormat {
	return contentType === IMAGE_FORMATS.png ? "png" : "jpeg";
}

/** Checks that the bytes are a whole image of the declared type and reads its dimensions. */
export function inspectImage(bytes: Uint8Array, declared: ImageContentType): Inspection {
	if (bytes.length === 0) return { ok: false, message: "is empty" };
	const format = sniffFormat(bytes);
	if (format === null) return { ok: false, message: `is not a JPEG or PNG image (it starts with ${hex(bytes.subarray(0, 4))})` };
	if (IMAGE_FORMATS[format] !== declared)
		return { ok: false, message: `is a ${format.toUpperCase()} image, but the content type says ${declared}` };
	const read = format === "png" ? readPng(bytes) : readJpeg(bytes);
	if (typeof read === "string") return { ok: false, message: read };
	const { width, height } = read;
	if (width < 1 || height < 1) return { ok: false, message: `has no pixels (${width}x${height})` };
	if (width * height > MAX_FRAME_PIXELS) {
		return { ok: false, message: `is ${width}x${height}, more than the ${MAX_FRAME_PIXELS} pixels a frame may have (3840x2160)` };
	}
	const cost = decodeCost(format, read);
	if (cost > MAX_DECODE_BYTES) {
		return {
			ok: false,
			message: `would take ${mib(cost)} MiB to decode (${width}x${height}, ${read.channels} channels of ${read.bitDepth} bits), more than the ${mib(MAX_DECODE_BYTES)} MiB budget`,
		};
	}
	return { ok: true, info: { format, contentType: IMAGE_FORMATS[format], width, height } };
}

/**
 * Bytes the decoders allocate for an image, from its header (width x height x channels x bit depth): a PNG's
 * inflated rows and their unfiltered copy, a palette's expansion, a JPEG's component planes, and the 8-bit
 * RGBA raster every frame becomes.
 */
export function decodeCost(format: ImageFormat, header: Header): number {
	const pixels = header.width * header.height;
	const rgba = pixels * 4;
	if (format === "jpeg") return pixels * header.channels * Math.ceil(header.bitDepth / 8) + rgba;
	const samples = Math.ceil((header.width * header.channels * header.bitDepth) / 8) * header.height;
	return 2 * samples + (header.palette ? rgba : 0) + rgba;
}

const mib = (bytes: number) => Math.round(bytes / 1_048_576);
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ") || "nothing";
const u16 = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u32 = (b: Uint8Array, at: number) =>
	(((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
const ascii = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));

/** Samples per pixel of each PNG colour type: grey, RGB, palette index, grey + alpha, RGBA. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Walks the chunk list: IHDR first, at least one IDAT, every chunk complete, IEND last. */
function readPng(bytes: Uint8Array): Header | string {
	let at = PNG_SIGNATURE.length;
	let header: Header = { width: 0, height: 0, channels: 0, bitDepth: 0 };
	let sawData = false;
	for (let index = 0; ; index++) {
		if (at + 12 > bytes.length) return "is truncated: the PNG ends before its IEND chunk";
		const length = u32(bytes, at);
		const type = ascii(bytes, at + 4);
		if (length > 0x7fffffff || at + 12 + length > bytes.length) return `is truncated: the PNG's ${type} chunk is cut short`;
		if (index === 0) {
			if (type !== "IHDR" || length !== 13) return "is not a valid PNG: it does not start with an IHDR chunk";
			const colourType = bytes[at + 17] ?? 0;
			const channels = PNG_CHANNELS[colourType];
			const bitDepth = bytes[at + 16] ?? 0;
			if (channels === undefined || ![1, 2, 4, 8, 16].includes(bitDepth))
				return `is not a valid PNG: colour type ${colourType} with ${bitDepth}-bit samples`;
			header = { width: u32(bytes, at + 8), height: u32(bytes, at + 12), channels, bitDepth, palette: colourType === 3 };
		}
		if (type === "IDAT") sawData = true;
		at += 12 + length;
		if (type === "IEND") return sawData ? header : "is not a valid PNG: it has no image data (IDAT)";
	}
}

/** Start-of-frame markers that carry the dimensions (not DHT C4, JPG C8 or DAC CC). */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** Walks the segments from SOI: a frame header before the first scan, entropy-coded data skipped, EOI at the end. */
function readJpeg(bytes: Uint8Array): Header | string {
	let at = 2;
	let size: Header | null = null;
	for (;;) {
		// Fill bytes (0xFF repeated) may precede any marker.
		while (bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
		if (at + 1 >= bytes.length) return "is truncated: the JPEG ends before its end-of-image marker";
		if (bytes[at] !== 0xff) return `is not a valid JPEG: expected a marker at byte ${at}`;
		const marker = bytes[at + 1] ?? 0;
		if (marker === 0xd9) return size ?? "is not a valid JPEG: it has no frame header";
		if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
			at += 2;
			continue;
		}
		if (at + 4 > bytes.length) return "is truncated: the JPEG ends inside a segment header";
		const length = u16(bytes, at + 2);
		if (length < 2 || at + 2 + length > bytes.length) return "is truncated: a JPEG segment is cut short";
		if (isStartOfFrame(marker)) {
			if (length < 8) return "is not a valid JPEG: its frame header is too short";
			size = { bitDepth: bytes[at + 4] ?? 8, height: u16(bytes, at + 5), width: u16(bytes, at + 7), channels: bytes[at + 9] ?? 3 };
		}
		at += 2 + length;
		if (marker === 0xda) {
			if (!size) return "is not a valid JPEG: a scan comes before the frame header";
			const end = endOfScan(bytes, at);
			if (end < 0) return "is truncated: the JPEG's image data is cut short";
			at = end;
		}
	}
}

/** The offset of the first marker after entropy-coded data (not a stuffed 0xFF00 and not a restart marker), or -1. */
function endOfScan(bytes: Uint8Array, from: number): number {
	let at = from;
	for (;;) {
		at = bytes.indexOf(0xff, at);
		if (at < 0 || at + 1 >= bytes.length) return -1;
		const next = bytes[at + 1] ?? 0;
		if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
			at += next === 0xff ? 1 : 2;
			continue;
		}
		return at;
	}
}
