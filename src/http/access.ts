/**
 * People through Cloudflare Access: when ACCESS_TEAM_DOMAIN and ACCESS_AUD are set, a request without an API key may
 * carry the `Cf-Access-Jwt-Assertion` header Access adds in front of the Worker. Its signature is checked against
 * the team's JWKS (jose's remote key set, cached per isolate and refreshed on an unknown key id), with `aud`, `iss`
 * and `exp`; its email is then looked up among the org's members (src/actors/org.ts).
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { Env } from "../env.ts";

export const ACCESS_HEADER = "cf-access-jwt-assertion";

interface AccessConfig {
	issuer: string;
	audience: string;
	keys: JWTVerifyGetKey;
}

let cached: { source: string; keys: JWTVerifyGetKey } | undefined;

/** The team's issuer URL, its AUD tag and key set, or null when Access is not configured. */
function accessConfig(env: Env): AccessConfig | null {
	const domain = env.ACCESS_TEAM_DOMAIN?.trim();
	const audience = env.ACCESS_AUD?.trim();
	if (!domain || !audience) return null;
	const issuer = (domain.startsWith("https://") ? domain : `https://${domain}`).replace(/\/+$/, "");
	const source = env.ACCESS_JWKS ?? `${issuer}/cdn-cgi/access/certs`;
	if (cached?.source !== source) {
		const keys = env.ACCESS_JWKS ? createLocalJWKSet(JSON.parse(env.ACCESS_JWKS)) : createRemoteJWKSet(new URL(source));
		cached = { source, keys };
	}
	return { issuer, audience, keys: cached.keys };
}

export type AccessIdentity = { ok: true; email: string } | { ok: false; reason: string };

/** The verified email of the request's Access token; undefined when Access is off or the request carries none. */
export async function accessIdentity(env: Env, request: Request): Promise<AccessIdentity | undefined> {
	const token = request.headers.get(ACCESS_HEADER);
	if (!token) return undefined;
	const config = accessConfig(env);
	if (!config) return undefined;
	try {
		const { payload } = await jwtVerify(token, config.keys, {
			issuer: config.issuer,
			audience: config.audience,
			requiredClaims: ["exp", "email"],
		});
		if (typeof payload.email !== "string" || payload.email.length > 254) return { ok: false, reason: "it names no email" };
		return { ok: true, email: payload.email.toLowerCase() };
	} catch (error) {
		if (error instanceof errors.JWTExpired) return { ok: false, reason: "it has expired" };
		if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `its ${error.claim} claim does not match` };
		if (error instanceof errors.JOSEError) return { ok: false, reason: "its signature or format does not check out" };
		throw error;
	}
}
