/**
 * A camera's life on real Durable Objects, R2, alarms and queues, with the clock moved by hand:
 * frames are analysed after the request by the analysis timer, the heartbeat marks the camera
 * offline and the next frame online, and batches reach the org as interactions, one per motion episode.
 */
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { archiveKey } from "../../src/queue.ts";
import { type Pattern, patternFrame } from "../../src/vision/test-pattern.ts";
import { allEvents, call, getJson, uniqueId } from "./helpers.ts";

const ORG = "acme";
const SECOND = 1_000;
const MINUTE = 60_000;
// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2031, 5, 1, 9, 0, 0);

const path = (camera: string) => `/v1/orgs/${ORG}/cameras/${camera}`;
const stubOf = (camera: string) => env.CAMERA.getByName(actorName(ORG, camera));

/** The scene with the square at one of a few places; `still` repeats the previous place. */
const SPOTS: Pattern["square"][] = [
	{ x: 10, y: 10, size: 30 },
	{ x: 100, y: 60, size: 30 },
	{ x: 60, y: 80, size: 30 },
	{ x: 120, y: 10, size: 30 },
];
const scene = (spot: number) => patternFrame("png", { square: SPOTS[spot % SPOTS.length] });

/** At `time`: uploads a frame (its own time is `time` too), then runs the camera's alarm, which analyses it. */
async function frameAt(camera: string, time: number, spot: number): Promise<{ frameId: string; key: string }> {
	vi.setSystemTime(time);
	const res = await call(`${path(camera)}/frames`, {
		method: "POST",
		body: scene(spot),
		headers: { "content-type": "image/png", "x-frame-ts": String(time) },
	});
	if (res.status !== 202) throw new Error(`frame: ${res.status} ${await res.text()}`);
	const accepted = await res.json<{ frameId: string; key: string }>();
	await runDurableObjectAlarm(stubOf(camera));
	return accepted;
}

/** Moves the clock to `time` and runs the camera's alarm, as the runtime would at that instant. */
async function at(camera: string, time: number): Promise<void> {
	vi.setSystemTime(time);
	await runDurableObjectAlarm(stubOf(camera));
}

const eventsOf = (camera: string) => allEvents(path(camera));
const ofType = async (camera: string, type: string) => (await eventsOf(camera)).filter((e) => e.type === type);

interface CctvInteraction {
	id: string;
	source: string;
	actor: { kind: string; id: string };
	startedAt: number;
	endedAt: number;
	summary: {
		frames: number;
		motionFrames: number;
		motionMs: number;
		peopleSeen: number | null;
		offlineMs: number;
		analyser: string;
		episode: number | null;
		closedBy: string;
	};
}

