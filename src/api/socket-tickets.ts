/**
 * Socket tickets: what a browser puts in a WebSocket URL instead of its API key (URLs end up in logs).
 * `POST /v1/orgs/:org/socket-tickets` answers `rt_<org>.<secret>`, good for one upgrade within 60 s, bound to
 * the org, the key that asked and its role (an ingest key's ticket opens send-only sockets). The org actor keeps
 * only the ticket's SHA-256 and deletes it when it is used.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { actorName } from "../core/identity.ts";
import { KEY_ROLES } from "../events/org.ts";
import { hashApiKey } from "../http/api-keys.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError } from "../http/problem.ts";
import { newTicket, TICKET_TTL_MS } from "../http/tickets.ts";
import { validationHook } from "../http/validation.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

const ticketBody = z
	.object({
		ticket: z.string().openapi({ description: "Pass as `?ticket=` on one WebSocket upgrade of this org." }),
		expiresAt: z.number().int().openapi({ description: "When the ticket stops working (ms since the epoch)." }),
		role: z.enum(KEY_ROLES).openapi({ description: "The role of the key that asked: an ingest ticket opens send-only sockets." }),
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
				role: caller.role,
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
			return c.json({ ticket, expiresAt, role: caller.role }, 201);
		},
	);
	return app;
}
