/** What can happen in a web session. Clients submit the page/click/custom/identify/error events; the actor adds started/ended. */
import { z } from "zod";
import { defineEvent, EventCatalog, type EventOf, type FieldError } from "./catalog.ts";
import { nestsDeeperThan, TOO_DEEP } from "./json-depth.ts";

const url = z.string().min(1).max(2048);
const props = z.record(z.string().max(128), z.json());

/** Path of a URL, or the text itself when it is already a path. Pure: no base URL, no clock. */
export function pathOf(href: string): string {
	try {
		const parsed = new URL(href);
		return parsed.pathname || "/";
	} catch {
		const path = href.split(/[?#]/)[0] ?? href;
		return path.length > 0 ? path : "/";
	}
}

export const sessionStarted = defineEvent(
	"session.started",
	z.object({
		/** 1 for the first visit; events after an end start the next visit in the same actor. */
		visit: z.number().int().positive(),
		/**
		 * How long this visit may be idle before it ends: the org's `sessionInactivitySeconds` (or the deployment's
		 * default) when it opened. Absent on visits opened before settings existed: the deployment's default applies.
		 */
		inactivityMs: z.number().int().positive().max(604_800_000).optional(),
	}),
	{ internal: true },
);

const pageViewedV1 = z.object({ url, title: z.string().max(512).optional() });

/** v2 added the path (for grouping pages without query strings) and the referrer. */
export const pageViewed = defineEvent(
	"session.page_viewed",
	z.object({
		url,
		path: z.string().min(1).max(2048),
		title: z.string().max(512).optional(),
		referrer: z.string().max(2048).optional(),
	}),
	{
		version: 2,
		unindexed: true,
		legacy: {
			1: { schema: pageViewedV1, upcast: (data: z.infer<typeof pageViewedV1>) => ({ ...data, path: pathOf(data.url) }) },
		},
	},
);

export const clicked = defineEvent(
	"session.clicked",
	z.object({
		/** CSS path of the clicked element. */
		target: z.string().min(1).max(1024),
		text: z.string().max(256).optional(),
		url: url.optional(),
		x: z.number().optional(),
		y: z.number().optional(),
	}),
	{ unindexed: true },
);

export const custom = defineEvent("session.custom", z.object({ name: z.string().min(1).max(128), props: props.optional() }), {
	unindexed: true,
});

export const identified = defineEvent("session.identified", z.object({ userId: z.string().min(1).max(256), traits: props.optional() }), {
	unindexed: true,
});

export const errored = defineEvent(
	"session.error",
	z.object({
		message: z.string().min(1).max(4096),
		stack: z.string().max(16384).optional(),
		source: z.string().max(2048).optional(),
		url: url.optional(),
	}),
	{ unindexed: true },
);

export const visitSummary = z.object({
	visit: z.number().int().positive(),
	startedAt: z.number().int(),
	lastEventAt: z.number().int(),
	durationMs: z.number().int().nonnegative(),
	events: z.number().int().nonnegative(),
	pageViews: z.number().int().nonnegative(),
	clicks: z.number().int().nonnegative(),
	pages: z.array(z.string()),
	customEvents: z.record(z.string(), z.number().int()),
	/** Clicks per CSS target (the 50 most clicked); absent on visits ended before it was added. */
	clickTargets: z.record(z.string(), z.number().int()).optional(),
	errors: z.number().int().nonnegative(),
	userId: z.string().nullable(),
	/** Present when pages, custom names or click targets were left out for being over a cap. */
	truncated: z.boolean().optional(),
});
export type VisitSummary = z.infer<typeof visitSummary>;

export const sessionEnded = defineEvent("session.ended", z.object({ reason: z.enum(["inactivity"]), summary: visitSummary }), {
	internal: true,
});

/**
 * The SDK's types (every one a client may send) are `unindexed`: they are most of a session's log and no code reads
 * them by type, so the log's type index leaves them out (src/actors/type-index.ts).
 */
export const sessionCatalog = new EventCatalog([sessionStarted, pageViewed, clicked, custom, identified, errored, sessionEnded]);

/** Types a client (SDK, socket) may submit: every type but the actor's own (`internal: true` in the catalog). */
export type ClientSessionType = Exclude<EventOf<typeof sessionCatalog>["type"], "session.started" | "session.ended">;
export const CLIENT_SESSION_EVENT_TYPES = sessionCatalog.types.filter((type) => !sessionCatalog.get(type)?.internal);
const clientTypes = new Set(CLIENT_SESSION_EVENT_TYPES);
export const isClientSessionType = (type: string): type is ClientSessionType => clientTypes.has(type);

/** Event ids: UUIDv7 from the SDK, or any id of these characters. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const MAX_BATCH_EVENTS = 500;
/** Client action ids start with a letter or digit; the kernel's own (outbox deliveries) start with `~`. */
export const CLIENT_ACTION_ID_PATTERN = EVENT_ID_PATTERN;

/**
 * The window a client event's `ts` must fall in, around the server's clock: at most an hour ahead (as camera
 * frames), and not before 2000-01-01 (backfills of older data are not web sessions).
 */
export const MAX_EVENT_TS_AHEAD_MS = 60 * 60_000;
export const MIN_EVENT_TS = Date.UTC(2000, 0, 1);

/** How far back a backfill may reach (POST /v1/orgs/{org}/backfill): 400 days, a year and a bit. */
export const MAX_BACKFILL_AGE_MS = 400 * 86_400_000;

/** One error per backfilled event whose `ts` is not in the past, or is more than MAX_BACKFILL_AGE_MS before `now`. */
export function backfillTimeErrors(events: readonly { ts: number; at?: string }[], now: number): FieldError[] {
	const errors: FieldError[] = [];
	events.forEach((event, i) => {
		const path = `${event.at ?? `events[${i}]`}.ts`;
		if (event.ts > now) errors.push({ path, message: "is in the future; a backfill takes past events only" });
		else if (event.ts < now - MAX_BACKFILL_AGE_MS) errors.push({ path, message: "is more than 400 days ago" });
	});
	return errors;
}

/** One error per event whose `ts` is outside the window at server time `now`. */
export function eventTimeErrors(events: readonly { ts: number; at?: string }[], now: number): FieldError[] {
	const errors: FieldError[] = [];
	events.forEach((event, i) => {
		const path = `${event.at ?? `events[${i}]`}.ts`;
		if (event.ts > now + MAX_EVENT_TS_AHEAD_MS) errors.push({ path, message: "is more than an hour ahead of the server's clock" });
		else if (event.ts < MIN_EVENT_TS) errors.push({ path, message: "is before 2000-01-01T00:00:00Z" });
	});
	return errors;
}

/** One event as a client submits it; its data is checked against its type's schema by the actor. */
export const clientSessionEventInput = z.object({
	id: z.string().regex(EVENT_ID_PATTERN, "must be 1-128 letters, digits or . _ : - (a UUIDv7 fits)"),
	type: z.enum(CLIENT_SESSION_EVENT_TYPES as [string, ...string[]]),
	ts: z.number().int().nonnegative(),
	v: z.number().int().positive().optional(),
	data: z.record(z.string(), z.unknown()).refine((data) => !nestsDeeperThan(data), TOO_DEEP),
});

export const sessionBatchInput = z.object({
	events: z.array(clientSessionEventInput).min(1).max(MAX_BATCH_EVENTS),
	clientActionId: z.string().regex(CLIENT_ACTION_ID_PATTERN, "must be 1-128 letters, digits or . _ : - (a UUID fits)").optional(),
	expectedVersion: z.number().int().nonnegative().optional(),
});
export type SessionBatchInput = z.infer<typeof sessionBatchInput>;
