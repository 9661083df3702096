/**
 * What a camera's events mean, and what the camera decides when a frame arrives, an analysis
 * comes back, its heartbeat runs out or a batch window ends. Pure: no clock, no I/O, no image
 * bytes; time comes in on the events (`receivedAt` and the actor's own events use the server's
 * clock, a frame's `ts` is the frame's own time).
 *
 * Batches: from its first frame on, a camera always has one open batch (except while offline after
 * a window ended). A batch closes when its window ends (unless motion is going on), when motion
 * starts, when motion stops, or when the camera goes offline during motion; the next one opens
 * where it closed, so batches tile time and an interaction per batch accounts for all of it. A
 * motion episode is exactly one batch. Frames count toward the batch that is open when their
 * analysis (or its final failure) is recorded.
 */
import { type BATCH_CLOSE_REASONS, type BackfilledBatch, type BatchSummary, cameraCatalog } from "../events/camera.ts";
import type { DataOf, EventNamed, EventOf, ProposalOf } from "../events/catalog.ts";
import type { ProposedEvent, RecordedEvent } from "../events/envelope.ts";
import { decideBatchBackfill } from "./backfill.ts";
import { type ActorDefinition, type DecideContext, fold, type Refusal } from "./definition.ts";

export type FrameReceivedData = DataOf<typeof cameraCatalog, "camera.frame_received">;
export type FrameAnalyzedData = DataOf<typeof cameraCatalog, "camera.frame_analyzed">;
type BatchCloseReason = (typeof BATCH_CLOSE_REASONS)[number];
/** An analysis as the analyser gives it, before it is tied to a frame. */
export type AnalysisData = Omit<FrameAnalyzedData, "frameId">;

/** A stored frame waiting for its analysis. */
export interface PendingFrame {
	frameId: string;
	key: string;
	contentType: FrameReceivedData["contentType"];
	ts: number;
	receivedAt: number;
	/** Failed attempts so far. */
	attempts: number;
}

export interface OpenBatch {
	number: number;
	/** Where the batch begins: where the previous one ended, so batches tile time. */
	startedAt: number;
	/** When it was opened (its window timer runs from here). */
	openedAt: number;
	frames: number;
	analysed: number;
	failed: number;
	motionFrames: number;
	motionMs: number;
	peopleSeen: number | null;
	/** Offline time already counted into this batch (the part still running is added at close). */
	offlineMs: number;
	analysers: Record<string, number>;
	episode: number | null;
	lastDescription: string | null;
}

export interface CameraState {
	status: "new" | "online" | "offline";
	frames: number;
	bytes: number;
	lastFrame: (Omit<FrameReceivedData, "bytes"> & { ts: number }) | null;
	/** When the camera was marked offline; null while online. */
	offlineSince: number | null;
	onlineCount: number;
	offlineCount: number;
	/** Frames stored but not analysed yet, in arrival order (bounded by the camera's backlog limit). */
	pending: PendingFrame[];
	analysed: number;
	/** Frames whose analysis was given up. */
	analysisFailures: number;
	lastAnalysis: (FrameAnalyzedData & { key: string; ts: number }) | null;
	motion: { active: boolean; episode: number; since: number | null; lastMotionAt: number | null };
	batch: OpenBatch | null;
	batchesClosed: number;
	lastBatchEndedAt: number | null;
	lastBatch: BatchSummary | null;
	/** Batches sent by a backfill (POST /v1/orgs/{org}/backfill): handed to the org, outside the live batches. */
	batchesBackfilled: number;
}

export const initialCameraState = (): CameraState => ({
	status: "new",
	frames: 0,
	bytes: 0,
	lastFrame: null,
	offlineSince: null,
	onlineCount: 0,
	offlineCount: 0,
	pending: [],
	analysed: 0,
	analysisFailures: 0,
	lastAnalysis: null,
	motion: { active: false, episode: 0, since: null, lastMotionAt: null },
	batch: null,
	batchesClosed: 0,
	lastBatchEndedAt: null,
	lastBatch: null,
	batchesBackfilled: 0,
});

export interface CameraLimits {
	/** Analysis attempts per frame before it is given up (or falls back to the offline measurement). */
	maxAttempts: number;
	/** Frames waiting for analysis; beyond it, the oldest is given up so state stays small. */
	maxPending: number;
	/** Motion stops at the first still frame at least this long after the last frame with motion. */
	quietMs: number;
	/** A camera with no frame for this long is marked offline when its heartbeat fires. */
	offlineAfterMs: number;
}

