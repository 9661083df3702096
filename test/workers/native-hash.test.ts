/**
 * The actors' native SHA-256 (src/actors/native-hash.ts) gives the portable implementation's digests
 * (src/core/hash.ts), so chains and snapshot checksums written by one verify with the other (`roost verify`).
 */
import { describe, expect, it } from "vitest";
import { nativeChainHash, nativeSha256Hex } from "../../src/actors/native-hash.ts";
import { chainHash, GENESIS_HASH, sha256Hex } from "../../src/core/hash.ts";

const texts = ["", "a", "ünïcödé ✓ 🐦", "\ud800 lone surrogate", "x".repeat(1_000_003)];

describe("native SHA-256", () => {
	it("digests bytes as the portable sha256Hex does", () => {
		for (const text of texts) {
			const bytes = new TextEncoder().encode(text);
			expect(nativeSha256Hex(bytes)).toBe(sha256Hex(bytes));
		}
		expect(nativeSha256Hex(new Uint8Array([0, 255, 1, 254]).subarray(1, 3))).toBe(sha256Hex(new Uint8Array([255, 1])));
	});

	it("chains rows as the portable chainHash does", () => {
		let prev = GENESIS_HASH;
		texts.forEach((text, i) => {
			const row = {
				seq: i + 1,
				id: `e-${i}`,
				type: "session.custom",
				v: 1,
				ts: 1_700_000_000_000 + i,
				data: JSON.stringify({ name: text.slice(0, 1000) }),
				meta: JSON.stringify({ requestId: text.slice(0, 20) }),
			};
			const hash = nativeChainHash(prev, row);
			expect(hash).toBe(chainHash(prev, row));
			prev = hash;
		});
	});
});
