import { encode as encodePng } from "fast-png";
import { describe, expect, it } from "vitest";
import { analyseFrame } from "../../src/vision/analyser.ts";
import { visionConfig } from "../../src/vision/config.ts";
import { type ImageFormat, inspectImage, MAX_FRAME_PIXELS, sniffFormat } from "../../src/vision/image-format.ts";
import { lumaGrid, measure } from "../../src/vision/measure.ts";
import { decodeFrame } from "../../src/vision/raster.ts";
import { encodeRaster, type Pattern, patternFrame, patternRaster } from "../../src/vision/test-pattern.ts";
import { parseDescription, type VisionBinding } from "../../src/vision/workers-ai.ts";

const FORMATS: ImageFormat[] = ["png", "jpeg"];
const TYPE = { png: "image/png", jpeg: "image/jpeg" } as const;
const left: Pattern = { square: { x: 10, y: 10, size: 30 } };
const right: Pattern = { square: { x: 110, y: 70, size: 30 } };
const gridOf = (format: ImageFormat, pattern: Pattern) => lumaGrid(decodeFrame(patternFrame(format, pattern), format));
const offline = visionConfig({ VISION_PROVIDER: "offline" });

describe("recognising an upload", () => {
	it.each(FORMATS)("a whole %s is recognised by its magic number, with its dimensions", (format) => {
		const bytes = patternFrame(format, { width: 200, height: 90 });
		expect(sniffFormat(bytes)).toBe(format);
		expect(inspectImage(bytes, TYPE[format])).toEqual({ ok: true, info: { format, contentType: TYPE[format], width: 200, height: 90 } });
	});

	it.each(FORMATS)("a %s cut anywhere is reported as truncated", (format) => {
		const bytes = patternFrame(format, left);
		for (let length = 12; length < bytes.length; length += Math.max(1, Math.floor(bytes.length / 40))) {
			const inspected = inspectImage(bytes.slice(0, length), TYPE[format]);
			expect(inspected, `cut at ${length}`).toMatchObject({ ok: false, message: expect.stringMatching(/truncated|not a valid/) });
		}
	});

	it("bytes of one type declared as the other, or of neither, are refused", () => {
		expect(inspectImage(patternFrame("png"), "image/jpeg")).toMatchObject({
			ok: false,
			message: expect.stringContaining("is a PNG image"),
		});
		expect(inspectImage(patternFrame("jpeg"), "image/png")).toMatchObject({
			ok: false,
			message: expect.stringContaining("is a JPEG image"),
		});
		expect(inspectImage(new TextEncoder().encode("GIF89a..."), "image/png")).toMatchObject({
			ok: false,
			message: expect.stringContaining("is not a JPEG or PNG image (it starts with 47 49 46 38)"),
		});
		expect(inspectImage(new Uint8Array(0), "image/png")).toEqual({ ok: false, message: "is empty" });
	});

	it("a PNG whose header claims more pixels than a frame may have is refused before decoding", () => {
		const chunk = (type: string, data: number[]) => [0, 0, 0, data.length, ...[...type].map((c) => c.charCodeAt(0)), ...data, 0, 0, 0, 0];
		const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
		const bytes = new Uint8Array([
			0x89,
			0x50,
			0x4e,
			0x47,
			0x0d,
			0x0a,
			0x1a,
			0x0a,
			...chunk("IHDR", [...be32(8000), ...be32(8000), 8, 2, 0, 0, 0]),
			...chunk("IDAT", [1]),
			...chunk("IEND", []),
		]);
		expect(inspectImage(bytes, "image/png")).toMatchObject({ ok: false, message: expect.stringContaining(`${MAX_FRAME_PIXELS} pixels`) });
	});
});

