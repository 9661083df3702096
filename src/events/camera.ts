/**
 * What can happen to a CCTV camera. Frames arrive over HTTP (the upload itself is in R2; the log
 * keeps its key); the actor adds analyses, motion episodes, batches handed to the org as
 * interactions, and offline/online from its heartbeat. No client submits these events directly.
 */
import { z } from "zod";
import { defineEvent, EventCatalog } from "./catalog.ts";

/** Frame ids: a UUIDv7 made by the server, or the uploader's own `x-frame-id`. */
export const FRAME_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const frameId = z.string().regex(FRAME_ID_PATTERN);
const at = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);

export const ANALYSER_NAMES = ["offline", "workers-ai"] as const;
const analyser = z.enum(ANALYSER_NAMES);

export const frameReceived = defineEvent(
	"camera.frame_received",
	z.object({
		frameId,
		/** Where the bytes are, in the FRAMES bucket. */
		key: z.string().min(1).max(1024),
		contentType: z.enum(["image/jpeg", "image/png"]),
		bytes: z.number().int().positive(),
		width: z.number().int().positive(),
		height: z.number().int().positive(),
		/** When the server received it (the event's ts is the frame's own time, `x-frame-ts`). */
		receivedAt: at,
		/**
		 * The batch window and the silence that marks the camera offline in force when it arrived: the org's
		 * `cameraBatchSeconds` and `cameraOfflineSeconds`, else the deployment's. Absent on frames from before settings.
		 */
		batchMs: z.number().int().positive().optional(),
		offlineAfterMs: z.number().int().positive().optional(),
	}),
	// A frame's events are the camera's high-volume types, never read by type: out of the type index.
	{ internal: true, unindexed: true },
);

const region = z.object({ x: fraction, y: fraction, width: fraction, height: fraction });

export const frameAnalyzed = defineEvent(
	"camera.frame_analyzed",
	z.object({
		frameId,
		analyser,
		model: z.string().max(200).optional(),
		description: z.string().max(4000),
		brightness: fraction,
		motion: z.boolean(),
		motionScore: fraction,
		changedRegions: z.array(region).max(16),
		peopleCount: count.nullable(),
		comparedWith: frameId.nullable(),
		fallbackFrom: analyser.optional(),
	}),
	{ internal: true, unindexed: true },
);

export const analysisFailed = defineEvent(
	"camera.analysis_failed",
	z.object({
		frameId,
		analyser,
		attempt: z.number().int().positive(),
		error: z.string().max(2000),
		/**
		 * What happens to the frame: `retry` (analysed again later), `fallback` (last attempt; the offline
		 * measurement follows as its analysis), `give_up` (counted without an analysis; the frame stays stored).
		 */
		next: z.enum(["retry", "fallback", "give_up"]),
	}),
	{ internal: true },
);

export const motionStarted = defineEvent("camera.motion_started", z.object({ episode: z.number().int().positive(), frameId }), {
	internal: true,
});

export const motionStopped = defineEvent(
	"camera.motion_stopped",
	z.object({
		episode: z.number().int().positive(),
		/** The first still frame after the quiet period, or null when the camera went offline. */
		frameId: frameId.nullable(),
		reason: z.enum(["still", "offline"]),
		/** From the first to the last frame with motion. */
		durationMs: count,
	}),
	{ internal: true },
);

export const BATCH_CLOSE_REASONS = ["window", "motion_started", "motion_stopped", "offline"] as const;

export const batchSummary = z.object({
	batch: z.number().int().positive(),
	startedAt: at,
	endedAt: at,
	frames: count,
	analysed: count,
	failed: count,
	motionFrames: count,
	motionMs: count,
	/** Most people in one frame of the batch; null when no analyser could count. */
	peopleSeen: count.nullable(),
	offlineMs: count,
	/** The analyser of the batch's frames: offline, workers-ai, mixed, or none. */
	analyser: z.string().max(32),
	/** The motion episode this batch is, or null for a batch without motion. */
	episode: z.number().int().positive().nullable(),
	lastDescription: z.string().max(4000).nullable(),
});
export type BatchSummary = z.infer<typeof batchSummary>;

export const batchClosed = defineEvent("camera.batch_closed", z.object({ reason: z.enum(BATCH_CLOSE_REASONS), summary: batchSummary }), {
	internal: true,
});

export const cameraOffline = defineEvent(
	"camera.offline",
	z.object({
		lastFrameAt: at,
		/** How long the camera had been silent when it was marked offline. */
		silentMs: count,
	}),
	{ internal: true },
);

export const cameraOnline = defineEvent(
	"camera.online",
	z.object({
		frameId,
		/** When it was marked offline, or null for the camera's first frame. */
		offlineSince: at.nullable(),
		offlineMs: count,
	}),
	{ internal: true },
);

/** The org's retention asks a camera to delete its frames received before `before` (docs/privacy.md). */
export const FRAMES_EXPIRE_MESSAGE = "expire_frames";
export const framesExpireRequest = z.object({ before: z.number().int() });

/** Frames (and with them their analyses) before `before` were deleted from R2 by the org's data policy. */
export const framesExpired = defineEvent(
	"camera.frames_expired",
	z.object({ before: z.number().int(), objects: z.number().int().nonnegative() }),
	{ internal: true },
);

/** Largest values a backfilled batch may carry: a day of frames at 10 per second, and a crowd. */
export const MAX_BACKFILL_FRAMES = 1_000_000;
export const MAX_BACKFILL_PEOPLE = 10_000;
/** A backfilled batch spans at most a day. */
export const MAX_BACKFILL_BATCH_MS = 86_400_000;

/**
 * A batch analysed elsewhere, sent by POST /v1/orgs/{org}/backfill (docs/cameras.md, "Backfill"): `start` and `end`
 * (ms), `frames` seen, `motion` the share of them with motion (0..1), `people` the most in one frame, `summary` a
 * description. Handed to the org as an interaction at its own times; the camera's live batches are not touched.
 */
export const backfilledBatchSchema = z.object({
	start: at,
	end: at,
	frames: z.number().int().nonnegative().max(MAX_BACKFILL_FRAMES),
	motion: fraction,
	people: z.number().int().nonnegative().max(MAX_BACKFILL_PEOPLE),
	summary: z.string().max(4000).optional(),
});
export type BackfilledBatch = z.infer<typeof backfilledBatchSchema>;

export const batchBackfilled = defineEvent("camera.batch_backfilled", backfilledBatchSchema, { internal: true });

export const cameraCatalog = new EventCatalog([
	frameReceived,
	frameAnalyzed,
	analysisFailed,
	motionStarted,
	motionStopped,
	batchClosed,
	cameraOffline,
	cameraOnline,
	framesExpired,
	batchBackfilled,
]);
