/**
 * Cross-site request forgery, for Cloudflare Access sign-ins only. An Access identity rides on a cookie
 * (CF_Authorization) that the browser sends by itself, so a page on another site could make a signed-in member's
 * browser post to Roost. API keys are bearer headers that no other site can add, so they need no check. The pages
 * that use an Access identity (the dashboard and the console) are served by this Worker, so every change they make is
 * same-origin; a change (any method but GET, HEAD and OPTIONS) made with an Access identity and no key is refused
 * when the browser says it comes from elsewhere: `Sec-Fetch-Site` other than `same-origin` or `none`, or, from a
 * browser that sends no `Sec-Fetch-Site`, an `Origin` that is not the request's own. Clients outside a browser (an
 * Access service token from a script) send neither header and pass.
 */
import { ApiError } from "./problem.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Where the request says it comes from, when that is another site or origin; undefined when it may go on. */
function foreignSource(request: Request): string | undefined {
	const site = request.headers.get("sec-fetch-site")?.toLowerCase();
	if (site) return site === "same-origin" || site === "none" ? undefined : `Sec-Fetch-Site: ${site}`;
	const origin = request.headers.get("origin");
	if (!origin) return undefined;
	return origin === new URL(request.url).origin ? undefined : `Origin: ${origin.slice(0, 200)}`;
}

/** Throws a 403 for a change that an Access identity (cookie-borne, no key) makes from another site. */
export function refuseCrossSiteChange(request: Request): void {
	if (SAFE_METHODS.has(request.method)) return;
	const source = foreignSource(request);
	if (!source) return;
	throw new ApiError(
		403,
		"Cross-site request refused",
		`A ${request.method} signed in through Cloudflare Access must come from this site's own pages (${source}). Send an API key in Authorization instead to call from elsewhere.`,
		{ type: "/problems/cross-site" },
	);
}