export const DEFAULT_LIMITS: CameraLimits = { maxAttempts: 3, maxPending: 120, quietMs: 10_000, offlineAfterMs: 5 * 60_000 };

// ---- decide -----------------------------------------------------------------------------

export type CameraEvent = EventOf<typeof cameraCatalog>;
export type CameraProposal = ProposalOf<typeof cameraCatalog>;
type Proposal<T extends CameraProposal["type"]> = Extract<CameraProposal, { type: T }>;

export interface IncomingFrame extends FrameReceivedData {
	ts: number;
}

export type AnalysisResult =
	| { ok: true; analysis: AnalysisData }
	| { ok: false; analyser: AnalysisData["analyser"]; error: string; fallback?: AnalysisData };

/** What the camera is asked to decide; the actor does the I/O around it (R2, the analyser, timers, outbox). */
export type CameraCommand =
	/** A frame was stored in R2. */
	| { kind: "record_frame"; frame: IncomingFrame }
	/** Analyses came back for pending frames, in frame order. */
	| { kind: "record_analyses"; results: readonly { frameId: string; result: AnalysisResult }[] }
	/** The heartbeat fired for the instant `at`. */
	| { kind: "check_offline"; at: number }
	/** The open batch's window ended at `at`. */
	| { kind: "close_window"; at: number }
	/** Past batches sent by a backfill (src/reducers/backfill.ts). */
	| { kind: "backfill"; batches: readonly BackfilledBatch[] };

export interface CameraContext extends DecideContext {
	limits: CameraLimits;
}

/** The camera's decisions. None is refused: a command that changes nothing decides no events. */
export function decideCamera(command: CameraCommand, state: CameraState, context: CameraContext): CameraProposal[] | Refusal {
	switch (command.kind) {
		case "record_frame":
			return decideFrame(state, command.frame, context.limits);
		case "record_analyses":
			return decideAnalyses(state, command.results, context.limits);
		case "check_offline":
			return decideOffline(state, command.at, context.limits.offlineAfterMs);
		case "close_window":
			return decideBatchWindow(state, command.at);
		case "backfill":
			return decideBatchBackfill(command.batches, context.now);
	}
}

/** A frame was stored: it comes online if it was not, the frame is recorded and queued for analysis. */
function decideFrame(state: CameraState, frame: IncomingFrame, limits: CameraLimits): CameraProposal[] {
	const { ts, ...data } = frame;
	const events: CameraProposal[] = [];
	if (state.status !== "online") {
		const offlineSince = state.offlineSince;
		events.push({
			id: `online-${state.onlineCount + 1}`,
			type: "camera.online",
			ts: frame.receivedAt,
			data: { frameId: frame.frameId, offlineSince, offlineMs: offlineSince === null ? 0 : Math.max(0, frame.receivedAt - offlineSince) },
		});
	}
	const oldest = state.pending[0];
	if (oldest && state.pending.length >= limits.maxPending) {
		events.push(failure(oldest, "offline", `analysis backlog full (${limits.maxPending} frames waiting); not analysed`, "give_up"));
	}
	events.push({ id: `${frame.frameId}:received`, type: "camera.frame_received", ts, data });
	return events;
}

/** An analysis came back for a pending frame: record it (or the failure), and start or stop motion around it. */
function decideAnalysis(state: CameraState, frameId: string, result: AnalysisResult, limits: CameraLimits): CameraProposal[] {
	const frame = state.pending.find((p) => p.frameId === frameId);
	if (!frame) return [];
	if (result.ok) return analysed(state, frame, result.analysis, limits);
	const attempt = frame.attempts + 1;
	const last = attempt >= limits.maxAttempts;
	const next = !last ? "retry" : result.fallback ? "fallback" : "give_up";
	const failed = failure(frame, result.analyser, result.error, next);
	if (next !== "fallback" || !result.fallback) return [failed];
	return [failed, ...analysed(after(state, [failed]), { ...frame, attempts: attempt }, result.fallback, limits)];
}

