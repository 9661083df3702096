import { describe, expect, it } from "vitest";
import type { ProposedEvent } from "../../src/events/envelope.ts";
import {
	type AnalysisData,
	type AnalysisResult,
	type CameraCommand,
	type CameraLimits,
	type CameraProposal,
	type CameraState,
	cameraDefinition,
	DEFAULT_LIMITS,
	decideCamera,
} from "../../src/reducers/camera.ts";
import { deciderSpec } from "../support/decider-spec.ts";

const T0 = 1_900_000_000_000;
const SECOND = 1_000;
const MINUTE = 60_000;
const limits: CameraLimits = { ...DEFAULT_LIMITS, quietMs: 10 * SECOND, offlineAfterMs: 5 * MINUTE };
const camera = deciderSpec(cameraDefinition, decideCamera, { limits });

interface Step {
	/** What the last command decided. */
	events: CameraProposal[];
	/** The state after them. */
	state: CameraState;
	/** Every event so far: the given of the next step. */
	history: CameraProposal[];
}
const start: Step = { events: [], state: cameraDefinition.initialState(), history: [] };

/** Given the events so far, when this command: what it decides (no camera command is refused). */
function when(history: readonly CameraProposal[], command: CameraCommand): Step {
	const decided = camera
		.given(...history)
		.when(command)
		.decided();
	if ("refusal" in decided) throw new Error(`refused: ${decided.refusal.detail}`);
	return { events: decided.events, state: decided.state, history: [...history, ...decided.events] };
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
const analyses = (frameId: string, result: AnalysisResult): CameraCommand => ({ kind: "record_analyses", results: [{ frameId, result }] });

let frames = 0;
/** After `history`, a frame received at `at` and, unless `analyse` is null, analysed as `analyse`. */
function frame(history: readonly CameraProposal[], at: number, analyse: AnalysisResult | null = still()): Step {
	const frameId = `f${++frames}`;
	const received = when(history, {
		kind: "record_frame",
		frame: { frameId, key: `frames/o/c/${frameId}.png`, contentType: "image/png", bytes: 100, width: 4, height: 3, receivedAt: at, ts: at },
	});
	if (!analyse) return received;
	const analysed = when(received.history, analyses(frameId, analyse));
	return { ...analysed, events: [...received.events, ...analysed.events] };
}

/** Frames at the given seconds after T0, each still or moving; `events` are all of them. */
function given(...plan: [number, "still" | "moving"][]): Step {
	let step = start;
	for (const [second, kind] of plan) step = frame(step.history, T0 + second * SECOND, kind === "moving" ? moving() : still());
	return { ...step, events: step.history };
}

const types = (events: ProposedEvent[]) => events.map((e) => e.type);
const closed = (events: CameraProposal[]) => events.flatMap((e) => (e.type === "camera.batch_closed" ? [e.data] : []));

describe("frames", () => {
	it("the first frame brings the camera online and opens its first batch", () => {
		const { state, events } = frame([], T0, null);
		expect(events.map((e) => [e.id, e.type])).toEqual([
			["online-1", "camera.online"],
			[`f${frames}:received`, "camera.frame_received"],
		]);
		expect(state).toMatchObject({ status: "online", frames: 1, batch: { number: 1, startedAt: T0 }, pending: [{ frameId: `f${frames}` }] });
	});

	it("a full analysis backlog gives up its oldest frame rather than grow", () => {
		let step = start;
		for (let i = 0; i < limits.maxPending; i++) step = frame(step.history, T0 + i, null);
		const oldest = step.state.pending[0]?.frameId;
		const { state: after, events } = frame(step.history, T0 + SECOND, null);
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
		const window = { kind: "close_window", at: T0 + 5 * MINUTE } as const;
		camera
			.given(...given([0, "moving"]).history)
			.when(window)
			.thenDecides([]);
		expect(when(given([0, "still"]).history, window).events).toEqual([
			expect.objectContaining({ id: "batch-1:closed", ts: T0 + 5 * MINUTE, data: expect.objectContaining({ reason: "window" }) }),
		]);
	});

	it("people seen is the most in one frame, and null when no analyser counted", () => {
		const counted = frame(
			frame(given([0, "still"]).history, T0 + SECOND, still({ peopleCount: 3, analyser: "workers-ai" })).history,
			T0 + 2 * SECOND,
			still({ peopleCount: 1 }),
		);
		const window = { kind: "close_window", at: T0 + MINUTE } as const;
		expect(counted.state.batch?.peopleSeen).toBe(3);
		expect(when(counted.history, window).events[0]?.data).toMatchObject({ summary: { peopleSeen: 3, analyser: "mixed" } });
		expect(when(given([0, "still"]).history, window).events[0]?.data).toMatchObject({
			summary: { peopleSeen: null, analyser: "offline" },
		});
	});
});

describe("offline and online", () => {
	it("the heartbeat marks the camera offline only once its time since the last frame is up", () => {
		const { history } = given([0, "still"]);
		camera
			.given(...history)
			.when({ kind: "check_offline", at: T0 + 5 * MINUTE - 1 })
			.thenDecides([]);
		expect(when(history, { kind: "check_offline", at: T0 + 5 * MINUTE }).events).toEqual([
			{ id: "offline-1", type: "camera.offline", ts: T0 + 5 * MINUTE, data: { lastFrameAt: T0, silentMs: 5 * MINUTE } },
		]);
	});

	it("going offline during motion ends the episode and its batch, and no batch opens until the camera is back", () => {
		const offline = when(given([0, "moving"]).history, { kind: "check_offline", at: T0 + 5 * MINUTE });
		expect(types(offline.events)).toEqual(["camera.offline", "camera.motion_stopped", "camera.batch_closed"]);
		expect(offline.state).toMatchObject({ status: "offline", batch: null, lastBatchEndedAt: T0 + 5 * MINUTE });
		const back = frame(offline.history, T0 + 9 * MINUTE);
		expect(back.events[0]).toMatchObject({ type: "camera.online", data: { offlineSince: T0 + 5 * MINUTE, offlineMs: 4 * MINUTE } });
		expect(back.state.batch).toMatchObject({ startedAt: T0 + 5 * MINUTE, offlineMs: 4 * MINUTE });
	});

	it("an outage inside an open batch is counted in it, including the part still running when it closes", () => {
		const offline = when(given([0, "still"]).history, { kind: "check_offline", at: T0 + 5 * MINUTE });
		expect(when(offline.history, { kind: "close_window", at: T0 + 7 * MINUTE }).events[0]?.data).toMatchObject({
			summary: { offlineMs: 2 * MINUTE },
		});
		const back = frame(offline.history, T0 + 6 * MINUTE).state;
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
		let step = frame([], T0, null);
		const frameId = step.state.pending[0]?.frameId ?? "";
		const nexts: string[] = [];
		for (let attempt = 1; attempt <= limits.maxAttempts; attempt++) {
			step = when(step.history, analyses(frameId, failed((still() as { analysis: AnalysisData }).analysis)));
			nexts.push(...step.events.flatMap((e) => (e.type === "camera.analysis_failed" ? [e.data.next] : [])));
		}
		expect(nexts).toEqual(["retry", "retry", "fallback"]);
		expect(step.state).toMatchObject({ pending: [], analysed: 1, analysisFailures: 0, lastAnalysis: { frameId, analyser: "offline" } });
	});

	it("without a fallback, the last attempt gives the frame up; it still counts in its batch", () => {
		let step = frame([], T0, null);
		const frameId = step.state.pending[0]?.frameId ?? "";
		for (let attempt = 1; attempt <= limits.maxAttempts; attempt++) step = when(step.history, analyses(frameId, failed()));
		expect(step.state).toMatchObject({ pending: [], analysed: 0, analysisFailures: 1, batch: { frames: 1, failed: 1 } });
		camera
			.given(...step.history)
			.when(analyses(frameId, still()))
			.thenDecides([]);
	});

	it("an analysis of a frame that is not waiting is refused", () => {
		const analysed = { frameId: "ghost", ...(still() as { analysis: AnalysisData }).analysis };
		expect(() => camera.given({ id: "ghost:analyzed", type: "camera.frame_analyzed", ts: T0, data: analysed })).toThrow(/not waiting/);
	});
});
