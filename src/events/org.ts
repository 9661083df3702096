/** What can happen to an org: its creation, its API keys, the interactions its actors hand over, and its rollups, patterns and reports. */
import { z } from "zod";
import { PATTERN_TYPES } from "../patterns/detect.ts";
import { DURATION_BUCKETS_MS, type Metrics } from "../patterns/metrics.ts";
import { PERIODS } from "../patterns/windows.ts";
import { defineEvent, EventCatalog } from "./catalog.ts";
import { erasureRequested, erasureStepDone, subjectExported } from "./erasure.ts";
import { cameraStatusSchema, interactionSchema, visitStartedSchema } from "./interaction.ts";
import { POLICY_EVENTS } from "./org-policy.ts";
import { SETTINGS_EVENTS } from "./org-settings.ts";
import { WEBHOOK_EVENTS } from "./org-webhooks.ts";

const keyId = z.string().min(1).max(128);

/**
 * What a key (or a member) may do; each route declares the least role it needs (src/http/roles.ts).
 * `admin`: everything, keys and members included. `analyst`: every read, sockets, MCP, chats, ad hoc rollups,
 * sandboxes, forks and imports. `viewer`: reads, sockets and MCP only. `ingest`: only send events in (web session
 * batches, camera frames), for keys that ship inside public web pages or devices; it reads nothing.
 */
export const KEY_ROLES = ["admin", "analyst", "viewer", "ingest"] as const;
export type KeyRole = (typeof KEY_ROLES)[number];
/** Version 1 of `org.key_created` had a scope instead of a role: `full` (or none) is today's `admin`. */
const LEGACY_SCOPES = ["full", "ingest"] as const;
const clientActionId = z.string().min(1).max(128);

/** How far before its creation an org's history may start (`historyFrom`): as far back as a backfill may reach. */
export const MAX_HISTORY_AGE_MS = 400 * 86_400_000;

export const orgCreated = defineEvent(
	"org.created",
	z.object({
		name: z.string().min(1).max(200),
		/** The admin action that created the org; a retry of it replaces the key it issued instead of failing. */
		clientActionId: clientActionId.optional(),
		/**
		 * Where the org's rollups start, when before its creation (ms): history backfilled later rolls up into its own
		 * windows from here on instead of counting as late. Absent: rollups start at the creation.
		 */
		historyFrom: z.number().int().nonnegative().optional(),
	}),
	{ internal: true },
);

const keyCreatedV1 = z.object({
	keyId,
	hash: z.string().regex(/^[0-9a-f]{64}$/),
	label: z.string().min(1).max(100).optional(),
	clientActionId: clientActionId.optional(),
	/** Absent on keys created before scopes existed, and on full keys: both are `full`. */
	scope: z.enum(LEGACY_SCOPES).optional(),
});

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
		role: z.enum(KEY_ROLES),
		/** From this instant (ms since the epoch) the key answers 401, like a revoked one. */
		expiresAt: z.number().int().positive().optional(),
	}),
	{
		internal: true,
		version: 2,
		legacy: {
			// Stored v1 events keep folding: a full key is an admin key, an ingest key stays ingest.
			1: {
				schema: keyCreatedV1,
				upcast: ({ scope, ...rest }: z.infer<typeof keyCreatedV1>) => ({ ...rest, role: scope === "ingest" ? "ingest" : "admin" }),
			},
		},
	},
);

/** A revoked key stops opening the org's routes from the moment this event is appended. */
export const keyRevoked = defineEvent("org.key_revoked", z.object({ keyId }), { internal: true });

