/**
 * An org's data policy (docs/privacy.md): how long ended sessions, chats, camera frames (and their analyses) and the
 * org's interaction records are kept, and whether an ended session is archived to R2 before it goes. And the
 * deletion of the whole org. Neither holds personal data: days, a flag, counts, the key id that asked.
 */
import { z } from "zod";
import { defineEvent } from "./catalog.ts";

/** The longest any retention may be set to: ten years. */
export const MAX_RETENTION_DAYS = 3650;
const days = z.number().int().min(1).max(MAX_RETENTION_DAYS);

export const dataPolicySchema = z.object({
	/** Days an ended web session is kept after its last visit ended. */
	sessionsDays: days,
	/** Days a chat is kept after its last interaction. */
	chatsDays: days,
	/** Days a camera frame (and its analysis) is kept after it was received. */
	framesDays: days,
	/** Days the org's own interaction records are kept (applied by log compaction). */
	interactionsDays: days,
	/** Whether an ended session's events go to R2 (`sessions/<org>/<session>.ndjson`) before it is erased. */
	archiveSessions: z.boolean(),
});
export type DataPolicy = z.infer<typeof dataPolicySchema>;

/** What an org keeps until an admin sets its policy (docs/privacy.md, "Retention"). */
export const DEFAULT_POLICY: DataPolicy = {
	sessionsDays: 90,
	chatsDays: 90,
	framesDays: 30,
	interactionsDays: 365,
	archiveSessions: false,
};

export const policySet = defineEvent("org.policy_set", dataPolicySchema.extend({ setBy: z.string().max(128).nullable() }), {
	internal: true,
});

/** The org is being deleted: every actor of it is erased by erasure `erasure`; its keys open nothing from now on. */
export const deletionRequested = defineEvent(
	"org.deletion_requested",
	z.object({ erasure: z.string().min(1).max(64), requestedBy: z.string().max(128).nullable() }),
	{ internal: true },
);

/** The org's actors and R2 objects are gone: the tombstone, the only event of the org's log from then on. */
export const orgDeleted = defineEvent(
	"org.deleted",
	z.object({
		name: z.string().max(200),
		createdAt: z.number().int().nullable(),
		requestedAt: z.number().int(),
		actorsErased: z.number().int().nonnegative(),
		objectsDeleted: z.number().int().nonnegative(),
	}),
	{ internal: true },
);

export const POLICY_EVENTS = [policySet, deletionRequested, orgDeleted] as const;
