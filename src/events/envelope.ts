/** The event envelope: what every read and every WebSocket push carries (docs/events.md, "The envelope"). */
import type { BuiltinKind } from "../kinds.ts";

/** Roost's own actor kinds, as src/kinds.ts names them. */
export type ActorKind = BuiltinKind;

export interface ActorRef {
	kind: ActorKind;
	org: string;
	id: string;
}

/** Who a request acted as: an API key (by id, never the key itself) or a member of the org (by email). */
export type Principal = { kind: "key"; id: string } | { kind: "member"; email: string };

export interface EventMeta {
	/** The key or member on whose behalf the event was appended (the audit trail: docs/api.md, "Audit"). */
	principal?: Principal;
	correlationId?: string;
	causationId?: string;
	/** Made by the server for the request that wrote the event. */
	requestId?: string;
	/** The caller's own X-Request-Id, when it was a plausible id: kept apart, never trusted as requestId. */
	clientRequestId?: string;
	clientActionId?: string;
	operationId?: string;
	/** The actor whose event caused this one (`<kind>:<id>` in the same org); set on events from outbox messages. */
	causationActor?: string;
	/** Set on events that came in through POST /v1/orgs/{org}/backfill: past data, not live. */
	backfilled?: true;
	/**
	 * When the server accepted the batch (ms since the epoch, its own clock): set on web session events, whose `ts` is
	 * the client's. A visit's inactivity runs from it (src/actors/session.ts).
	 */
	receivedAt?: number;
}

export const META_KEYS = [
	"correlationId",
	"causationId",
	"requestId",
	"clientRequestId",
	"clientActionId",
	"operationId",
	"causationActor",
] as const satisfies readonly (keyof EventMeta)[];

/** An event a reducer sees: already validated and lifted to its type's current version. */
export interface RecordedEvent<T extends string = string, D = unknown> {
	seq: number;
	id: string;
	type: T;
	v: number;
	ts: number;
	data: D;
	meta: EventMeta;
}

/** The public envelope: a recorded event plus the actor it belongs to and its chain hash. */
export interface EventEnvelope<T extends string = string, D = unknown> extends RecordedEvent<T, D> {
	actor: ActorRef;
	hash: string;
	/** Present when the actor hid part of the data from readers: the hash covers the stored data, not this one. */
	redacted?: true;
}

/** An event a decider proposes; the kernel gives it seq, meta and hash when it is appended. */
export interface ProposedEvent<T extends string = string, D = unknown> {
	id: string;
	type: T;
	/** Schema version the data is written in; defaults to the type's current version. */
	v?: number;
	ts: number;
	data: D;
	meta?: EventMeta;
	/** Where this event sits in the caller's input (e.g. `events[3]`), so errors name the field. Not stored. */
	at?: string;
}

/**
 * Event ids an actor derives from another id or a counter start with `~`, which no client id may (client
 * ids start with a letter or digit), so a client can never take an id the actor will need later.
 * Logs written before this keep their old ids (`<id>:started`, `visit-<n>:ended`); they are never rewritten.
 */
export const DERIVED_ID_PREFIX = "~";
export const derivedId = (name: string): string => `${DERIVED_ID_PREFIX}${name}`;

/** Keeps only the meta keys that carry a value, so stored meta stays small and stable. */
export function compactMeta(meta: EventMeta | undefined): EventMeta {
	const out: EventMeta = {};
	if (!meta) return out;
	for (const key of META_KEYS) {
		const value = meta[key];
		if (typeof value === "string" && value.length > 0) out[key] = value;
	}
	const principal = principalOf(meta.principal);
	if (principal) out.principal = principal;
	if (meta.backfilled === true) out.backfilled = true;
	if (typeof meta.receivedAt === "number" && Number.isSafeInteger(meta.receivedAt) && meta.receivedAt >= 0)
		out.receivedAt = meta.receivedAt;
	return out;
}

/** A well-formed principal, copied with only its own fields, or undefined. */
export function principalOf(value: unknown): Principal | undefined {
	if (value === null || typeof value !== "object") return undefined;
	const { kind, id, email } = value as Record<string, unknown>;
	if (kind === "key" && typeof id === "string" && id.length > 0 && id.length <= 128) return { kind, id };
	if (kind === "member" && typeof email === "string" && email.length > 0 && email.length <= 254) return { kind, email };
	return undefined;
}
