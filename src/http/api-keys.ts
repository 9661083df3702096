/**
 * API keys: `rk_<org>.<secret>`, where the secret is 32 random bytes in base64url (256 bits). The org
 * in the key says which org actor to ask; only that actor can say whether the key is good, and it
 * holds only the key's SHA-256.
 */
import { ID_PATTERN } from "../core/identity.ts";
import type { KeyRole } from "../events/org.ts";
import type { NewKey } from "../reducers/org.ts";

const PREFIX = "rk_";
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface MintedKey extends NewKey {
	/** The key itself: shown once, to its creator, and stored nowhere. */
	apiKey: string;
}

export async function mintApiKey(org: string, role: KeyRole, options: { label?: string; expiresAt?: number } = {}): Promise<MintedKey> {
	const { label, expiresAt } = options;
	const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
	const apiKey = `${PREFIX}${org}.${secret}`;
	const keyId = `key_${hex(crypto.getRandomValues(new Uint8Array(8)))}`;
	return {
		apiKey,
		keyId,
		hash: await hashApiKey(apiKey),
		role,
		...(label ? { label } : {}),
		...(expiresAt !== undefined ? { expiresAt } : {}),
	};
}

/** The org a well-formed key claims to belong to, or undefined for anything that is not a key. */
export function claimedOrg(apiKey: string): string | undefined {
	if (!apiKey.startsWith(PREFIX)) return undefined;
	// The secret has no dots, so the last dot ends the org whatever the org id holds.
	const dot = apiKey.lastIndexOf(".");
	const org = apiKey.slice(PREFIX.length, dot);
	if (dot < 0 || !ID_PATTERN.test(org) || !SECRET_PATTERN.test(apiKey.slice(dot + 1))) return undefined;
	return org;
}

/** Lowercase hex SHA-256 of the key text: what the org actor stores and compares. */
export async function hashApiKey(apiKey: string): Promise<string> {
	return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(apiKey))));
}

function hex(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
	let binary = "";
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
