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
