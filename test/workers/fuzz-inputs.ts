/** Hostile inputs for the fuzz suites (fuzz-http, fuzz-socket): fast-check arbitraries of bodies, values, ids, queries and headers. */
import fc from "fast-check";

// ---- hostile pieces ---------------------------------------------------------------------------------

export const EDGE_STRINGS = [
	"\ud800",
	"\udfff",
	"a\ud800b",
	"\udc00\ud800",
	"\u202e\u202dRTL\u200f",
	"\u200b\u200c\u200d\u2060",
	"\ufeff",
	"\u0000",
	"e\u0301\u0301\u0301",
	"🙂👩‍👩‍👧‍👦",
	"𝕏",
	"..",
	"../../etc/passwd",
	"%2e%2e%2f",
	"<script>alert(1)</script>",
	"' OR 1=1 --",
	"\r\nx-injected: 1",
	"__proto__",
	"constructor",
	"",
	" ",
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
	fc.constantFrom(...EDGE_STRINGS),
	fc.string({ unit: "binary", maxLength: 40 }),
	fc.string({ unit: fc.constantFrom("\ud800", "\udc00", "\u202e", "\u200b", "\ufeff", "a", "é", "🙂"), maxLength: 30 }),
	fc.integer({ min: 5_000, max: 1_200_000 }).map((n) => "x".repeat(n)),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
	hostileString,
	fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}, [[]], { "": "" }),
	fc.jsonValue({ maxDepth: 3 }),
	fc.array(fc.constant({ id: "x" }), { minLength: 501, maxLength: 600 }),
);

/** JSON text nested `depth` levels deep, built as text (JSON.stringify would overflow the test's own stack). */
export function nested(depth: number, kind: "array" | "object"): string {
	return kind === "array" ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}
export const deepText = fc
	.tuple(fc.integer({ min: 64, max: 150_000 }), fc.constantFrom("array" as const, "object" as const))
	.map(([d, k]) => nested(d, k));

/** Every path of objects and arrays inside a JSON value, as key lists. */
export function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
	if (!value || typeof value !== "object") return [prefix];
	const inner = Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, Array.isArray(value) ? Number(k) : k]));
	return [prefix, ...inner];
}

export const MARK = "\u0001MARK\u0001";
/** The valid body with one place replaced by raw JSON text. */
export function withRawAt(body: unknown, at: (string | number)[], raw: string): string {
	if (at.length === 0) return raw;
	const copy = structuredClone(body) as Record<string | number, unknown>;
	let node = copy;
	for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
	node[at.at(-1) as string | number] = MARK;
	return JSON.stringify(copy).replace(JSON.stringify(MARK), raw);
}

export type Body = { text?: string; bytes?: Uint8Array; contentType?: string; headers?: Record<string, string> };

/** A hostile body for a route with a JSON body `valid`. */
export function hostileBody(valid: unknown): fc.Arbitrary<Body & { how: string }> {
	const places = paths(valid);
	const place = fc.constantFrom(...places);
	const contentType = fc.oneof(
		{ arbitrary: fc.constant("application/json"), weight: 6 },
		fc.constantFrom(
			"text/plain",
			"application/json; charset=utf-16",
			"application/x-www-form-urlencoded",
			"multipart/form-data; boundary=x",
			"application/json\u0000",
		),
	);
	const json = JSON.stringify(valid);
	return fc.oneof(
		fc
			.oneof(
				fc.constantFrom(
					"",
					" ",
					"{",
					"[",
					"nul",
					"{'a':1}",
					'{"a":1,}',
					'{"a":1}{"b":2}',
					"\ufeff{}",
					"NaN",
					"[1,2",
					'"\\ud800"',
					'{"__proto__":{"x":1}}',
				),
				fc.nat(json.length).map((n) => json.slice(0, n)),
			)
			.map((text) => ({ text, contentType: "application/json", how: "malformed JSON" })),
		fc.tuple(place, hostileValue).map(([at, v]) => ({
			text: withRawAt(valid, at, JSON.stringify(v) ?? "null"),
			contentType: "application/json",
			how: "wrong type or huge value",
		})),
		fc
			.tuple(place, deepText)
			.map(([at, raw]) => ({ text: withRawAt(valid, at, raw), contentType: "application/json", how: "deep nesting" })),
		fc
			.tuple(place, fc.constantFrom(...EDGE_STRINGS))
			.map(([at, s]) => ({ text: withRawAt(valid, at, JSON.stringify(s)), contentType: "application/json", how: "unicode edge" })),
		fc.integer({ min: 1, max: 3 }).map((times) => ({
			text: JSON.stringify({ ...(valid as object), pad: "p".repeat(1_100_000 * times) }),
			contentType: "application/json",
			how: "oversized",
		})),
		fc
			.uint8Array({ minLength: 1, maxLength: 64 })
			.map((bytes) => ({ bytes: Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, ...bytes), contentType: "application/json", how: "not UTF-8" })),
		fc.tuple(contentType).map(([type]) => ({ text: json, contentType: type, how: "content type" })),
	);
}

