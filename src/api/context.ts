import type { Context } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import type { Env } from "../env.ts";
import type { EventMeta } from "../events/envelope.ts";
import type { KeyScope } from "../events/org.ts";

/** The key that opened an org route, set by requireOrgKey. */
export interface Caller {
	org: string;
	keyId: string;
	/** `ingest` keys may only send events in (see `ingestRoute` in auth.ts). */
	scope: KeyScope;
}

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables & { caller: Caller } };

/** A caller's correlation id is carried into event metadata when it is a plausible id. */
function correlationId(header: string | undefined): string | undefined {
	return header && /^[\w.:-]{1,128}$/.test(header) ? header : undefined;
}

/** Metadata every event written by this request carries: its request id, and the caller's correlation id (else the request id). */
export function requestMeta(c: Context<AppEnv>): EventMeta {
	const requestId = c.get("requestId");
	return { requestId, correlationId: correlationId(c.req.header("x-correlation-id")) ?? requestId };
}
