import type { Context } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import type { Env } from "../env.ts";
import type { EventMeta, Principal } from "../events/envelope.ts";
import type { KeyRole } from "../events/org.ts";

/** The key that opened an org route, set by requireOrgKey. */
export interface Caller {
	org: string;
	keyId: string;
	/** What the key may open: each route's least role is in src/http/roles.ts. */
	role: KeyRole;
	/** Set when a member signed in through Cloudflare Access (keyId is then `member:<email>`). */
	member?: string;
}

/** Who a caller acts as, for the audit trail: the key by its id (never the key itself), or the member by email. */
export const principalOfCaller = (caller: Caller): Principal =>
	caller.member ? { kind: "member", email: caller.member } : { kind: "key", id: caller.keyId };

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables & { caller: Caller } };

/** A caller's id (correlation id, its own request id) is carried into event metadata when it is a plausible id. */
function plausibleId(header: string | undefined): string | undefined {
	return header && /^[\w.:-]{1,128}$/.test(header) ? header : undefined;
}

/**
 * Metadata every event written by this request carries: who acted (the caller's principal, on org routes), the
 * server's request id, the caller's correlation id (else the request id), and the caller's own X-Request-Id apart,
 * as `clientRequestId`.
 */
export function requestMeta(c: Context<AppEnv>): EventMeta {
	const requestId = c.get("requestId");
	const clientRequestId = plausibleId(c.req.header("x-request-id"));
	const caller = c.get("caller") as Caller | undefined;
	return {
		...(caller ? { principal: principalOfCaller(caller) } : {}),
		requestId,
		correlationId: plausibleId(c.req.header("x-correlation-id")) ?? requestId,
		...(clientRequestId ? { clientRequestId } : {}),
	};
}
