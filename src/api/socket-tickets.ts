/**
 * Socket tickets: what a browser puts in a WebSocket URL instead of its API key (URLs end up in logs).
 * `POST /v1/orgs/:org/socket-tickets` answers `rt_<org>.<secret>`, good for one upgrade within 60 s, bound to
 * the org, the key that asked and its scope (an ingest key's ticket opens send-only sockets). The org actor keeps
 * only the ticket's SHA-256 and deletes it when it is used.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName, ID_PATTERN } from "../actors/identity.ts";
import type { Env } from "../env.ts";
import { hashApiKey } from "./api-keys.ts";
import type { AppEnv, Caller } from "./context.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";
import { ApiError } from "./problem.ts";
import { validationHook } from "./validation.ts";

export const TICKET_TTL_MS = 60_000;
const PREFIX = "rt_";
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function newTicket(org: string): string {
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
	return key ? { org, ...key } : null;
}

const ticketBody = z
	.object({
		ticket: z.string().openapi({ description: "Pass as `?ticket=` on one WebSocket upgrade of this org." }),
		expiresAt: z.number().int().openapi({ description: "When the ticket stops working (ms since the epoch)." }),
		scope: z
			.enum(["full", "ingest"])
			.openapi({ description: "The scope of the key that asked: an ingest ticket opens send-only sockets." }),
	})
	.openapi("SocketTicket");

export function socketTicketRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/socket-tickets",
			tags: ["orgs"],
			summary: "A single-use ticket for one WebSocket upgrade (for browsers: keeps the API key out of URLs)",
			security: ORG_KEY,
			request: { params: z.object({ org: z.string().openapi({ param: { name: "org", in: "path" } }) }) },
			responses: { 201: json(ticketBody, "The ticket, good once within 60 seconds"), ...problems(401, 403, 404, 429) },
		}),
		async (c) => {
			const caller = c.get("caller");
			const ticket = newTicket(caller.org);
			const expiresAt = Date.now() + TICKET_TTL_MS;
			const stored = await c.env.ORG.getByName(actorName(caller.org, caller.org)).storeSocketTicket(await hashApiKey(ticket), {
				keyId: caller.keyId,
				scope: caller.scope,
				expiresAt,
			});
			if (!stored)
				throw new ApiError(
					429,
					"Too many tickets",
					"This org holds too many unused socket tickets; use or let some expire.",
					{},
					{
						"retry-after": String(TICKET_TTL_MS / 1000),
					},
				);
			return c.json({ ticket, expiresAt, scope: caller.scope }, 201);
		},
	);
	return app;
}