/** Several analyses, in frame order: each decided on the state the ones before it leave. */
function decideAnalyses(
	state: CameraState,
	results: readonly { frameId: string; result: AnalysisResult }[],
	limits: CameraLimits,
): CameraProposal[] {
	const events: CameraProposal[] = [];
	let current = state;
	for (const { frameId, result } of results) {
		const decided = decideAnalysis(current, frameId, result, limits);
		events.push(...decided);
		current = after(current, decided);
	}
	return events;
}

function failure(
	frame: PendingFrame,
	analyser: AnalysisData["analyser"],
	error: string,
	next: "retry" | "fallback" | "give_up",
): Proposal<"camera.analysis_failed"> {
	const attempt = frame.attempts + 1;
	return {
		id: `${frame.frameId}:failed-${attempt}`,
		type: "camera.analysis_failed",
		ts: frame.ts,
		data: { frameId: frame.frameId, analyser, attempt, error: error.slice(0, 2000), next },
	};
}

function analysed(state: CameraState, frame: PendingFrame, analysis: AnalysisData, limits: CameraLimits): CameraProposal[] {
	const at = frame.receivedAt;
	const event: Proposal<"camera.frame_analyzed"> = {
		id: `${frame.frameId}:analyzed`,
		type: "camera.frame_analyzed",
		ts: frame.ts,
		data: { frameId: frame.frameId, ...analysis },
	};
	const { motion } = state;
	if (analysis.motion && !motion.active) {
		const episode = motion.episode + 1;
		const started: Proposal<"camera.motion_started"> = {
			id: `episode-${episode}:started`,
			type: "camera.motion_started",
			ts: at,
			data: { episode, frameId: frame.frameId },
		};
		return [...(state.batch ? [closing(state, at, "motion_started")] : []), started, event];
	}
	const quiet = motion.lastMotionAt !== null && at - motion.lastMotionAt >= limits.quietMs;
	if (!analysis.motion && motion.active && quiet) {
		const stopped = stopping(state, frame.frameId, at, "still");
		const then = after(state, [event, stopped]);
		return [event, stopped, closing(then, at, "motion_stopped")];
	}
	return [event];
}

function stopping(state: CameraState, frameId: string | null, at: number, reason: "still" | "offline"): Proposal<"camera.motion_stopped"> {
	const { episode, since, lastMotionAt } = state.motion;
	return {
		id: `episode-${episode}:stopped`,
		type: "camera.motion_stopped",
		ts: at,
		data: { episode, frameId, reason, durationMs: Math.max(0, (lastMotionAt ?? since ?? 0) - (since ?? 0)) },
	};
}

function closing(state: CameraState, at: number, reason: BatchCloseReason): Proposal<"camera.batch_closed"> {
	const batch = state.batch;
	if (!batch) throw new Error("no batch is open");
	const summary = summarize(state, batch, at);
	return { id: `batch-${batch.number}:closed`, type: "camera.batch_closed", ts: summary.endedAt, data: { reason, summary } };
}

/** The heartbeat ran out at `at`: offline, ending any motion episode with it. Nothing if a frame came since. */
function decideOffline(state: CameraState, at: number, offlineAfterMs: number): CameraProposal[] {
	// The last frame's own offline time (the org's setting when it arrived) wins over the deployment's.
	const silence = state.lastFrame?.offlineAfterMs ?? offlineAfterMs;
	if (state.status !== "online" || !state.lastFrame || state.lastFrame.receivedAt + silence > at) return [];
	const offline: Proposal<"camera.offline"> = {
		id: `offline-${state.offlineCount + 1}`,
		type: "camera.offline",
		ts: at,
		data: { lastFrameAt: state.lastFrame.receivedAt, silentMs: at - state.lastFrame.receivedAt },
	};
	if (!state.motion.active) return [offline];
	const stopped = stopping(state, null, at, "offline");
	// The episode ends when the camera stopped being seen, not when the heartbeat noticed.
	return [offline, stopped, closing(after(state, [offline, stopped]), at, "offline")];
}

/** The open batch's window ended at `at`: close it, unless a motion episode is going on (it closes when motion stops). */
function decideBatchWindow(state: CameraState, at: number): CameraProposal[] {
	if (!state.batch || state.motion.active) return [];
	return [closing(state, at, "window")];
}

/** The batch closes among events the kernel appended (it appends only what the catalog validated, so the type decides the data). */
export function closedBatches(events: readonly RecordedEvent[]): EventNamed<typeof cameraCatalog, "camera.batch_closed">[] {
	return events.filter((event): event is EventNamed<typeof cameraCatalog, "camera.batch_closed"> => event.type === "camera.batch_closed");
}

