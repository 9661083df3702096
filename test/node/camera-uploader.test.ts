import { describe, expect, it } from "vitest";
import { parseOptions, patternFrame, runUploader, type UploaderOptions } from "../../scripts/camera-uploader.mjs";
import { type ImageFormat, inspectImage } from "../../src/vision/image-format.ts";
import { lumaGrid, measure } from "../../src/vision/measure.ts";
import { decodeFrame } from "../../src/vision/raster.ts";

const NO_DEMO = "/nonexistent/roost-demo.json";
const grid = (index: number, format: ImageFormat) => {
	const frame = patternFrame(index, { width: 160, height: 120, format, cycle: 30 });
	return lumaGrid(decodeFrame(frame.bytes, format));
};

describe("options", () => {
	it("reads flags, with the org and key from the environment when not given", () => {
		const options = parseOptions(
			["--camera", "door", "--fps", "2", "--count", "5", "--size", "64x48", "--format", "png"],
			{
				ROOST_ORG: "acme",
				ROOST_API_KEY: "rk_acme.x",
			},
			NO_DEMO,
		);
		expect(options).toMatchObject({
			org: "acme",
			key: "rk_acme.x",
			camera: "door",
			fps: 2,
			count: 5,
			width: 64,
			height: 48,
			format: "png",
		});
		expect(options.endpoint).toBe("http://localhost:8787");
	});

	it("refuses to run without an org and key, and explains bad values", () => {
		expect(() => parseOptions([], {}, NO_DEMO)).toThrow(/npm start/);
		expect(() => parseOptions(["--size", "big"], { ROOST_ORG: "a", ROOST_API_KEY: "k" }, NO_DEMO)).toThrow(/--size/);
		expect(() => parseOptions(["--fps", "0"], { ROOST_ORG: "a", ROOST_API_KEY: "k" }, NO_DEMO)).toThrow(/--fps/);
	});
});

describe("the test pattern", () => {
	it.each(["png", "jpeg"] as const)("every %s frame is a whole image of its type", (format) => {
		const frame = patternFrame(3, { width: 160, height: 120, format });
		expect(inspectImage(frame.bytes, frame.contentType)).toMatchObject({ ok: true, info: { format, width: 160, height: 120 } });
	});

	it("moves in the first third of each cycle and stands still in the rest", () => {
		expect(measure(grid(2, "png"), grid(1, "png")).motion).toBe(true);
		expect(measure(grid(20, "png"), grid(19, "png")).motion).toBe(false);
		expect(measure(grid(31, "png"), grid(29, "png")).motion).toBe(true);
	});
});

describe("uploading", () => {
	const options: UploaderOptions = {
		...parseOptions(
			["--count", "3", "--fps", "200", "--size", "32x24", "--quiet"],
			{ ROOST_ORG: "acme", ROOST_API_KEY: "rk_acme.k" },
			NO_DEMO,
		),
	};

	it("posts each frame with its type, time and id, and retries a 429 with the same frame id", async () => {
		const seen: { url: string; headers: Record<string, string>; bytes: number }[] = [];
		let refusedOnce = false;
		const fetch = async (url: string, init: RequestInit) => {
			const headers = Object.fromEntries(new Headers(init.headers).entries());
			seen.push({ url, headers, bytes: (init.body as Uint8Array).length });
			if (!refusedOnce) {
				refusedOnce = true;
				return new Response(JSON.stringify({ status: 429 }), { status: 429, headers: { "retry-after": "0" } });
			}
			return new Response(JSON.stringify({ frameId: headers["x-frame-id"], version: seen.length, duplicate: false }), { status: 202 });
		};
		const stats = await runUploader(options, { fetch, log: () => {} });
		expect(stats).toMatchObject({ sent: 3, accepted: 3, failed: 0 });
		expect(seen).toHaveLength(4);
		expect(seen[0]?.url).toBe("http://localhost:8787/v1/orgs/acme/cameras/cam-1/frames");
		expect(seen[0]?.headers).toMatchObject({
			authorization: "Bearer rk_acme.k",
			"content-type": "image/jpeg",
			"x-frame-ts": expect.stringMatching(/^\d+$/),
		});
		expect(seen[1]?.headers["x-frame-id"]).toBe(seen[0]?.headers["x-frame-id"]);
		expect(new Set(seen.map((s) => s.headers["x-frame-id"])).size).toBe(3);
	});

	it("a refused frame is counted and reported, not retried", async () => {
		const lines: string[] = [];
		const fetch = async () => new Response(JSON.stringify({ detail: "The image is truncated" }), { status: 400 });
		const stats = await runUploader({ ...options, count: 1 }, { fetch, log: (line) => lines.push(line) });
		expect(stats).toMatchObject({ sent: 1, failed: 1 });
		expect(lines).toEqual([expect.stringContaining("refused: 400 The image is truncated")]);
	});

	it("several cameras upload side by side", async () => {
		const cameras = new Set<string>();
		const fetch = async (url: string) => {
			cameras.add(url.split("/cameras/")[1]?.split("/")[0] ?? "");
			return new Response(JSON.stringify({ frameId: "f", version: 1, duplicate: false }), { status: 202 });
		};
		const stats = await runUploader({ ...options, cameras: 3, count: 2 }, { fetch, log: () => {} });
		expect(stats.accepted).toBe(6);
		expect([...cameras].sort()).toEqual(["cam-1-1", "cam-1-2", "cam-1-3"]);
	});
});
