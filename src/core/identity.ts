/** How an actor is named inside its Durable Object namespace: `<org>:<id>`, so orgs never share an object. */
import type { ActorKind, ActorRef } from "../events/envelope.ts";

/** Ids in paths: letters, digits, and . _ - after the first character (no `:`, the name separator); UUIDs fit. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function actorName(org: string, id: string): string {
	return `${org}:${id}`;
}

export function parseActorName(kind: ActorKind, name: string): ActorRef {
	const at = name.indexOf(":");
	if (at <= 0 || at === name.length - 1) throw new Error(`"${name}" is not an actor name of the form <org>:<id>`);
	return { kind, org: name.slice(0, at), id: name.slice(at + 1) };
}

/** Sockets and rate limits know a member (signed in through Cloudflare Access) by this id, beside key ids (`key_…`). */
export const MEMBER_KEY_PREFIX = "member:";
export const memberKeyId = (email: string): string => `${MEMBER_KEY_PREFIX}${email.toLowerCase()}`;
