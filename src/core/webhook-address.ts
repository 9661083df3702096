/**
 * Where a webhook may point: `https` on a public address. Loopback, private, link-local, shared, multicast and
 * cloud metadata addresses are refused, as are names that only resolve inside a network (`localhost`, `.local`,
 * `.internal`) and URLs carrying credentials. Checked on create, on update and before every delivery. Pure: the
 * WHATWG URL parser already turns `http://2130706433/` and `0x7f.1` into `127.0.0.1`, so literals are compared
 * in one form. Names are not resolved here (docs/webhooks.md, "Safety").
 */

export interface UrlPolicy {
	/** WEBHOOKS_ALLOW_LOCAL=1 in local development only: `http` and loopback/private addresses allowed, for tests and `npm start`. */
	allowLocal: boolean;
}

/** Why `text` may not be a webhook URL, or null when it may. */
export function webhookUrlProblem(text: string, policy: UrlPolicy): string | null {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return "is not an absolute URL";
	}
	if (url.protocol !== "https:" && !(policy.allowLocal && url.protocol === "http:")) return "must be an https URL";
	if (url.username || url.password) return "must not carry credentials";
	if (policy.allowLocal) return null;
	const host = url.hostname.toLowerCase().replace(/\.$/, "");
	const localName = host === "localhost" || /\.(localhost|local|internal|intranet|lan|home\.arpa)$/.test(host) || !host.includes(".");
	if (!host.startsWith("[") && localName) return "must name a public host";
	if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && privateIpv4(host)) return "must not be a private, loopback, link-local or metadata address";
	if (host.startsWith("[") && privateIpv6(host.slice(1, -1))) return "must not be a private, loopback, link-local or metadata address";
	return null;
}

/** RFC 6890 special-purpose IPv4 blocks (and everything from 224/4 up). */
function privateIpv4(host: string): boolean {
	const [a = 0, b = 0, c = 0] = host.split(".").map(Number);
	return (
		a === 0 ||
		a === 10 ||
		a === 127 ||
		(a === 100 && b >= 64 && b <= 127) ||
		(a === 169 && b === 254) ||
		(a === 172 && b >= 16 && b <= 31) ||
		(a === 192 && b === 0 && (c === 0 || c === 2)) ||
		(a === 192 && b === 168) ||
		(a === 198 && (b === 18 || b === 19)) ||
		(a === 198 && b === 51 && c === 100) ||
		(a === 203 && b === 0 && c === 113) ||
		a >= 224
	);
}

/** Loopback, unspecified, unique-local, link-local, multicast, documentation, and IPv4-mapped/NAT64 forms of private IPv4. */
function privateIpv6(host: string): boolean {
	const h = host.toLowerCase();
	if (h === "::" || h === "::1") return true;
	if (/^f[cd]/.test(h) || /^fe[89ab]/.test(h) || h.startsWith("ff") || h.startsWith("2001:db8")) return true;
	// ::ffff:a.b.c.d and 64:ff9b::a.b.c.d (the URL parser writes the v4 part as two hex groups).
	const mapped = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
	if (mapped) {
		const hi = Number.parseInt(mapped[1] ?? "0", 16);
		const lo = Number.parseInt(mapped[2] ?? "0", 16);
		return privateIpv4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
	}
	return false;
}
