/**
 * Frame ingest through the real Worker, Durable Object and local R2: a good frame is stored under a
 * key naming org, camera and time and recorded; anything that is not a whole JPEG or PNG of the
 * declared type is refused before anything is stored.
 */
import { env } from "cloudflare:workers";
import { encode as encodePng } from "fast-png";
import { describe, expect, it } from "vitest";
import { MAX_FRAME_BYTES } from "../../src/api/cameras.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";
import { allEvents, call, expectProblem, getJson, uniqueId } from "./helpers.ts";

const ORG = "acme";
const path = (camera: string) => `/v1/orgs/${ORG}/cameras/${camera}`;

function postFrame(camera: string, body: Uint8Array, contentType: string | null, headers: Record<string, string> = {}): Promise<Response> {
	return call(`${path(camera)}/frames`, {
		method: "POST",
		body,
		headers: { ...(contentType === null ? {} : { "content-type": contentType }), ...headers },
	});
}

async function storedFrames(camera: string): Promise<string[]> {
	const listed = await env.FRAMES.list({ prefix: `frames/${ORG}/${camera}/` });
	return listed.objects.map((o) => o.key);
}

/** Nothing of the refused request anywhere: no object under the camera's prefix, no event in its log. */
async function expectNothingStored(camera: string): Promise<void> {
	expect(await storedFrames(camera)).toEqual([]);
	expect(await allEvents(path(camera))).toEqual([]);
}

const png = patternFrame("png", { square: { x: 20, y: 20, size: 30 } });
const jpeg = patternFrame("jpeg", { square: { x: 20, y: 20, size: 30 } });

