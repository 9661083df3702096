/**
 * Socket tickets' format and check: `rt_<org>.<secret>`, good for one WebSocket upgrade within TICKET_TTL_MS,
 * bound to the org, the key that asked and its role. The org actor keeps only the ticket's SHA-256 and deletes it
 * when it is used. The route that issues them is src/api/socket-tickets.ts.
 */
import { actorName, ID_PATTERN, MEMBER_KEY_PREFIX } from "../core/identity.ts";
import type { Env } from "../env.ts";
import { hashApiKey } from "./api-keys.ts";
import type { Caller } from "./context.ts";

export const TICKET_TTL_MS = 60_000;
const PREFIX = "rt_";
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newTicket(org: string): string {
	const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
	return `${PREFIX}${org}.${secret.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

/** The org a well-formed ticket names, or undefined. */
function ticketOrg(ticket: string): string | undefined {
	const dot = ticket.lastIndexOf(".");
	const org = ticket.slice(PREFIX.length, dot);
	if (!ticket.startsWith(PREFIX) || dot < 0 || !ID_PATTERN.test(org) || !SECRET_PATTERN.test(ticket.slice(dot + 1))) return undefined;
	return org;
}

/** The caller a ticket was issued to, if it is unused, unexpired and its key still live; using it spends it. */
export async function ticketOwner(env: Env, ticket: string): Promise<Caller | null> {
	const org = ticketOrg(ticket);
	if (!org) return null;
	const key = await env.ORG.getByName(actorName(org, org)).redeemSocketTicket(await hashApiKey(ticket));
	if (!key) return null;
	// A ticket a member asked for acts as that member (audit meta names the email, not a made-up key id).
	return key.keyId.startsWith(MEMBER_KEY_PREFIX) ? { org, ...key, member: key.keyId.slice(MEMBER_KEY_PREFIX.length) } : { org, ...key };
}
