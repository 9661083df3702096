/** An interaction: one finished unit of customer contact (a web visit, a camera episode, a chat), as the org receives it. */
import { z } from "zod";

export const INTERACTION_SOURCES = ["web", "cctv", "chat"] as const;

export const interactionSchema = z.object({
	/** Stable: derived from the actor and the visit/episode, so a re-sent interaction is recognised. */
	id: z.string().min(1).max(190),
	source: z.enum(INTERACTION_SOURCES),
	actor: z.object({ kind: z.enum(["session", "camera", "chat"]), id: z.string().min(1).max(128) }),
	startedAt: z.number().int(),
	endedAt: z.number().int(),
	summary: z.record(z.string(), z.json()),
});
export type Interaction = z.infer<typeof interactionSchema>;

/** The shapes summaries hold in practice, for types that cross RPC (which cannot map recursive JSON). */
export type SummaryValue = string | number | boolean | null | string[] | Record<string, number>;
export type Summary = Record<string, SummaryValue>;

/** The message type an actor's outbox uses to hand an interaction to its org and to the queue. */
export const INTERACTION_MESSAGE = "interaction";

/** The message a session sends its org when a visit starts, so the org knows which sessions are active. */
export const VISIT_STARTED_MESSAGE = "visit_started";
export const visitStartedSchema = z.object({
	session: z.string().min(1).max(128),
	visit: z.number().int().positive(),
	startedAt: z.number().int(),
});
export type VisitStarted = z.infer<typeof visitStartedSchema>;

/** The message a camera sends its org when it comes online or goes offline, so the org can list its cameras. */
export const CAMERA_STATUS_MESSAGE = "camera_status";
export const cameraStatusSchema = z.object({
	camera: z.string().min(1).max(128),
	status: z.enum(["online", "offline"]),
	at: z.number().int(),
});
export type CameraStatus = z.infer<typeof cameraStatusSchema>;

/** The id of the interaction a web visit becomes when it ends. */
export const visitInteractionId = (session: string, visit: number) => `session:${session}:visit-${visit}`;