describe("a good frame", () => {
	it.each([
		["image/png", png, "png"],
		["image/jpeg", jpeg, "jpg"],
	] as const)("%s is stored in R2 under org, camera and frame time, readable back byte for byte", async (contentType, bytes, extension) => {
		const camera = uniqueId("cam");
		const ts = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
		const res = await postFrame(camera, bytes, contentType, { "x-frame-ts": String(ts) });
		expect(res.status, await res.clone().text()).toBe(202);
		const body = await res.json<{ frameId: string; version: number; key: string; duplicate: boolean }>();
		expect(body).toMatchObject({ version: 2, duplicate: false });
		expect(body.key).toBe(`frames/${ORG}/${camera}/2024-01-02T03:04:05.006Z-${body.frameId}.${extension}`);

		const object = await env.FRAMES.get(body.key);
		expect(object?.httpMetadata?.contentType).toBe(contentType);
		expect(new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(bytes);

		const events = await allEvents(path(camera));
		expect(events.map((e) => e.type)).toEqual(["camera.online", "camera.frame_received"]);
		expect(events[1]).toMatchObject({
			id: `${body.frameId}:received`,
			ts,
			data: {
				frameId: body.frameId,
				key: body.key,
				contentType,
				bytes: bytes.length,
				width: 160,
				height: 120,
				receivedAt: expect.any(Number),
			},
			meta: { requestId: expect.any(String) },
		});
	});

	it("without x-frame-ts, the frame's time is when the server received it", async () => {
		const camera = uniqueId("cam");
		const before = Date.now();
		const res = await postFrame(camera, png, "image/png");
		const { key } = await res.json<{ key: string }>();
		const [received] = await allEvents(`${path(camera)}`).then((events) => events.filter((e) => e.type === "camera.frame_received"));
		expect(received?.ts).toBeGreaterThanOrEqual(before);
		expect(key).toContain(new Date(received?.ts ?? 0).toISOString());
	});

	it("a stored frame's image is served back by its id, and only through its own camera", async () => {
		const camera = uniqueId("cam");
		const { frameId } = await (await postFrame(camera, jpeg, "image/jpeg")).json<{ frameId: string }>();
		const res = await call(`${path(camera)}/frames/${frameId}`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("image/jpeg");
		expect(new Uint8Array(await res.arrayBuffer())).toEqual(jpeg);
		await expectProblem(await call(`${path(uniqueId("cam"))}/frames/${frameId}`), 404);
	});

	it("a retried upload with the same x-frame-id is a duplicate: stored and recorded once", async () => {
		const camera = uniqueId("cam");
		const headers = { "x-frame-id": "frame-0001", "x-frame-ts": "1700000000000" };
		const first = await (await postFrame(camera, png, "image/png", headers)).json<{ frameId: string; version: number }>();
		const again = await postFrame(camera, png, "image/png", headers);
		expect(again.status).toBe(202);
		expect(await again.json()).toEqual({ frameId: "frame-0001", version: first.version, duplicate: true });
		expect(await storedFrames(camera)).toHaveLength(1);
		expect((await allEvents(path(camera))).filter((e) => e.type === "camera.frame_received")).toHaveLength(1);
	});

	it("a content type with parameters is accepted", async () => {
		const res = await postFrame(uniqueId("cam"), jpeg, "Image/JPEG; q=0.9");
		expect(res.status).toBe(202);
	});
});

describe("a bad frame is refused and nothing is stored", () => {
	it("a content type that is not image/jpeg or image/png is 400 naming header.content-type", async () => {
		const camera = uniqueId("cam");
		for (const contentType of ["image/gif", "application/octet-stream", "text/plain"]) {
			const problem = await expectProblem(await postFrame(camera, png, contentType), 400);
			expect(problem.errors?.map((e) => e.path)).toEqual(["header.content-type"]);
		}
		await expectNothingStored(camera);
	});

	it("no content type at all is 400 naming header.content-type", async () => {
		const camera = uniqueId("cam");
		const res = await call(`${path(camera)}/frames`, { method: "POST", body: new Blob([png]).stream(), duplex: "half" } as RequestInit);
		const problem = await expectProblem(res, 400);
		expect(problem.errors?.map((e) => e.path)).toEqual(["header.content-type"]);
		await expectNothingStored(camera);
	});

	it("bytes whose magic number does not match the content type are 400 naming the body", async () => {
		const camera = uniqueId("cam");
		const asJpeg = await expectProblem(await postFrame(camera, png, "image/jpeg"), 400);
		expect(asJpeg.errors).toEqual([
			{ path: "body", message: expect.stringContaining("is a PNG image, but the content type says image/jpeg") },
		]);
		const notAnImage = await expectProblem(await postFrame(camera, new TextEncoder().encode("GIF89a not really"), "image/png"), 400);
		expect(notAnImage.errors).toEqual([{ path: "body", message: expect.stringContaining("is not a JPEG or PNG image") }]);
		await expectNothingStored(camera);
	});

	it.each([
		["PNG", png, "image/png"],
		["JPEG", jpeg, "image/jpeg"],
	] as const)("a truncated %s is 400 naming the body", async (_name, bytes, contentType) => {
		const camera = uniqueId("cam");
		for (const length of [bytes.length - 1, Math.floor(bytes.length / 2), 40]) {
			const problem = await expectProblem(await postFrame(camera, bytes.slice(0, length), contentType), 400);
			expect(problem.errors).toEqual([{ path: "body", message: expect.stringContaining("truncated") }]);
		}
		await expectNothingStored(camera);
	});

	it("an empty body is 400 naming the body", async () => {
		const camera = uniqueId("cam");
		const problem = await expectProblem(await postFrame(camera, new Uint8Array(0), "image/png"), 400);
		expect(problem.errors?.map((e) => e.path)).toEqual(["body"]);
		await expectNothingStored(camera);
	});

	it("an x-frame-ts that is not milliseconds, or is far in the future, is 400 naming header.x-frame-ts", async () => {
		const camera = uniqueId("cam");
		for (const value of ["yesterday", "-5", "1.5", String(Date.now() + 2 * 60 * 60_000)]) {
			const problem = await expectProblem(await postFrame(camera, png, "image/png", { "x-frame-ts": value }), 400);
			expect(problem.errors?.map((e) => e.path)).toEqual(["header.x-frame-ts"]);
		}
		await expectNothingStored(camera);
	});

	it("a 65 KB 16-bit 3840x2160 PNG, which would take 158 MiB to decode, is 400 naming the body and the budget", async () => {
		const camera = uniqueId("cam");
		const bomb = encodePng({ width: 3840, height: 2160, data: new Uint16Array(3840 * 2160 * 4), channels: 4, depth: 16 });
		const problem = await expectProblem(await postFrame(camera, bomb, "image/png"), 400);
		expect(problem.errors).toEqual([
			{ path: "body", message: expect.stringMatching(/would take 158 MiB to decode .*more than the 96 MiB budget/) },
		]);
		await expectNothingStored(camera);
		// A frame within the budget still goes through.
		expect((await postFrame(camera, png, "image/png")).status).toBe(202);
	});

	it(`a body over ${MAX_FRAME_BYTES} bytes is 413`, async () => {
		const camera = uniqueId("cam");
		const big = new Uint8Array(MAX_FRAME_BYTES + 1);
		big.set(png);
		await expectProblem(await postFrame(camera, big, "image/png"), 413);
		await expectNothingStored(camera);
	});
});

it("the camera's state counts frames and bytes, and keeps no image data", async () => {
	const camera = uniqueId("cam");
	await postFrame(camera, png, "image/png");
	await postFrame(camera, jpeg, "image/jpeg");
	const { state } = await getJson<{ state: { frames: number; bytes: number; status: string } }>(`${path(camera)}/state`);
	expect(state).toMatchObject({ status: "online", frames: 2, bytes: png.length + jpeg.length });
	expect(JSON.stringify(state).length).toBeLessThan(4000);
	expect((await allEvents(path(camera))).every((e) => JSON.stringify(e.data).length < 1000)).toBe(true);
});
