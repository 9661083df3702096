/**
 * Erasure of a data subject, as the org records it: who asked, when, what kinds of records, and counts. Never
 * the subject itself (a user id, or the ids of the actors erased): the record of an erasure holds no personal data.
 */
import { z } from "zod";
import { defineEvent } from "./catalog.ts";

/**
 * What an erasure is asked for: every record of a user id, or one actor by id; `retention`: the actors past the
 * org's data policy (src/actors/org-retention.ts); `org`: every actor of an org being deleted.
 */
export const ERASURE_SUBJECTS = ["user", "session", "camera", "chat", "retention", "org"] as const;
export type ErasureSubject = (typeof ERASURE_SUBJECTS)[number];

const count = z.number().int().nonnegative();

export const erasureRequested = defineEvent(
	"org.erasure_requested",
	z.object({
		erasure: z.string().min(1).max(64),
		subject: z.enum(ERASURE_SUBJECTS),
		/** Actors to erase (web sessions, a camera, a chat): each is one step. */
		actors: count,
		/** Subject keys to shred in the org's own records (one per user id and actor the org sealed it for): one step for all. */
		keys: count,
		/** The key id that asked (never a user id). */
		requestedBy: z.string().max(128).nullable(),
	}),
	{ internal: true },
);

/** One step of an erasure finished: an actor's storage cleared and its R2 objects deleted, or a subject key shredded. */
export const erasureStepDone = defineEvent(
	"org.erasure_step_done",
	z.object({
		erasure: z.string().min(1).max(64),
		step: count,
		part: z.enum(["actor", "key"]),
		/** R2 objects deleted by this step. */
		objects: count,
		/** Subject keys shredded by this step. */
		keys: count,
		/** The actor's database size right after it was cleared: EMPTY_DATABASE_BYTES, a SQLite file with no table. */
		bytesLeft: count,
	}),
	{ internal: true },
);

/**
 * A subject access request answered (`POST /v1/orgs/{org}/subject-exports`): who asked and how many sessions the
 * export covered. Like an erasure's record, never the subject: no user id, not even its hash.
 */
export const subjectExported = defineEvent(
	"org.subject_exported",
	z.object({
		export: z.string().min(1).max(64),
		/** Sessions the org's records tie to the user id (every page of the export, not only this one). */
		sessions: count,
		/** The key id that asked (never a user id). */
		requestedBy: z.string().max(128).nullable(),
	}),
	{ internal: true },
);

/** The size of a Durable Object's SQLite database with no table in it: its one header page. */
export const EMPTY_DATABASE_BYTES = 4096;

/** The message an org's outbox sends an actor to erase it entirely; the actor answers with ERASURE_STEP_MESSAGE. */
export const ERASE_MESSAGE = "erase";
export const ERASURE_STEP_MESSAGE = "erasure_step";
export const eraseRequest = z.object({
	erasure: z.string().min(1).max(64),
	step: count,
	/** Retention with `archiveSessions`: the actor's events go to R2 as NDJSON before its storage is cleared. */
	archive: z.boolean().optional(),
});
export const erasureStepReport = z.object({ erasure: z.string().min(1).max(64), step: count, objects: count, bytesLeft: count });
/** Steps of an erasure: one per actor, and one for the subject keys when there are any. */
export const erasureSteps = (actors: number, keys: number) => actors + (keys > 0 ? 1 : 0);
export type ErasureStepReport = z.infer<typeof erasureStepReport>;
