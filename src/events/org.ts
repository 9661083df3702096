/** What can happen to an org: its creation, its API keys, and the interactions its actors hand over. */
import { z } from "zod";
import { defineEvent, EventCatalog } from "./catalog.ts";
import { interactionSchema } from "./interaction.ts";

const keyId = z.string().min(1).max(128);
const clientActionId = z.string().min(1).max(128);

export const orgCreated = defineEvent(
	"org.created",
	z.object({
		name: z.string().min(1).max(200),
		/** The admin action that created the org; a retry of it replaces the key it issued instead of failing. */
		clientActionId: clientActionId.optional(),
	}),
	{ internal: true },
);

/** A new API key. Only the SHA-256 of the key is ever stored: the key itself is shown once, to its creator. */
export const keyCreated = defineEvent(
	"org.key_created",
	z.object({
		keyId,
		/** Lowercase hex SHA-256 of the whole key text. */
		hash: z.string().regex(/^[0-9a-f]{64}$/),
		label: z.string().min(1).max(100).optional(),
		/** The action that asked for the key; a retry of it revokes this key and issues a fresh one. */
		clientActionId: clientActionId.optional(),
	}),
	{ internal: true },
);

/** A revoked key stops opening the org's routes from the moment this event is appended. */
export const keyRevoked = defineEvent("org.key_revoked", z.object({ keyId }), { internal: true });

/** An interaction handed over by one of the org's actors (a web visit, a camera episode, a chat). Its id is the interaction's id. */
export const interactionRecorded = defineEvent("org.interaction_recorded", interactionSchema, { internal: true });

export const orgCatalog = new EventCatalog([orgCreated, keyCreated, keyRevoked, interactionRecorded]);