describe("decoding", () => {
	it.each([
		["grey 8-bit", 1, 8],
		["grey 16-bit", 1, 16],
		["grey with alpha", 2, 8],
		["RGB 16-bit", 3, 16],
	] as const)("a %s PNG decodes to the same luminance as its RGBA original", (_name, channels, depth) => {
		const { width, height, rgba } = patternRaster(left);
		const max = depth === 16 ? 65535 : 255;
		const data = depth === 16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
		for (let p = 0; p < width * height; p++) {
			const grey = rgba[p * 4 + 1] ?? 0;
			const values = channels === 1 ? [grey] : channels === 2 ? [grey, 255] : [grey, grey, grey];
			values.forEach((v, c) => {
				data[p * channels + c] = Math.round((v * max) / 255);
			});
		}
		const decoded = decodeFrame(encodePng({ width, height, data, channels, depth }), "png");
		expect(decoded).toMatchObject({ width, height });
		const expected = lumaGrid(decodeFrame(encodePng({ width, height, data: grey3(rgba), channels: 3, depth: 8 }), "png"));
		const got = lumaGrid(decoded);
		expect(Math.max(...got.cells.map((v, i) => Math.abs(v - (expected.cells[i] ?? 0))))).toBeLessThanOrEqual(1);
	});
});

/** RGB with every channel set to the green of `rgba` (the grey the variants above encode). */
function grey3(rgba: Uint8Array): Uint8Array {
	const out = new Uint8Array((rgba.length / 4) * 3);
	for (let p = 0; p < rgba.length / 4; p++) out.fill(rgba[p * 4 + 1] ?? 0, p * 3, p * 3 + 3);
	return out;
}

describe("the offline analyser's measurements", () => {
	it.each(FORMATS)("detects motion between two %s frames where the square moved, in regions around both places", (format) => {
		const moved = measure(gridOf(format, right), gridOf(format, left));
		expect(moved.motion).toBe(true);
		expect(moved.motionScore).toBeGreaterThan(0.05);
		expect(moved.changedRegions).toHaveLength(2);
		const centres = moved.changedRegions.map((r) => [r.x + r.width / 2, r.y + r.height / 2]);
		// The square was centred at (25/160, 25/120) and is now at (125/160, 85/120).
		expect(centres).toEqual(
			expect.arrayContaining([
				[expect.closeTo(25 / 160, 1), expect.closeTo(25 / 120, 1)],
				[expect.closeTo(125 / 160, 1), expect.closeTo(85 / 120, 1)],
			]),
		);
	});

	it.each(FORMATS)("finds no motion between identical %s frames, nor between two encodings of the same scene", (format) => {
		expect(measure(gridOf(format, left), gridOf(format, left))).toMatchObject({ motion: false, motionScore: 0, changedRegions: [] });
		const again = lumaGrid(decodeFrame(encodeRaster(patternRaster(left), format), format));
		expect(measure(again, gridOf(format, left)).motion).toBe(false);
	});

	it("a light switched on (every pixel brighter alike) is not motion, but it is brighter", () => {
		const dim = patternRaster(left);
		const lit = { ...dim, rgba: dim.rgba.map((v, i) => (i % 4 === 3 ? v : Math.min(255, v + 40))) };
		const measured = measure(lumaGrid(lit), lumaGrid(dim));
		expect(measured.motion).toBe(false);
		expect(measured.brightness).toBeGreaterThan(measure(lumaGrid(dim)).brightness);
	});

	it("the first frame has nothing to compare with", () => {
		expect(measure(gridOf("png", left))).toMatchObject({ motion: false, motionScore: 0, changedRegions: [] });
	});

	it("brightness runs from black to white", () => {
		const black = lumaGrid({ width: 8, height: 8, rgba: new Uint8Array(8 * 8 * 4).fill(0) });
		const white = lumaGrid({ width: 8, height: 8, rgba: new Uint8Array(8 * 8 * 4).fill(255) });
		expect([measure(black).brightness, measure(white).brightness]).toEqual([0, 1]);
	});
});

