/**
 * API keys remembered in this isolate, so a steady stream of requests with one key asks its org actor at most once
 * per KEY_CACHE_MS. A live key is kept KEY_CACHE_MS with its `expiresAt`, checked here on every request, so an
 * expired key is refused at once; a key revoked in another isolate keeps working here for at most KEY_CACHE_MS. An
 * unknown key is kept FAILED_KEY_CACHE_MS only, so a key made in another isolate works within that; the isolate that
 * creates or revokes a key forgets what it knew at once (keyCreated, keyRevoked). Concurrent lookups of one key share
 * one RPC. Both maps drop their oldest answers first when full (Map keeps insertion order). docs/api.md, "How keys
 * are checked".
 */
import type { KeyRole } from "../events/org.ts";

/** How long a live key is trusted without asking its org actor again. */
export const KEY_CACHE_MS = 10_000;
/** How long a key that is not live is refused without asking again. */
export const FAILED_KEY_CACHE_MS = 1_000;
export const MAX_CACHED_KEYS = 10_000;
export const MAX_FAILED_KEYS = 1_000;

export interface LiveKey {
	keyId: string;
	role: KeyRole;
	expiresAt: number | null;
}
export interface CachedKey {
	org: string;
	keyId: string;
	role: KeyRole;
}

const live = new Map<string, LiveKey & { org: string; until: number }>();
const failed = new Map<string, { org: string; until: number }>();
const inFlight = new Map<string, Promise<LiveKey | null>>();
/** Bumped by every forgetting, so an answer asked for before it is not remembered after it. */
let generation = 0;

/** The key with this hash (a key of `org`), from memory or from `ask` (the org actor's authenticate), or null. */
export async function cachedKey(org: string, hash: string, ask: () => Promise<LiveKey | null>): Promise<CachedKey | null> {
	const now = Date.now();
	const known = live.get(hash);
	if (known && known.until > now) return usable(known, now);
	const refused = failed.get(hash);
	if (refused && refused.until > now) return null;
	let pending = inFlight.get(hash);
	if (!pending) {
		pending = lookUp(org, hash, ask);
		inFlight.set(hash, pending);
	}
	const key = await pending;
	return key ? usable({ ...key, org }, Date.now()) : null;
}

async function lookUp(org: string, hash: string, ask: () => Promise<LiveKey | null>): Promise<LiveKey | null> {
	const asked = generation;
	try {
		const key = await ask();
		if (asked === generation) remember(org, hash, key, Date.now());
		return key;
	} finally {
		if (asked === generation) inFlight.delete(hash);
	}
}

function usable(key: LiveKey & { org: string }, now: number): CachedKey | null {
	if (key.expiresAt !== null && now >= key.expiresAt) return null;
	return { org: key.org, keyId: key.keyId, role: key.role };
}

function remember(org: string, hash: string, key: LiveKey | null, now: number): void {
	live.delete(hash);
	failed.delete(hash);
	if (key) {
		live.set(hash, { ...key, org, until: now + KEY_CACHE_MS });
		if (live.size > MAX_CACHED_KEYS) live.delete(live.keys().next().value as string);
	} else {
		failed.set(hash, { org, until: now + FAILED_KEY_CACHE_MS });
		if (failed.size > MAX_FAILED_KEYS) failed.delete(failed.keys().next().value as string);
	}
}

/** Called where a key of `org` is created: this isolate forgets the org's refused keys, so the new one works at once. */
export function keyCreated(org: string): void {
	forget((entry) => entry.org === org, failed);
}

/** Called where a key of `org` is revoked: this isolate forgets it, so it is refused at once. */
export function keyRevoked(org: string, keyId: string): void {
	forget((entry) => entry.org === org && entry.keyId === keyId, live);
}

function forget<T extends { org: string }>(matches: (entry: T) => boolean, map: Map<string, T>): void {
	generation++;
	// Lookups under way may have been answered before the change: their answers are not remembered (see lookUp).
	inFlight.clear();
	for (const [hash, entry] of map) if (matches(entry)) map.delete(hash);
}

/** Forgets every key of `org` in this isolate: the org is being deleted (other isolates within KEY_CACHE_MS). */
export function orgKeysDropped(org: string): void {
	forget((entry) => entry.org === org, live);
}