/** The backfilled batches among events the kernel appended. */
export function backfilledBatches(events: readonly RecordedEvent[]): EventNamed<typeof cameraCatalog, "camera.batch_backfilled">[] {
	return events.filter(
		(event): event is EventNamed<typeof cameraCatalog, "camera.batch_backfilled"> => event.type === "camera.batch_backfilled",
	);
}

/** What a batch amounts to if it closes at `at`: the summary the org receives. */
export function summarize(state: CameraState, batch: OpenBatch, at: number): BatchSummary {
	const endedAt = Math.max(at, batch.startedAt);
	const runningOffline =
		state.status === "offline" && state.offlineSince !== null ? endedAt - Math.max(state.offlineSince, batch.startedAt) : 0;
	const analysers = Object.keys(batch.analysers);
	return {
		batch: batch.number,
		startedAt: batch.startedAt,
		endedAt,
		frames: batch.frames,
		analysed: batch.analysed,
		failed: batch.failed,
		motionFrames: batch.motionFrames,
		motionMs: batch.motionMs,
		peopleSeen: batch.peopleSeen,
		offlineMs: saturating(batch.offlineMs + Math.max(0, runningOffline)),
		analyser: analysers.length === 0 ? "none" : analysers.length === 1 ? (analysers[0] ?? "none") : "mixed",
		episode: batch.episode,
		lastDescription: batch.lastDescription,
	};
}

/** State after proposed events, for deciding what follows them in the same command. */
function after(state: CameraState, events: ProposedEvent[]): CameraState {
	return fold(
		cameraDefinition,
		events.map((e, i) => ({ seq: i + 1, id: e.id, type: e.type, v: 1, ts: e.ts, data: e.data, meta: {} })),
		state,
	);
}

// ---- evolve -----------------------------------------------------------------------------

function openBatch(state: CameraState, at: number): OpenBatch {
	return {
		number: state.batchesClosed + 1,
		startedAt: state.lastBatchEndedAt ?? at,
		openedAt: at,
		frames: 0,
		analysed: 0,
		failed: 0,
		motionFrames: 0,
		motionMs: 0,
		peopleSeen: null,
		offlineMs: 0,
		analysers: {},
		episode: null,
		lastDescription: null,
	};
}

function takePending(state: CameraState, frameId: string, type: string): { frame: PendingFrame; rest: PendingFrame[] } {
	const frame = state.pending.find((p) => p.frameId === frameId);
	if (!frame) throw new Error(`${type}: frame ${frameId} is not waiting for analysis`);
	return { frame, rest: state.pending.filter((p) => p.frameId !== frameId) };
}

export function evolveCamera(state: CameraState, event: CameraEvent): CameraState {
	switch (event.type) {
		case "camera.frame_received": {
			const { data } = event;
			const { bytes, ...frame } = data;
			return {
				...state,
				frames: state.frames + 1,
				bytes: state.bytes + bytes,
				lastFrame: { ...frame, ts: event.ts },
				pending: [
					...state.pending,
					{ frameId: data.frameId, key: data.key, contentType: data.contentType, ts: event.ts, receivedAt: data.receivedAt, attempts: 0 },
				],
			};
		}
		case "camera.online": {
			if (state.status === "online") throw new Error("the camera is already online");
			const { offlineSince } = event.data;
			const batch = state.batch ?? openBatch(state, event.ts);
			const offlineMs = offlineSince === null ? 0 : Math.max(0, event.ts - Math.max(offlineSince, batch.startedAt));
			return {
				...state,
				status: "online",
				offlineSince: null,
				onlineCount: state.onlineCount + 1,
				batch: { ...batch, offlineMs: saturating(batch.offlineMs + offlineMs) },
			};
		}
		case "camera.offline":
			if (state.status !== "online") throw new Error(`the camera is ${state.status}, not online`);
			return { ...state, status: "offline", offlineSince: event.ts, offlineCount: state.offlineCount + 1 };
		case "camera.frame_analyzed":
			return frameAnalyzed(state, event);
		case "camera.analysis_failed":
			return analysisFailed(state, event);
		case "camera.motion_started": {
			if (state.motion.active) throw new Error("motion has already started");
			const { episode } = event.data;
			const open = state.batch ?? openBatch(state, event.ts);
			return {
				...state,
				motion: { active: true, episode, since: event.ts, lastMotionAt: event.ts },
				batch: { ...open, episode },
			};
		}
		case "camera.motion_stopped": {
			if (!state.motion.active) throw new Error("no motion is going on");
			const { durationMs } = event.data;
			return {
				...state,
				motion: { ...state.motion, active: false, since: null },
				batch: state.batch ? { ...state.batch, motionMs: saturating(state.batch.motionMs + durationMs) } : null,
			};
		}
		case "camera.frames_expired": {
			// The frames before `before` are gone from R2: the state stops pointing at them (frames still pending analysis fail theirs).
			const { before } = event.data;
			return {
				...state,
				lastFrame: state.lastFrame && state.lastFrame.ts < before ? null : state.lastFrame,
				lastAnalysis: state.lastAnalysis && state.lastAnalysis.ts < before ? null : state.lastAnalysis,
			};
		}
		case "camera.batch_closed": {
			const { summary } = event.data;
			if (state.batch?.number !== summary.batch) throw new Error(`batch ${summary.batch} is not the open batch`);
			const closed: CameraState = {
				...state,
				batchesClosed: state.batchesClosed + 1,
				lastBatchEndedAt: summary.endedAt,
				lastBatch: summary,
			};
			// While offline, no batch opens: the next one starts here when the camera is back, and counts the outage.
			return { ...closed, batch: state.status === "offline" ? null : openBatch(closed, event.ts) };
		}
		case "camera.batch_backfilled":
			return { ...state, batchesBackfilled: state.batchesBackfilled + 1 };
		default:
			return unknownEvent(event);
	}
}