describe("analysing a frame", () => {
	const frame = (pattern: Pattern) => ({ bytes: patternFrame("jpeg", pattern), format: "jpeg" as const });

	it("offline, it measures and says it is the offline analyser", async () => {
		const first = await analyseFrame(frame(left), null, offline);
		if (!first.ok) throw new Error(first.error);
		expect(first.analysis).toMatchObject({ analyser: "offline", peopleCount: null, comparedWith: null, motion: false });
		expect(first.analysis.description).toMatch(/^Offline analyser \(measurements only\)/);
		const second = await analyseFrame(frame(right), { frameId: "f1", grid: first.grid }, offline);
		expect(second).toMatchObject({
			ok: true,
			analysis: { motion: true, comparedWith: "f1", description: expect.stringContaining("motion in 2 regions") },
		});
	});

	it("with Workers AI, the model describes the frame (a small JPEG of it) and counts people", async () => {
		const calls: { model: string; image: number[]; prompt: string }[] = [];
		const ai: VisionBinding = {
			run: async (model, inputs) => {
				calls.push({ model, ...inputs });
				return { description: "Two people stand at the counter.\nPeople: 2" };
			},
		};
		const config = visionConfig({ VISION_PROVIDER: "workers-ai", AI: ai });
		const result = await analyseFrame(frame(left), null, config, ai);
		expect(result).toMatchObject({
			ok: true,
			analysis: {
				analyser: "workers-ai",
				model: "@cf/llava-hf/llava-1.5-7b-hf",
				description: "Two people stand at the counter.",
				peopleCount: 2,
			},
		});
		expect(calls[0]?.model).toBe("@cf/llava-hf/llava-1.5-7b-hf");
		expect(sniffFormat(new Uint8Array(calls[0]?.image ?? []))).toBe("jpeg");
	});

	it("when the model fails, the failure says so and carries the offline measurement to fall back on", async () => {
		const ai: VisionBinding = { run: async () => Promise.reject(new Error("3040: capacity exceeded")) };
		const result = await analyseFrame(frame(left), null, visionConfig({ VISION_PROVIDER: "auto", AI: ai }), ai);
		expect(result).toMatchObject({
			ok: false,
			analyser: "workers-ai",
			error: expect.stringContaining("capacity exceeded"),
			fallback: { analysis: { analyser: "offline", fallbackFrom: "workers-ai" } },
		});
	});

	it("a frame that cannot be decoded is a failure without a fallback", async () => {
		const bytes = patternFrame("png", left);
		const idat = bytes.findIndex((_, i) => String.fromCharCode(...bytes.subarray(i, i + 4)) === "IDAT");
		bytes.fill(0x55, idat + 8, idat + 40);
		const result = await analyseFrame({ bytes, format: "png" }, null, offline);
		expect(result).toMatchObject({ ok: false, analyser: "offline", error: expect.stringContaining("cannot decode the PNG") });
		expect(result).not.toHaveProperty("fallback");
	});
});

describe("configuration", () => {
	const ai: VisionBinding = { run: async () => ({}) };
	it("offline by default; auto takes Workers AI only when the binding exists; workers-ai without a binding falls back with a warning", () => {
		expect(visionConfig({}).analyser).toBe("offline");
		expect(visionConfig({ VISION_PROVIDER: "auto" }).analyser).toBe("offline");
		expect(visionConfig({ VISION_PROVIDER: "auto", AI: ai }).analyser).toBe("workers-ai");
		expect(visionConfig({ VISION_PROVIDER: "workers-ai", AI: ai, VISION_MODEL: "@cf/meta/llama-3.2-11b-vision-instruct" })).toMatchObject({
			analyser: "workers-ai",
			model: "@cf/meta/llama-3.2-11b-vision-instruct",
		});
		expect(visionConfig({ VISION_PROVIDER: "workers-ai" })).toMatchObject({
			analyser: "offline",
			warning: expect.stringContaining("no AI binding"),
		});
		expect(visionConfig({ VISION_PROVIDER: "gpu" })).toMatchObject({ analyser: "offline", warning: expect.any(String) });
	});

	it("the model's people line is read, and left out of the description", () => {
		expect(parseDescription("A man walks past the shelves. People: 1")).toEqual({
			description: "A man walks past the shelves.",
			peopleCount: 1,
		});
		expect(parseDescription("An empty aisle.")).toEqual({ description: "An empty aisle.", peopleCount: null });
	});
});