async function interactionsOf(camera: string): Promise<CctvInteraction[]> {
	const found: CctvInteraction[] = [];
	for (let after = 0; ; ) {
		const page = await getJson<{ interactions: CctvInteraction[]; next: number | null }>(
			`/v1/orgs/${ORG}/interactions?after=${after}&limit=1000`,
		);
		found.push(...page.interactions.filter((i) => i.id.startsWith(`camera:${camera}:`)));
		if (page.next === null) return found;
		after = page.next;
	}
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("analysis", () => {
	it("a frame is analysed after its request by the offline analyser, and motion is measured against the frame before", async () => {
		const camera = uniqueId("cam");
		const first = await frameAt(camera, T0, 0);
		const second = await frameAt(camera, T0 + SECOND, 1);
		const analyses = await ofType(camera, "camera.frame_analyzed");
		expect(analyses.map((e) => e.data)).toEqual([
			expect.objectContaining({ frameId: first.frameId, analyser: "offline", motion: false, comparedWith: null, peopleCount: null }),
			expect.objectContaining({ frameId: second.frameId, analyser: "offline", motion: true, comparedWith: first.frameId }),
		]);
		const [, moved] = analyses as EventEnvelope<string, { description: string; changedRegions: unknown[]; motionScore: number }>[];
		expect(moved?.data.description).toMatch(/^Offline analyser/);
		expect(moved?.data.changedRegions.length).toBeGreaterThanOrEqual(2);
		expect(moved?.data.motionScore).toBeGreaterThan(0);
		expect(moved?.ts).toBe(T0 + SECOND);
		const { state, kernel } = await getJson<{ state: { pending: unknown[]; analysed: number }; kernel: { timers: { name: string }[] } }>(
			`${path(camera)}/state`,
		);
		expect(state).toMatchObject({ pending: [], analysed: 2 });
		expect(kernel.timers.map((t) => t.name).sort()).toEqual(["batch", "heartbeat"]);
	});

	it("the same scene twice is no motion", async () => {
		const camera = uniqueId("cam");
		await frameAt(camera, T0, 2);
		await frameAt(camera, T0 + SECOND, 2);
		expect((await ofType(camera, "camera.frame_analyzed")).map((e) => (e.data as { motion: boolean }).motion)).toEqual([false, false]);
		expect(await ofType(camera, "camera.motion_started")).toEqual([]);
	});

	it("after a restart, motion is still measured against the previous frame (its grid is rebuilt from R2)", async () => {
		const camera = uniqueId("cam");
		const first = await frameAt(camera, T0, 0);
		await abortAllDurableObjects();
		await frameAt(camera, T0 + SECOND, 3);
		const [, second] = await ofType(camera, "camera.frame_analyzed");
		expect(second?.data).toMatchObject({ motion: true, comparedWith: first.frameId });
	});

	it("a frame that cannot be decoded fails as events, is retried with backoff, then given up; it stays stored and later frames go on", async () => {
		const camera = uniqueId("cam");
		await frameAt(camera, T0, 0);
		// A PNG whose chunks are all there but whose image data is garbage: it passes ingest and fails decoding.
		const broken = scene(1);
		const idat = broken.findIndex((_, i) => String.fromCharCode(...broken.subarray(i, i + 4)) === "IDAT");
		broken.fill(0x55, idat + 8, idat + 40);
		vi.setSystemTime(T0 + SECOND);
		const res = await call(`${path(camera)}/frames`, { method: "POST", body: broken, headers: { "content-type": "image/png" } });
		const { frameId, key } = await res.json<{ frameId: string; key: string }>();
		await at(camera, T0 + SECOND);
		await at(camera, T0 + 3 * SECOND);
		await at(camera, T0 + 6 * SECOND);
		const failures = await ofType(camera, "camera.analysis_failed");
		expect(failures.map((e) => [e.id, (e.data as { next: string }).next])).toEqual([
			[`${frameId}:failed-1`, "retry"],
			[`${frameId}:failed-2`, "retry"],
			[`${frameId}:failed-3`, "give_up"],
		]);
		expect(failures[0]?.data).toMatchObject({ analyser: "offline", attempt: 1, error: expect.stringContaining("cannot decode the PNG") });
		expect(await env.FRAMES.head(key)).not.toBeNull();

		const next = await frameAt(camera, T0 + 7 * SECOND, 1);
		expect((await ofType(camera, "camera.frame_analyzed")).at(-1)?.data).toMatchObject({ frameId: next.frameId, motion: true });
		// The frame that moved started an episode: the batch before it counted the given-up frame.
		const { state } = await getJson<{ state: { analysisFailures: number; lastBatch: { frames: number; failed: number } } }>(
			`${path(camera)}/state`,
		);
		expect(state).toMatchObject({ analysisFailures: 1, lastBatch: { frames: 2, analysed: 1, failed: 1 } });
	});
});

describe("offline and online", () => {
	it("a camera is marked offline five minutes after its last frame, not a moment before, and online on its next frame", async () => {
		const camera = uniqueId("cam");
		await frameAt(camera, T0, 0);
		await at(camera, T0 + 5 * MINUTE - 1);
		expect(await ofType(camera, "camera.offline")).toEqual([]);

		await at(camera, T0 + 5 * MINUTE);
		const [offline] = await ofType(camera, "camera.offline");
		expect(offline).toMatchObject({ ts: T0 + 5 * MINUTE, data: { lastFrameAt: T0, silentMs: 5 * MINUTE } });
		expect((await getJson<{ state: { status: string } }>(`${path(camera)}/state`)).state.status).toBe("offline");

		const back = await frameAt(camera, T0 + 7 * MINUTE, 0);
		const online = await ofType(camera, "camera.online");
		expect(online.map((e) => e.data)).toEqual([
			{ frameId: expect.any(String), offlineSince: null, offlineMs: 0 },
			{ frameId: back.frameId, offlineSince: T0 + 5 * MINUTE, offlineMs: 2 * MINUTE },
		]);
		expect(online[1]?.ts).toBe(T0 + 7 * MINUTE);
		expect((await getJson<{ state: { status: string } }>(`${path(camera)}/state`)).state.status).toBe("online");
	});

	it("the org lists the camera and follows it online and offline", async () => {
		const camera = uniqueId("cam");
		const listed = async () =>
			(await getJson<{ cameras: { camera: string; status: string; since: number }[] }>(`/v1/orgs/${ORG}/cameras`)).cameras.find(
				(c) => c.camera === camera,
			);
		await frameAt(camera, T0, 0);
		await at(camera, T0); // delivers the outbox
		expect(await listed()).toEqual({ camera, status: "online", since: T0 });
		await at(camera, T0 + 5 * MINUTE);
		expect(await listed()).toEqual({ camera, status: "offline", since: T0 + 5 * MINUTE });
	});

	it("every frame pushes the offline mark back", async () => {
		const camera = uniqueId("cam");
		await frameAt(camera, T0, 0);
		await frameAt(camera, T0 + 3 * MINUTE, 0);
		await at(camera, T0 + 5 * MINUTE);
		expect(await ofType(camera, "camera.offline")).toEqual([]);
		await at(camera, T0 + 8 * MINUTE);
		expect((await ofType(camera, "camera.offline")).map((e) => e.ts)).toEqual([T0 + 8 * MINUTE]);
	});

	it("a restart loses no heartbeat, and a heartbeat that fires twice marks the camera offline once", async () => {
		const camera = uniqueId("cam");
		await frameAt(camera, T0, 0);
		await abortAllDurableObjects();
		await at(camera, T0 + 5 * MINUTE);
		await at(camera, T0 + 10 * MINUTE);
		expect(await ofType(camera, "camera.offline")).toHaveLength(1);
	});
});

describe("batches into interactions", () => {
	it("each motion episode is one interaction, and the quiet time around it another", async () => {
		const camera = uniqueId("cam");
		// Quiet, then motion from 2 s to 3 s, still from 4 s; motion ends at the first still frame 10 s after the last motion.
		const plan: [number, number][] = [
			[0, 0],
			[1, 0],
			[2, 1],
			[3, 2],
			[4, 2],
			[15, 2],
			[16, 3],
			[17, 0],
			[30, 0],
		];
		for (const [second, spot] of plan) await frameAt(camera, T0 + second * SECOND, spot);

		expect((await ofType(camera, "camera.motion_started")).map((e) => e.ts)).toEqual([T0 + 2 * SECOND, T0 + 16 * SECOND]);
		expect((await ofType(camera, "camera.motion_stopped")).map((e) => [e.ts, (e.data as { durationMs: number }).durationMs])).toEqual([
			[T0 + 15 * SECOND, SECOND],
			[T0 + 30 * SECOND, SECOND],
		]);

		const interactions = await interactionsOf(camera);
		const episodes = interactions.filter((i) => i.summary.episode !== null);
		expect(episodes).toHaveLength(2);
		expect(episodes.map((i) => i.summary.episode)).toEqual([1, 2]);
		expect(episodes[0]).toMatchObject({
			id: `camera:${camera}:batch-2`,
			source: "cctv",
			actor: { kind: "camera", id: camera },
			startedAt: T0 + 2 * SECOND,
			endedAt: T0 + 15 * SECOND,
			summary: {
				frames: 4,
				motionFrames: 2,
				motionMs: SECOND,
				peopleSeen: null,
				offlineMs: 0,
				analyser: "offline",
				closedBy: "motion_stopped",
			},
		});
		// The quiet batch before the first episode; the empty one between the episodes is not sent.
		expect(
			interactions.filter((i) => i.summary.episode === null).map((i) => [i.startedAt, i.endedAt, i.summary.frames, i.summary.closedBy]),
		).toEqual([[T0, T0 + 2 * SECOND, 2, "motion_started"]]);
		expect((await getJson<{ kernel: { outbox: { pending: number } } }>(`${path(camera)}/state`)).kernel.outbox.pending).toBe(0);
	});

	it("an episode longer than the batch window is still one interaction", async () => {
		const camera = uniqueId("cam");
		for (let minute = 0; minute <= 7; minute++) await frameAt(camera, T0 + minute * MINUTE, minute);
		await frameAt(camera, T0 + 8 * MINUTE, 7);
		const episodes = (await interactionsOf(camera)).filter((i) => i.summary.episode !== null);
		expect(episodes).toHaveLength(1);
		expect(episodes[0]).toMatchObject({
			startedAt: T0 + MINUTE,
			endedAt: T0 + 8 * MINUTE,
			summary: { motionFrames: 7, motionMs: 6 * MINUTE },
		});
	});

	it("without motion, a batch is handed over every five minutes, and batches tile time", async () => {
		const camera = uniqueId("cam");
		for (let minute = 0; minute < 11; minute++) await frameAt(camera, T0 + minute * MINUTE, 0);
		const interactions = await interactionsOf(camera);
		expect(interactions.map((i) => [i.startedAt, i.endedAt, i.summary.frames, i.summary.closedBy])).toEqual([
			[T0, T0 + 5 * MINUTE, 5, "window"],
			[T0 + 5 * MINUTE, T0 + 10 * MINUTE, 5, "window"],
		]);
	});

	it("going offline ends a motion episode, and the outage is counted in the batch that follows", async () => {
		const camera = uniqueId("cam");
		await frameAt(camera, T0, 0);
		await frameAt(camera, T0 + SECOND, 1);
		await at(camera, T0 + SECOND + 5 * MINUTE);
		const stopped = await ofType(camera, "camera.motion_stopped");
		expect(stopped.map((e) => e.data)).toEqual([{ episode: 1, frameId: null, reason: "offline", durationMs: 0 }]);
		await frameAt(camera, T0 + 20 * MINUTE, 1);
		await at(camera, T0 + 25 * MINUTE);
		const interactions = await interactionsOf(camera);
		expect(interactions.map((i) => [i.startedAt, i.endedAt, i.summary.closedBy, i.summary.offlineMs])).toEqual([
			[T0, T0 + SECOND, "motion_started", 0],
			[T0 + SECOND, T0 + SECOND + 5 * MINUTE, "offline", 0],
			[T0 + SECOND + 5 * MINUTE, T0 + 25 * MINUTE, "window", 20 * MINUTE - (SECOND + 5 * MINUTE)],
		]);
	});

	it("a closed batch reaches the CCTV queue, whose consumer archives it", async () => {
		const camera = uniqueId("cam");
		for (let minute = 0; minute <= 5; minute++) await frameAt(camera, T0 + minute * MINUTE, 0);
		const key = archiveKey(ORG, `camera:${camera}:batch-1`);
		vi.useRealTimers();
		let archived: R2ObjectBody | null = null;
		for (let i = 0; i < 100 && !archived; i++) {
			archived = await env.ARCHIVE.get(key);
			if (!archived) await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(await archived?.json()).toMatchObject({ id: `camera:${camera}:batch-1`, source: "cctv", summary: { frames: 5 } });
	});
});
