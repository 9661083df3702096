/**
 * The decoding budget: what a frame's header says decoding will allocate (width x height x channels x bit depth) is
 * checked before any decoder runs, at upload and again before analysis. The decoders are spied on to prove it.
 */
import * as fastPng from "fast-png";
import { encode as encodePng } from "fast-png";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeCost, inspectImage, MAX_DECODE_BYTES } from "../../src/vision/image-format.ts";
import { decodeFrame } from "../../src/vision/raster.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";

vi.mock("fast-png", { spy: true });

afterEach(() => vi.mocked(fastPng.decode).mockClear());

/** The attack's frame: 3840x2160 RGBA at 16 bits, all zeros, which deflates to about 65 KB. */
const sixteenBit4k = () => encodePng({ width: 3840, height: 2160, data: new Uint16Array(3840 * 2160 * 4), channels: 4, depth: 16 });

describe("the decoding budget", () => {
	it("a 16-bit 3840x2160 PNG is refused from its header, naming the budget, and never reaches the decoder", () => {
		const bytes = sixteenBit4k();
		expect(bytes.length).toBeLessThan(100_000);
		const inspected = inspectImage(bytes, "image/png");
		expect(inspected).toMatchObject({ ok: false, message: expect.stringContaining(`${MAX_DECODE_BYTES / 1_048_576} MiB budget`) });
		expect(inspected).toMatchObject({ message: expect.stringContaining("3840x2160, 4 channels of 16 bits") });
		expect(() => decodeFrame(bytes, "png")).toThrow(/MiB budget/);
		expect(fastPng.decode).not.toHaveBeenCalled();
		// Encoding the 66 MB of samples takes a few seconds on a busy machine.
	}, 30_000);

	it("a frame within the budget is decoded as before", () => {
		const decoded = decodeFrame(patternFrame("png", { width: 320, height: 240 }), "png");
		expect(decoded).toMatchObject({ width: 320, height: 240 });
		expect(fastPng.decode).toHaveBeenCalledTimes(1);
	});

	it("the largest frames that were accepted still fit: 3840x2160 as an 8-bit RGBA PNG or an RGB JPEG", () => {
		const pixels = 3840 * 2160;
		expect(decodeCost("png", { width: 3840, height: 2160, channels: 4, bitDepth: 8 })).toBeLessThanOrEqual(MAX_DECODE_BYTES);
		expect(decodeCost("jpeg", { width: 3840, height: 2160, channels: 3, bitDepth: 8 })).toBeLessThanOrEqual(MAX_DECODE_BYTES);
		// What the attack's frame would allocate: the inflated rows, their unfiltered copy and the RGBA raster.
		expect(decodeCost("png", { width: 3840, height: 2160, channels: 4, bitDepth: 16 })).toBe(2 * pixels * 8 + pixels * 4);
		expect(decodeCost("png", { width: 3840, height: 2160, channels: 3, bitDepth: 16 })).toBeGreaterThan(MAX_DECODE_BYTES);
	});
});
