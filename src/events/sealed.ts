/**
 * The shape of a sealed personal field in the org's records (src/actors/subject-keys.ts seals and opens them): pure, so
 * a projection (src/reducers/org-projections.ts) can read which subject a stored value was sealed for without a key.
 */

/** `~sealed:v1:<subject>:<base64url of iv, tag and ciphertext>`. */
export const SEALED_PREFIX = "~sealed:v1:";
export const SEALED = /^~sealed:v1:([0-9a-f-]{36}):([A-Za-z0-9_-]+)$/;

/** The subject a sealed value was sealed for, or null for a value that is not sealed. */
export function sealedSubject(value: unknown): string | null {
	return typeof value === "string" ? (SEALED.exec(value)?.[1] ?? null) : null;
}
