/**
 * The CCTV camera actor: frames in over HTTP (stored in R2, recorded at once), analysed after the
 * request by the `vision` timer, batched into interactions for the org, and marked offline by
 * its `heartbeat` timer when frames stop. Image bytes never enter state: the previous frame's
 * luminance grid is kept in memory and rebuilt from R2 after a restart.
 */
import { uuidv7 } from "uuidv7";
import { errorText, log } from "../core/log.ts";
import { type Outcome, ok } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import { type BackfilledBatch, type BatchSummary, FRAMES_EXPIRE_MESSAGE, framesExpireRequest } from "../events/camera.ts";
import type { EventMeta } from "../events/envelope.ts";
import { CAMERA_STATUS_MESSAGE, type CameraStatus, INTERACTION_MESSAGE, type Interaction } from "../events/interaction.ts";
import {
	type AnalysisResult,
	backfilledBatches,
	type CameraCommand,
	type CameraLimits,
	type CameraProposal,
	type CameraState,
	cameraDefinition,
	closedBatches,
	DEFAULT_LIMITS,
	decideCamera,
	type PendingFrame,
} from "../reducers/camera.ts";
import { isRefusal, type Refusal } from "../reducers/definition.ts";
import { analyseFrame, type PreviousFrame } from "../vision/analyser.ts";
import { isVisionBinding, type VisionConfig, visionConfig } from "../vision/config.ts";
import { formatOf, type ImageContentType } from "../vision/image-format.ts";
import { type LumaGrid, lumaGrid } from "../vision/measure.ts";
import { decodeFrame } from "../vision/raster.ts";
import { type AppendReceipt, EventSourcedActor, type TimerPlan } from "./actor.ts";
import { backoffDelay } from "./backoff.ts";
import { cameraFrames, frameName, type OrgObjects } from "./org-objects.ts";
import { orgSettings } from "./org-settings-cache.ts";
import type { ActorMessage, OutboxMessage } from "./outbox.ts";
import type { Timer, TimerChange } from "./timers.ts";

// Timers due at the same instant fire in name order: the window closes before the heartbeat and before
// analysis, so a frame that arrives exactly at a window's end belongs to the next batch.
export const BATCH_TIMER = "batch";
export const HEARTBEAT_TIMER = "heartbeat";
export const ANALYSIS_TIMER = "vision";

export const DEFAULT_BATCH_MS = 5 * 60_000;
/** Frames analysed per firing of the analysis timer, within a time budget; the timer comes back at once for the rest. */
const FRAMES_PER_FIRING = 8;
const FIRING_BUDGET_MS = 5_000;

/** A frame the API has checked (type, magic number, whole file, dimensions). */
export interface FrameUpload {
	bytes: ArrayBuffer;
	contentType: ImageContentType;
	width: number;
	height: number;
	/** The uploader's own id (`x-frame-id`): a retried upload is then a duplicate. */
	frameId?: string;
	/** The frame's own time (`x-frame-ts`); defaults to when it was received. */
	ts?: number;
}

export interface FrameAccepted {
	frameId: string;
	version: number;
	/** The R2 key in the FRAMES bucket (absent when the frame was a duplicate). */
	key?: string;
	duplicate: boolean;
}

const positive = (value: string | undefined, fallback: number) => {
	const n = Number(value);
	return Number.isSafeInteger(n) && n > 0 ? n : fallback;
};

