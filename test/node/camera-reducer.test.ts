import { describe, expect, it } from "vitest";
import { cameraCatalog } from "../../src/events/camera.ts";
import type { ProposedEvent, RecordedEvent } from "../../src/events/envelope.ts";
import {
	type AnalysisData,
	type AnalysisResult,
	type CameraLimits,
	type CameraState,
	cameraDefinition,
	DEFAULT_LIMITS,
	decideAnalysis,
	decideBatchWindow,
	decideFrame,
	decideOffline,
} from "../../src/reducers/camera.ts";
import { fold } from "../../src/reducers/definition.ts";

const T0 = 1_900_000_000_000;
const SECOND = 1_000;
const MINUTE = 60_000;
const limits: CameraLimits = { ...DEFAULT_LIMITS, quietMs: 10 * SECOND };

let seq = 0;
/** Events as the kernel would record them: validated against the catalog, then folded. */
function record(state: CameraState, events: ProposedEvent[]): CameraState {
	return fold(
		cameraDefinition,
		events.map((e): RecordedEvent => {
			const checked = cameraCatalog.validate(e.type, e.data);
			if (!checked.ok) throw new Error(`${e.type}: ${JSON.stringify(checked.errors)}`);
			return { seq: ++seq, id: e.id, type: e.type, v: 1, ts: e.ts, data: checked.data, meta: {} };
		}),
		state,
	);
}

const still = (over: Partial<AnalysisData> = {}): AnalysisResult => ({
	ok: true,
	analysis: {
		analyser: "offline",
		description: "Offline analyser (measurements only): still",
		brightness: 0.3,
		motion: false,
		motionScore: 0,
		changedRegions: [],
		peopleCount: null,
		comparedWith: null,
		...over,
	},
});
const moving = (over: Partial<AnalysisData> = {}) =>
	still({ motion: true, motionScore: 0.1, changedRegions: [{ x: 0, y: 0, width: 0.2, height: 0.2 }], ...over });

let frames = 0;
/** A frame received at `at` and, unless `analyse` is null, analysed as `analyse`. */
function frame(state: CameraState, at: number, analyse: AnalysisResult | null = still()): { state: CameraState; events: ProposedEvent[] } {
	const frameId = `f${++frames}`;
	const received = decideFrame(
		state,
		{ frameId, key: `frames/o/c/${frameId}.png`, contentType: "image/png", bytes: 100, width: 4, height: 3, receivedAt: at, ts: at },
		limits,
	);
	let next = record(state, received);
	if (!analyse) return { state: next, events: received };
	const analysed = decideAnalysis(next, frameId, analyse, limits);
	next = record(next, analysed);
	return { state: next, events: [...received, ...analysed] };
}

/** Frames at the given seconds after T0, each still or moving. */
function given(...plan: [number, "still" | "moving"][]): { state: CameraState; events: ProposedEvent[] } {
	let state = cameraDefinition.initialState();
	const events: ProposedEvent[] = [];
	for (const [second, kind] of plan) {
		const step = frame(state, T0 + second * SECOND, kind === "moving" ? moving() : still());
		state = step.state;
		events.push(...step.events);
	}
	return { state, events };
}

const types = (events: ProposedEvent[]) => events.map((e) => e.type);
const closed = (events: ProposedEvent[]) =>
	events.filter((e) => e.type === "camera.batch_closed").map((e) => e.data as { reason: string; summary: Record<string, unknown> });