/** An analysis takes its frame off the pending list and counts it in the open batch (motion, people, analyser). */
function frameAnalyzed(state: CameraState, event: EventNamed<typeof cameraCatalog, "camera.frame_analyzed">): CameraState {
	const { data } = event;
	const { frame, rest } = takePending(state, data.frameId, event.type);
	const open = state.batch ?? openBatch(state, frame.receivedAt);
	const batch: OpenBatch = {
		...open,
		frames: open.frames + 1,
		analysed: open.analysed + 1,
		motionFrames: open.motionFrames + (data.motion ? 1 : 0),
		peopleSeen: data.peopleCount === null ? open.peopleSeen : Math.max(open.peopleSeen ?? 0, data.peopleCount),
		analysers: { ...open.analysers, [data.analyser]: (open.analysers[data.analyser] ?? 0) + 1 },
		lastDescription: data.description,
	};
	const motion =
		data.motion && state.motion.active
			? { ...state.motion, lastMotionAt: Math.max(state.motion.lastMotionAt ?? frame.receivedAt, frame.receivedAt) }
			: state.motion;
	return {
		...state,
		pending: rest,
		analysed: state.analysed + 1,
		lastAnalysis: { ...data, key: frame.key, ts: event.ts },
		motion,
		batch,
	};
}

/** A failure counts an attempt, or, when the frame is given up, takes it off the list and counts it in the open batch. */
function analysisFailed(state: CameraState, event: EventNamed<typeof cameraCatalog, "camera.analysis_failed">): CameraState {
	const { data } = event;
	const { frame, rest } = takePending(state, data.frameId, event.type);
	if (data.next !== "give_up") {
		return { ...state, pending: state.pending.map((p) => (p === frame ? { ...p, attempts: data.attempt } : p)) };
	}
	const open = state.batch ?? openBatch(state, frame.receivedAt);
	return {
		...state,
		pending: rest,
		analysisFailures: state.analysisFailures + 1,
		batch: { ...open, frames: open.frames + 1, failed: open.failed + 1 },
	};
}

function unknownEvent(event: never): never {
	throw new Error(`camera has no reducer for ${(event as CameraEvent).type}`);
}

export const cameraDefinition: ActorDefinition<CameraState, CameraEvent> = {
	kind: "camera",
	catalog: cameraCatalog,
	// 2: frames expired by the org's data policy clear the last frame and analysis that point at them. 3: backfilled batches.
	reducerVersion: 3,
	initialState: initialCameraState,
	evolve: evolveCamera,
};

/** A batch's summed durations stay safe integers (their schema's bound) however long the parts they add were. */
function saturating(ms: number): number {
	return Math.min(Number.MAX_SAFE_INTEGER, ms);
}