/** A hostile image upload for the camera frames route. */
export function hostileFrame(valid: Uint8Array): fc.Arbitrary<Body & { how: string; headers?: Record<string, string> }> {
	const png = valid;
	return fc.oneof(
		fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ bytes, contentType: "image/png", how: "random bytes" })),
		fc.nat(png.length - 1).map((n) => ({ bytes: png.slice(0, n), contentType: "image/png", how: "truncated image" })),
		fc.constant({ bytes: pixelBomb(), contentType: "image/png", how: "pixel bomb" }),
		fc
			.constantFrom("image/jpeg", "image/gif", "text/plain", "application/json", "")
			.map((contentType) => ({ bytes: png, contentType, how: "wrong type" })),
		fc
			.record({ "x-frame-ts": hostileHeader, "x-frame-id": hostileHeader })
			.map((headers) => ({ bytes: png, contentType: "image/png", headers, how: "frame headers" })),
		fc.constant({ bytes: new Uint8Array(6 * 1_048_576), contentType: "image/png", how: "oversized" }),
	);
}

/** A PNG header that claims 100000 x 100000 pixels. */
export function pixelBomb(): Uint8Array {
	const bytes = new Uint8Array(33);
	bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
	new DataView(bytes.buffer).setUint32(16, 100_000);
	new DataView(bytes.buffer).setUint32(20, 100_000);
	bytes.set([8, 6, 0, 0, 0], 24);
	return bytes;
}

/** Header values a client may send (Latin-1 only: fetch refuses others before they leave). */
export const hostileHeader = fc.oneof(
	fc.constantFrom("", "-1", "1e400", "NaN", "9".repeat(40), "a".repeat(9000), "..%2f", "é", "\u00ff\u00fe"),
	fc.string({ unit: fc.constantFrom("a", "-", ".", ":", "%", "é", " ", "\t"), maxLength: 300 }),
);

export const hostileQuery = fc.oneof(
	fc.constantFrom(
		"after=-1",
		"after=1e400",
		"after=NaN",
		"after=0x10",
		"limit=0",
		"limit=1001",
		"limit=1.5",
		"at=-1",
		"at=99999999999",
		"at=abc",
		"raw=yes",
		"type=",
		`type=${"t".repeat(5000)}`,
		"id=",
		"period=fortnightly",
		"status=%00",
		"after=%F0%9F%99%82",
		"a=%ZZ",
		"=&&=",
		"limit=1&limit=2",
	),
	fc.string({ unit: fc.constantFrom("a", "=", "&", "%", "2", "e", "\u00e9"), maxLength: 60 }).map(encodeURI),
);

export const hostileId = fc.constantFrom(
	"..",
	"%2e%2e",
	"%2E%2E%2F..%2F",
	"..%2f..%2fother",
	"a%2fb",
	"a%5cb",
	"%00",
	".",
	"-leading",
	"a:b",
	"x".repeat(300),
	"%F0%9F%99%82",
	"%ED%A0%80",
	"%E2%80%AE",
	"%20",
	"a%0d%0ab",
);