describe("frames", () => {
	it("the first frame brings the camera online and opens its first batch", () => {
		const { state, events } = frame(cameraDefinition.initialState(), T0, null);
		expect(events.map((e) => [e.id, e.type])).toEqual([
			["online-1", "camera.online"],
			[`f${frames}:received`, "camera.frame_received"],
		]);
		expect(state).toMatchObject({ status: "online", frames: 1, batch: { number: 1, startedAt: T0 }, pending: [{ frameId: `f${frames}` }] });
	});

	it("a full analysis backlog gives up its oldest frame rather than grow", () => {
		let state = cameraDefinition.initialState();
		for (let i = 0; i < limits.maxPending; i++) state = frame(state, T0 + i, null).state;
		const oldest = state.pending[0]?.frameId;
		const { state: after, events } = frame(state, T0 + SECOND, null);
		expect(events[0]).toMatchObject({
			type: "camera.analysis_failed",
			data: { frameId: oldest, next: "give_up", error: expect.stringContaining("backlog") },
		});
		expect(after.pending).toHaveLength(limits.maxPending);
		expect(after.batch).toMatchObject({ frames: 1, failed: 1 });
	});
});

describe("motion episodes", () => {
	it("motion starts at the first moving frame, closing the quiet batch before it", () => {
		const { state, events } = given([0, "still"], [1, "still"], [2, "moving"]);
		const start = events.findIndex((e) => e.type === "camera.motion_started");
		expect(types(events.slice(start - 1, start + 2))).toEqual(["camera.batch_closed", "camera.motion_started", "camera.frame_analyzed"]);
		expect(closed(events)).toEqual([
			{ reason: "motion_started", summary: expect.objectContaining({ batch: 1, startedAt: T0, endedAt: T0 + 2 * SECOND, frames: 2 }) },
		]);
		expect(state).toMatchObject({
			motion: { active: true, episode: 1, since: T0 + 2 * SECOND },
			batch: { number: 2, episode: 1, motionFrames: 1 },
		});
	});

	it("still frames within the quiet time keep the episode going; the first one after it ends the episode and its batch", () => {
		const { state, events } = given([0, "moving"], [1, "moving"], [5, "still"], [10, "still"], [11, "still"]);
		const stopped = events.filter((e) => e.type === "camera.motion_stopped");
		expect(stopped).toEqual([
			expect.objectContaining({ ts: T0 + 11 * SECOND, data: expect.objectContaining({ reason: "still", durationMs: SECOND }) }),
		]);
		expect(closed(events).at(-1)).toEqual({
			reason: "motion_stopped",
			summary: expect.objectContaining({
				episode: 1,
				frames: 5,
				motionFrames: 2,
				motionMs: SECOND,
				startedAt: T0,
				endedAt: T0 + 11 * SECOND,
			}),
		});
		expect(state).toMatchObject({ motion: { active: false }, batch: { number: 3, startedAt: T0 + 11 * SECOND, frames: 0, episode: null } });
	});

	it("the batch window waits while motion goes on, and closes a quiet batch", () => {
		const moving = given([0, "moving"]).state;
		expect(decideBatchWindow(moving, T0 + 5 * MINUTE)).toEqual([]);
		const quiet = given([0, "still"]).state;
		expect(decideBatchWindow(quiet, T0 + 5 * MINUTE)).toEqual([
			expect.objectContaining({ id: "batch-1:closed", ts: T0 + 5 * MINUTE, data: expect.objectContaining({ reason: "window" }) }),
		]);
	});

	it("people seen is the most in one frame, and null when no analyser counted", () => {
		const counted = frame(
			frame(given([0, "still"]).state, T0 + SECOND, still({ peopleCount: 3, analyser: "workers-ai" })).state,
			T0 + 2 * SECOND,
			still({ peopleCount: 1 }),
		).state;
		expect(counted.batch?.peopleSeen).toBe(3);
		expect(decideBatchWindow(counted, T0 + MINUTE)[0]?.data).toMatchObject({ summary: { peopleSeen: 3, analyser: "mixed" } });
		expect(decideBatchWindow(given([0, "still"]).state, T0 + MINUTE)[0]?.data).toMatchObject({
			summary: { peopleSeen: null, analyser: "offline" },
		});
	});
});

