/**
 * The log's hash chain: each row's hash covers its own stored fields and the previous row's hash,
 * so changing, dropping or reordering any row breaks every hash after it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { StoredRow } from "../events/stored.ts";

/** The chain starts from zeros, not from the actor's name, so an exported log re-imports with the same hashes. */
export const GENESIS_HASH = "0".repeat(64);

/** A row's stored fields, data and meta as the exact JSON text written. */
export type HashedFields = StoredRow;

/** What a row's hash covers: the previous hash and the row's stored fields, one per line. */
export function chainText(prev: string, row: HashedFields): string {
	return `${prev}\n${row.seq}\n${row.id}\n${row.type}\n${row.v}\n${row.ts}\n${row.data}\n${row.meta}`;
}

/** Portable (workerd, Node, browsers); the kernel's append path computes the same with native SHA-256. */
export function chainHash(prev: string, row: HashedFields): string {
	return bytesToHex(sha256(utf8ToBytes(chainText(prev, row))));
}

export function sha256Hex(bytes: Uint8Array): string {
	return bytesToHex(sha256(bytes));
}