/** The roles a person can hold (a member signs in through Cloudflare Access): `ingest` is for keys only. */
export const MEMBER_ROLES = ["admin", "analyst", "viewer"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
/** Members are known by the email Cloudflare Access signs, compared lowercased. */
export const memberEmail = z.string().trim().toLowerCase().min(3).max(254).pipe(z.email());

/** A person joined the org with a role, or a member's role changed. */
export const memberAdded = defineEvent("org.member_added", z.object({ email: memberEmail, role: z.enum(MEMBER_ROLES) }), {
	internal: true,
});

/** A member left the org: their Access identity opens nothing from this event on. */
export const memberRemoved = defineEvent("org.member_removed", z.object({ email: memberEmail }), { internal: true });

/** A web visit started: the org's directory lists the session as active until the visit's interaction arrives. */
export const visitStarted = defineEvent("org.visit_started", visitStartedSchema, { internal: true });

/** A camera came online or went offline: the org's list of cameras follows. */
export const cameraStatusChanged = defineEvent("org.camera_status", cameraStatusSchema, { internal: true });

/** An interaction handed over by one of the org's actors (a web visit, a camera episode, a chat). Its id is the interaction's id. */
export const interactionRecorded = defineEvent("org.interaction_recorded", interactionSchema, { internal: true });

const count = z.number().int().nonnegative();
const counts = z.record(z.string(), count);
const window = { start: z.number().int(), end: z.number().int() };
const period = z.enum(PERIODS);

/** Rollup metrics (src/patterns/metrics.ts): every field merges by addition. */
export const metricsSchema = z.object({
	interactions: count,
	bySource: z.object({ web: count, cctv: count, chat: count }),
	web: z.object({
		sessions: count,
		events: count,
		pageViews: count,
		clicks: count,
		errors: count,
		durations: z.array(count).length(DURATION_BUCKETS_MS.length),
		pages: counts,
		clickTargets: counts,
	}),
	cctv: z.object({ episodes: count, frames: count, motionFrames: count, motionMs: count, peopleSeen: count, offlineMs: count }),
	chat: z.object({ conversations: count, messages: count, toolCalls: counts }),
	late: count,
}) satisfies z.ZodType<Metrics>;

/** One window of one period rolled up; the next period up is built from these, not from raw interactions. */
export const rollupCompleted = defineEvent(
	"org.rollup_completed",
	z.object({
		period,
		...window,
		metrics: metricsSchema,
		builtFrom: z.object({ period: z.enum([...PERIODS, "interactions"]), count }),
	}),
	{ internal: true },
);

/** A pattern found in a rollup by deterministic code (src/patterns/detect.ts). */
export const patternDetected = defineEvent(
	"org.pattern_detected",
	z.object({
		id: z.string(),
		type: z.enum(PATTERN_TYPES),
		period,
		window: z.object(window),
		source: z.enum(["web", "cctv", "chat", "all"]),
		metric: z.string(),
		value: z.number(),
		confidence: z.number().min(0).max(1),
		baseline: z.object({ mean: z.number(), std: z.number(), n: count, from: z.number().int().nullable(), to: z.number().int().nullable() }),
		detail: z.string(),
	}),
	{ internal: true },
);

/** A written report on one rollup: by a model when one is configured, else built from the same metrics and labelled so. */
export const reportWritten = defineEvent(
	"org.report_written",
	z.object({
		period,
		...window,
		provider: z.string(),
		report: z.object({ headline: z.string(), highlights: z.array(z.string()), concerns: z.array(z.string()) }),
	}),
	{ internal: true },
);

export const orgCatalog = new EventCatalog([
	orgCreated,
	keyCreated,
	keyRevoked,
	visitStarted,
	cameraStatusChanged,
	interactionRecorded,
	rollupCompleted,
	patternDetected,
	reportWritten,
	// Webhook endpoints: src/events/org-webhooks.ts.
	...WEBHOOK_EVENTS,
	memberAdded,
	memberRemoved,
	erasureRequested,
	erasureStepDone,
	subjectExported,
	// The data policy and the org's deletion: src/events/org-policy.ts.
	...POLICY_EVENTS,
	// The org's operating settings: src/events/org-settings.ts.
	...SETTINGS_EVENTS,
]);