describe("offline and online", () => {
	it("the heartbeat marks the camera offline only once its time since the last frame is up", () => {
		const { state } = given([0, "still"]);
		expect(decideOffline(state, T0 + 5 * MINUTE - 1, 5 * MINUTE)).toEqual([]);
		expect(decideOffline(state, T0 + 5 * MINUTE, 5 * MINUTE)).toEqual([
			{ id: "offline-1", type: "camera.offline", ts: T0 + 5 * MINUTE, data: { lastFrameAt: T0, silentMs: 5 * MINUTE } },
		]);
	});

	it("going offline during motion ends the episode and its batch, and no batch opens until the camera is back", () => {
		const { state } = given([0, "moving"]);
		const events = decideOffline(state, T0 + 5 * MINUTE, 5 * MINUTE);
		expect(types(events)).toEqual(["camera.offline", "camera.motion_stopped", "camera.batch_closed"]);
		const after = record(state, events);
		expect(after).toMatchObject({ status: "offline", batch: null, lastBatchEndedAt: T0 + 5 * MINUTE });
		const back = frame(after, T0 + 9 * MINUTE);
		expect(back.events[0]).toMatchObject({ type: "camera.online", data: { offlineSince: T0 + 5 * MINUTE, offlineMs: 4 * MINUTE } });
		expect(back.state.batch).toMatchObject({ startedAt: T0 + 5 * MINUTE, offlineMs: 4 * MINUTE });
	});

	it("an outage inside an open batch is counted in it, including the part still running when it closes", () => {
		const { state } = given([0, "still"]);
		const offline = record(state, decideOffline(state, T0 + 5 * MINUTE, 5 * MINUTE));
		expect(decideBatchWindow(offline, T0 + 7 * MINUTE)[0]?.data).toMatchObject({ summary: { offlineMs: 2 * MINUTE } });
		const back = frame(offline, T0 + 6 * MINUTE).state;
		expect(back.batch?.offlineMs).toBe(MINUTE);
	});
});

describe("analysis failures", () => {
	const failed = (fallback?: AnalysisData): AnalysisResult => ({
		ok: false,
		analyser: "workers-ai",
		error: "model busy",
		...(fallback ? { fallback } : {}),
	});

	it("a failure is retried until the last attempt, which falls back to the offline measurement when there is one", () => {
		let { state } = frame(cameraDefinition.initialState(), T0, null);
		const frameId = state.pending[0]?.frameId ?? "";
		const nexts: string[] = [];
		for (let attempt = 1; attempt <= limits.maxAttempts; attempt++) {
			const events = decideAnalysis(state, frameId, failed((still() as { analysis: AnalysisData }).analysis), limits);
			nexts.push(...events.filter((e) => e.type === "camera.analysis_failed").map((e) => (e.data as { next: string }).next));
			state = record(state, events);
		}
		expect(nexts).toEqual(["retry", "retry", "fallback"]);
		expect(state).toMatchObject({ pending: [], analysed: 1, analysisFailures: 0, lastAnalysis: { frameId, analyser: "offline" } });
	});

	it("without a fallback, the last attempt gives the frame up; it still counts in its batch", () => {
		let { state } = frame(cameraDefinition.initialState(), T0, null);
		const frameId = state.pending[0]?.frameId ?? "";
		for (let attempt = 1; attempt <= limits.maxAttempts; attempt++) state = record(state, decideAnalysis(state, frameId, failed(), limits));
		expect(state).toMatchObject({ pending: [], analysed: 0, analysisFailures: 1, batch: { frames: 1, failed: 1 } });
		expect(decideAnalysis(state, frameId, still(), limits)).toEqual([]);
	});

	it("an analysis of a frame that is not waiting is refused", () => {
		const state = cameraDefinition.initialState();
		const analysed = { frameId: "ghost", ...(still() as { analysis: AnalysisData }).analysis };
		expect(() => record(state, [{ id: "ghost:analyzed", type: "camera.frame_analyzed", ts: T0, data: analysed }])).toThrow(/not waiting/);
	});
});
