/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
 * under the endpoint's secret, whose text is `whsec_` + base64 of the key bytes. Pure and synchronous (noble's HMAC),
 * so the org actor signs inside a delivery without awaiting WebCrypto; test/node/webhooks.test.ts checks it with the
 * `standardwebhooks` library's verifier.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

export const SECRET_PREFIX = "whsec_";

function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
	return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * An endpoint's secret, derived from the deployment's key and the endpoint's salt: nothing that can sign is
 * stored, so a copy of the log or of the database is not enough to forge a delivery.
 */
export function deriveWebhookSecret(masterKey: string, org: string, webhookId: string, salt: string): string {
	return SECRET_PREFIX + toBase64(hmac(sha256, utf8ToBytes(masterKey), utf8ToBytes(`roost-webhook\n${org}\n${webhookId}\n${salt}`)));
}

/** `v1,<base64>` over `id.timestamp.body`; `timestamp` in whole seconds. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
	const key = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
	return `v1,${toBase64(hmac(sha256, key, utf8ToBytes(`${id}.${timestamp}.${body}`)))}`;
}

/** The three Standard Webhooks headers; several secrets (during a rotation) give space-separated signatures. */
export function webhookHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
	return {
		"webhook-id": id,
		"webhook-timestamp": String(timestamp),
		"webhook-signature": secrets.map((secret) => signWebhook(secret, id, timestamp, body)).join(" "),
	};
}
