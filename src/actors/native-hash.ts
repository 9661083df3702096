/**
 * SHA-256 with the runtime's native implementation (node:crypto under nodejs_compat) for the actors' hot paths: the
 * same digests as the portable src/core/hash.ts (which the CLI, the browser and the log's own `verify` use), many
 * times faster than its pure-JavaScript SHA-256. workerd only.
 */
import { createHash } from "node:crypto";
import { chainText, type HashedFields } from "../core/hash.ts";

/** `sha256Hex` of src/core/hash.ts, natively. */
export function nativeSha256Hex(bytes: Uint8Array): string {
	return createHash("sha256").update(bytes).digest("hex");
}

/** `chainHash` of src/core/hash.ts, natively: the append path hashes every row with it. */
export function nativeChainHash(prev: string, row: HashedFields): string {
	return createHash("sha256").update(chainText(prev, row)).digest("hex");
}