export class CameraActor extends EventSourcedActor<CameraState, CameraProposal> {
	readonly batchMs: number;
	readonly limits: CameraLimits;
	readonly vision: VisionConfig;
	/** The last analysed frame's luminance grid, for motion; rebuilt from R2 when it is not this one. */
	#previous: PreviousFrame | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, cameraDefinition);
		this.batchMs = positive(env.CAMERA_BATCH_MS, DEFAULT_BATCH_MS);
		this.limits = {
			...DEFAULT_LIMITS,
			quietMs: positive(env.CAMERA_MOTION_QUIET_MS, DEFAULT_LIMITS.quietMs),
			offlineAfterMs: positive(env.CAMERA_OFFLINE_AFTER_MS, DEFAULT_LIMITS.offlineAfterMs),
		};
		this.vision = visionConfig(env);
		if (this.vision.warning) log("warn", "camera vision configuration", { warning: this.vision.warning });
	}

	/**
	 * Stores the frame in R2 and records it; analysis happens after this returns. A frame id already
	 * recorded is a duplicate: nothing is stored or appended again.
	 */
	async ingestFrame(upload: FrameUpload, meta: EventMeta = {}): Promise<Outcome<FrameAccepted>> {
		// Before anything is stored: a sandbox takes no frames (and so never analyses one).
		const refused = this.refuseIfSandbox();
		if (refused) return refused;
		const frameId = upload.frameId ?? uuidv7();
		const receivedId = `${frameId}:received`;
		if (this.log.existingIds([receivedId]).size > 0) return ok({ frameId, version: this.version, duplicate: true });
		const ts = upload.ts ?? this.now();
		const settings = await this.#settings();
		const frames = this.#frames();
		const key = frames.keyOf(frameName(ts, frameId, upload.contentType));
		await frames.put(key, upload.bytes, upload.contentType, { frameId, ts: String(ts) });
		return this.execute({ meta }, (state, version) => {
			const receivedAt = this.now();
			const frame = {
				frameId,
				key,
				contentType: upload.contentType,
				bytes: upload.bytes.byteLength,
				width: upload.width,
				height: upload.height,
				receivedAt,
				ts,
				...settings,
			};
			const decided = decideCamera({ kind: "record_frame", frame }, state, { now: receivedAt, version, limits: this.limits });
			if (isRefusal(decided)) return decided;
			return {
				events: decided,
				result: (receipt): FrameAccepted => {
					const duplicate = receipt.duplicates.includes(receivedId);
					return { frameId, version: receipt.version, duplicate, ...(duplicate ? {} : { key }) };
				},
				effects: (receipt, after) => {
					if (receipt.appended.length === 0) return {};
					const timers: TimerChange[] = [
						// Every frame pushes the offline mark back, measured by the server's clock.
						{ name: HEARTBEAT_TIMER, spec: { once: receivedAt + settings.offlineAfterMs } },
						{ name: ANALYSIS_TIMER, spec: { once: this.now() } },
					];
					return this.#effects(state, receipt, after, timers);
				},
			};
		});
	}

	/**
	 * Past batches from a backfill (POST /v1/orgs/{org}/backfill), each at its end with `meta.backfilled`, each handed
	 * to the org as an interaction at its own times; the live batches, status and timers are not touched.
	 */
	backfillBatches(batches: readonly BackfilledBatch[], meta: EventMeta = {}): Outcome<{ accepted: number; duplicates: number }> {
		return this.execute({ meta: { ...meta, backfilled: true } }, (state) => {
			const events = this.#decide({ kind: "backfill", batches }, state);
			if (isRefusal(events)) return events;
			return {
				events,
				result: (receipt) => ({ accepted: receipt.appended.length, duplicates: batches.length - receipt.appended.length }),
				effects: (receipt) => ({ outbox: backfilledBatches(receipt.appended).flatMap((e) => this.#handOverBackfilled(e.data)) }),
			};
		});
	}

	/** A backfilled batch as the interaction a live batch would be, its motion time estimated as `motion` × its length. */
	#handOverBackfilled(batch: BackfilledBatch): OutboxMessage[] {
		const { org, id } = this.actor;
		const interaction: Interaction = {
			id: `camera:${id}:backfill-${batch.start}-${batch.end}`,
			source: "cctv",
			actor: { kind: "camera", id },
			startedAt: batch.start,
			endedAt: batch.end,
			summary: {
				frames: batch.frames,
				motionFrames: Math.round(batch.motion * batch.frames),
				motionMs: Math.round(batch.motion * (batch.end - batch.start)),
				peopleSeen: batch.people,
				offlineMs: 0,
				analyser: "backfill",
				closedBy: "backfill",
				lastDescription: batch.summary ?? null,
			},
		};
		return [
			{ id: `${interaction.id}>org`, target: { actor: { kind: "org", org, id: org } }, type: INTERACTION_MESSAGE, data: interaction },
			{ id: `${interaction.id}>queue`, target: { queue: "CCTV_QUEUE" }, type: INTERACTION_MESSAGE, data: { org, interaction } },
		];
	}

	protected override onTimer(
		timer: Timer,
		state: CameraState,
	): TimerPlan<CameraState, CameraProposal> | Promise<TimerPlan<CameraState, CameraProposal>> {
		switch (timer.name) {
			case HEARTBEAT_TIMER:
				return this.#plan(state, this.#decide({ kind: "check_offline", at: timer.scheduledAt }, state));
			case BATCH_TIMER: {
				const decided = this.#decide({ kind: "close_window", at: timer.scheduledAt }, state);
				// During a motion episode the window waits: the episode closes the batch when motion stops.
				const wait: TimerChange[] =
					!isRefusal(decided) && decided.length === 0 && state.batch
						? [{ name: BATCH_TIMER, spec: { once: timer.scheduledAt + this.#batchMs(state) } }]
						: [];
				return this.#plan(state, decided, wait);
			}
			case ANALYSIS_TIMER:
				return this.#analysePending();
			default:
				throw new Error(`camera has no timer "${timer.name}"`);
		}
	}

	/**
	 * Analyses the oldest pending frames in order, each against the one before it. All awaiting
	 * (R2, decoding, the model) happens first; the events are then decided on the state as it is
	 * now, with no await left before the kernel commits them, so frames that arrived meanwhile count.
	 */
	async #analysePending(): Promise<TimerPlan<CameraState, CameraProposal>> {
		const frames = this.state.pending.slice(0, FRAMES_PER_FIRING);
		if (frames.length === 0) return null;
		let previous = await this.#previousFrame();
		const results: { frameId: string; result: AnalysisResult }[] = [];
		let lastGood: PreviousFrame | null = null;
		const started = performance.now();
		for (const frame of frames) {
			if (results.length > 0 && performance.now() - started > FIRING_BUDGET_MS) break;
			const { result, grid } = await this.#analyse(frame, previous);
			results.push({ frameId: frame.frameId, result });
			// A failure that will be retried holds the frames after it back, so motion is always measured in order.
			if (!result.ok && frame.attempts + 1 < this.limits.maxAttempts) break;
			if (grid) previous = lastGood = { frameId: frame.frameId, grid };
		}
		const state = this.state;
		const events = this.#decide({ kind: "record_analyses", results }, state);
		if (isRefusal(events)) return events;
		const retry = results.find((r) => !r.result.ok);
		return {
			events,
			result: () => {
				if (lastGood) this.#previous = lastGood;
				return null;
			},
			effects: (receipt, after) => {
				const next = after.pending[0];
				const timers: TimerChange[] = [];
				if (next) {
					const delay = retry && next.frameId === retry.frameId ? backoffDelay(next.attempts) : 0;
					timers.push({ name: ANALYSIS_TIMER, spec: { once: this.now() + delay } });
				}
				return this.#effects(state, receipt, after, timers);
			},
		};
	}

	/** One frame's analysis, and the grid to compare the next frame with (null when the frame could not be decoded). */
	async #analyse(frame: PendingFrame, previous: PreviousFrame | null): Promise<{ result: AnalysisResult; grid: LumaGrid | null }> {
		// The key comes from the log, which an import could have written: only this camera's own objects are read.
		const read = await this.#frames().get(frame.key);
		if (!read.ok)
			return { result: { ok: false, analyser: this.vision.analyser, error: `the frame cannot be read: ${read.reason}` }, grid: null };
		const bytes = new Uint8Array(await read.object.arrayBuffer());
		const ai = this.env.AI;
		const outcome = await analyseFrame(
			{ bytes, format: formatOf(frame.contentType) },
			previous,
			this.vision,
			isVisionBinding(ai) ? ai : undefined,
		);
		if (outcome.ok) return { result: { ok: true, analysis: outcome.analysis }, grid: outcome.grid };
		const { fallback } = outcome;
		return {
			result: { ok: false, analyser: outcome.analyser, error: outcome.error, ...(fallback ? { fallback: fallback.analysis } : {}) },
			grid: fallback?.grid ?? null,
		};
	}

	/** The grid of the last analysed frame: from memory, or decoded again from R2 after a restart. */
	async #previousFrame(): Promise<PreviousFrame | null> {
		const last = this.state.lastAnalysis;
		if (!last) return null;
		if (this.#previous?.frameId === last.frameId) return this.#previous;
		try {
			const read = await this.#frames().get(last.key);
			if (!read.ok) return null;
			const format = formatOf(last.key.endsWith(".png") ? "image/png" : "image/jpeg");
			this.#previous = { frameId: last.frameId, grid: lumaGrid(decodeFrame(new Uint8Array(await read.object.arrayBuffer()), format)) };
			return this.#previous;
		} catch (error) {
			log("warn", "cannot rebuild the previous frame's grid", { org: this.actor.org, actorId: this.actor.id, error: errorText(error) });
			return null;
		}
	}

	/** The org's retention: frames before the cutoff go from R2, then `camera.frames_expired` records it (once per cutoff). */
	override async receive(message: ActorMessage): Promise<Outcome<{ version: number }>> {
		if (message.type !== FRAMES_EXPIRE_MESSAGE || message.from.kind !== "org" || message.from.org !== this.actor.org)
			return super.receive(message);
		const parsed = framesExpireRequest.safeParse(message.data);
		if (!parsed.success) return { ok: false, error: { kind: "invalid", detail: "the frames expiry has invalid fields", errors: [] } };
		const { before } = parsed.data;
		const objects = await this.#frames().deleteBefore(new Date(before).toISOString());
		return this.execute({ clientActionId: `~outbox:${message.id}` }, () => ({
			events: [{ id: `frames-expired:${before}`, type: "camera.frames_expired", ts: this.now(), data: { before, objects } }],
			result: (receipt) => ({ version: receipt.version }),
		}));
	}

	/** An erased camera takes its frames with it, besides its archived interactions. */
	protected override async eraseObjects(): Promise<number> {
		return (await super.eraseObjects()) + (await this.#frames().deleteAll());
	}

	/** This camera's objects in the FRAMES bucket; every frame read and write goes through it. */
	#frames(): OrgObjects {
		return cameraFrames(this.env.FRAMES, this.actor.org, this.actor.id);
	}

	/**
	 * The org's camera settings when an admin set them, else the deployment's (CAMERA_BATCH_MS,
	 * CAMERA_OFFLINE_AFTER_MS): recorded on each frame, so they apply from the next frame on.
	 */
	async #settings(): Promise<{ batchMs: number; offlineAfterMs: number }> {
		const set = await orgSettings(this.env, this.actor.org);
		return {
			batchMs: set.cameraBatchSeconds === undefined ? this.batchMs : set.cameraBatchSeconds * 1000,
			offlineAfterMs: set.cameraOfflineSeconds === undefined ? this.limits.offlineAfterMs : set.cameraOfflineSeconds * 1000,
		};
	}

	/** The batch window the last frame recorded, else the deployment's. */
	#batchMs(state: CameraState): number {
		return state.lastFrame?.batchMs ?? this.batchMs;
	}

	/** The camera's decision on the state as it is now, with the limits read from the environment. */
	#decide(command: CameraCommand, state: CameraState): CameraProposal[] | Refusal {
		return decideCamera(command, state, { now: this.now(), version: this.version, limits: this.limits });
	}

	#plan(before: CameraState, events: CameraProposal[] | Refusal, timers: TimerChange[] = []): TimerPlan<CameraState, CameraProposal> {
		if (isRefusal(events)) return events;
		if (events.length === 0 && timers.length === 0) return null;
		return { events, result: () => null, effects: (receipt, after) => this.#effects(before, receipt, after, timers) };
	}

	/** What every command's events cause besides themselves: a window timer for a newly opened batch, and the hand-over of closed ones. */
	#effects(before: CameraState, receipt: AppendReceipt, after: CameraState, timers: TimerChange[]) {
		const opened = after.batch && after.batch.number !== before.batch?.number ? after.batch : null;
		const window: TimerChange[] = opened
			? [{ name: BATCH_TIMER, spec: { once: Math.max(opened.openedAt + this.#batchMs(after), this.now()) } }]
			: [];
		const outbox = closedBatches(receipt.appended).flatMap((event) => this.#handOver(event.data.summary, event.data.reason));
		return { timers: [...timers, ...window], outbox: [...this.#statusChanges(receipt), ...outbox] };
	}

	/** Online and offline transitions, told to the org so it can list its cameras and their state. */
	#statusChanges(receipt: AppendReceipt): OutboxMessage[] {
		const { org, id } = this.actor;
		return receipt.appended
			.filter((event) => event.type === "camera.online" || event.type === "camera.offline")
			.map((event) => {
				const data: CameraStatus = { camera: id, status: event.type === "camera.online" ? "online" : "offline", at: event.ts };
				return {
					id: `camera:${id}:${event.id}>org`,
					target: { actor: { kind: "org", org, id: org } },
					type: CAMERA_STATUS_MESSAGE,
					data,
					meta: { causationId: event.id },
				};
			});
	}

	/** A closed batch as an interaction, for the org and for the CCTV batch queue; an empty one (no frames, no outage) is not sent. */
	#handOver(summary: BatchSummary, reason: string): OutboxMessage[] {
		if (summary.frames === 0 && summary.offlineMs === 0) return [];
		const { org, id } = this.actor;
		const interaction: Interaction = {
			id: `camera:${id}:batch-${summary.batch}`,
			source: "cctv",
			actor: { kind: "camera", id },
			startedAt: summary.startedAt,
			endedAt: summary.endedAt,
			summary: {
				frames: summary.frames,
				motionFrames: summary.motionFrames,
				motionMs: summary.motionMs,
				peopleSeen: summary.peopleSeen,
				offlineMs: summary.offlineMs,
				analyser: summary.analyser,
				batch: summary.batch,
				closedBy: reason,
				episode: summary.episode,
				analysed: summary.analysed,
				failed: summary.failed,
				lastDescription: summary.lastDescription,
			},
		};
		return [
			{ id: `${interaction.id}>org`, target: { actor: { kind: "org", org, id: org } }, type: INTERACTION_MESSAGE, data: interaction },
			{ id: `${interaction.id}>queue`, target: { queue: "CCTV_QUEUE" }, type: INTERACTION_MESSAGE, data: { org, interaction } },
		];
	}
}
