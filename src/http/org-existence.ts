/**
 * Whether an org exists, asked of the registry and remembered in this isolate, so a key naming a made-up org is
 * refused without waking (and so creating) a Durable Object for it. Orgs are never deleted, so a yes is kept long; a
 * no is kept briefly, since another isolate may be creating that org right now (this one learns of its own at once).
 */
import { REGISTRY_NAME } from "../actors/registry.ts";
import type { Env } from "../env.ts";

export const KNOWN_ORG_TTL_MS = 10 * 60_000;
export const UNKNOWN_ORG_TTL_MS = 5_000;
/** Most orgs remembered; past it the oldest answers are dropped first (Map keeps insertion order). */
export const MAX_REMEMBERED_ORGS = 10_000;

const remembered = new Map<string, { exists: boolean; until: number }>();

export async function orgExists(env: Env, org: string): Promise<boolean> {
	const now = Date.now();
	const known = remembered.get(org);
	if (known && known.until > now) return known.exists;
	const exists = await env.REGISTRY.getByName(REGISTRY_NAME).hasOrg(org);
	remember(org, exists, now);
	return exists;
}

/** Called where an org is created, so its first key works at once in this isolate. */
export function orgCreated(org: string): void {
	remember(org, true, Date.now());
}

function remember(org: string, exists: boolean, now: number): void {
	remembered.delete(org);
	remembered.set(org, { exists, until: now + (exists ? KNOWN_ORG_TTL_MS : UNKNOWN_ORG_TTL_MS) });
	if (remembered.size > MAX_REMEMBERED_ORGS) remembered.delete(remembered.keys().next().value as string);
}
