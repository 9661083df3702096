/**
 * What keeps a WebSocket honest after its upgrade (docs/api.md, "WebSocket limits"): the key it was opened
 * with must stay live, it lives at most a day, and its frames spend a budget like HTTP requests do. Pure
 * functions and constants; the kernel (actor.ts) applies them.
 */
import type { KeyRole } from "../events/org.ts";

/**
 * Set by the Worker (never taken from the client) on every socket it opens: `<role> <key id>` of the key or
 * ticket that opened it. The actor keeps it in the socket's attachment and re-checks the key while it is open.
 */
export const SOCKET_KEY_HEADER = "x-roost-socket-key";

export interface SocketKey {
	id: string;
	role: KeyRole;
}

export function parseSocketKey(header: string | null): SocketKey | undefined {
	const match = /^(admin|analyst|viewer|ingest) (\S{1,300})$/.exec(header ?? "");
	return match ? { role: match[1] as KeyRole, id: match[2] as string } : undefined;
}

export const socketKeyHeader = (key: SocketKey): string => `${key.role} ${key.id}`;

/** A socket's key is asked of the org again when its last answer is older than this, and on a timer this often. */
export const KEY_CHECK_EVERY_MS = 30_000;
/** A socket is closed (code 4000, reconnect) once it has been open this long. */
export const MAX_SOCKET_LIFETIME_MS = 24 * 60 * 60_000;
/** Sockets one key may hold open on one actor; the next upgrade is refused with 429. */
export const MAX_SOCKETS_PER_KEY = 20;

export const CLOSE = {
	/** The socket reached its lifetime: reconnect (a fresh check of the key). */
	lifetime: { code: 4000, reason: "socket lifetime reached: reconnect" },
	/** The key was revoked, expired or is unknown. */
	revoked: { code: 4001, reason: "key revoked" },
	/** The key is live with another role than the socket was opened with. */
	roleChanged: { code: 4003, reason: "key role changed: reconnect" },
	/** The client kept sending past its budget. */
	tooManyMessages: { code: 4008, reason: "too many messages" },
} as const;

/** A token bucket: `tokens` left at instant `at` (ms). */
export interface Bucket {
	tokens: number;
	at: number;
}

export interface Rate {
	/** Most frames in a burst. */
	burst: number;
	perSecond: number;
}

/** Per socket: the HTTP per-address limit (600 a minute, wrangler.jsonc), as a bucket of 600 refilled at 10 a second. */
export const SOCKET_RATE: Rate = { burst: 600, perSecond: 10 };
/** Per key on one actor, all its sockets together: the HTTP per-key limit (6,000 a minute), refilled at 100 a second. */
export const KEY_RATE: Rate = { burst: 6000, perSecond: 100 };
/** Frames refused in a row (429 frames) before the socket is closed with 4008. */
export const MAX_REFUSED_IN_A_ROW = 100;

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterSeconds: number };

/** Spends one token from `bucket` (a full one when there is none yet), refilled for the time since it was last used. */
export function takeToken(bucket: Bucket | undefined, rate: Rate, now: number): Take {
	const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
	const tokens = bucket ? Math.min(rate.burst, bucket.tokens + (elapsed * rate.perSecond) / 1000) : rate.burst;
	if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
	return { ok: false, bucket: { tokens, at: now }, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate.perSecond)) };
}

/** What a socket remembers across hibernation (partyserver keeps it in the socket's attachment; it stays far under 2 KB). */
export interface SocketState {
	/** The seq it was caught up to on connect (every later commit is pushed to it); absent while it is still in onConnect, and on a send-only socket. */
	cursor?: number;
	sendOnly?: true;
	/** The key that opened it (absent on sockets opened inside the system, without the Worker). */
	key?: SocketKey;
	openedAt?: number;
	budget?: Bucket;
	/** Frames refused in a row for the budget. */
	refused?: number;
}
