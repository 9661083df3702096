/** Erasure of a data subject (docs/privacy.md): start one, then follow it until `done`. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ErasureTarget } from "../actors/org-erasures.ts";
import { actorName } from "../core/identity.ts";
import type { Outcome } from "../core/outcome.ts";
import { ERASURE_SUBJECTS } from "../events/erasure.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import type { ErasureView } from "../reducers/org-erasure.ts";
import { id } from "./actors.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

/** An erasure request names one subject: a few hundred bytes. */
export const MAX_ERASURE_BODY_BYTES = 4096;

const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const erasureId = z
	.string()
	.regex(/^[0-9a-f-]{36}$/, "must be an erasure id")
	.openapi({ param: { name: "id", in: "path" } });

const TARGETS = ["userId", "session", "camera", "chat"] as const;
const erasureBody = z
	.object({
		userId: z
			.string()
			.min(1)
			.max(256)
			.optional()
			.openapi({ description: "Every record of this user id: its sessions, archive, and the org's records." }),
		session: id.optional(),
		camera: id.optional(),
		chat: id.optional(),
	})
	.refine((body) => TARGETS.filter((t) => body[t] !== undefined).length === 1, {
		message: "give exactly one of userId, session, camera, chat",
		path: ["userId"],
	})
	.openapi("ErasureRequest");

const count = z.number().int();
const erasureView = z
	.object({
		id: z.string(),
		subject: z.enum(ERASURE_SUBJECTS),
		status: z.enum(["pending", "running", "done"]),
		requestedAt: z.number().int(),
		requestedBy: z.string().nullable().openapi({ description: "The id of the key that asked." }),
		doneAt: z.number().int().nullable(),
		counts: z.object({
			actors: count.openapi({ description: "Actors (sessions, cameras, chats) to erase entirely." }),
			keys: count.openapi({ description: "Subject keys sealing personal fields in the org's records." }),
			actorsErased: count,
			keysShredded: count,
			objectsDeleted: count.openapi({ description: "R2 objects deleted (archived interactions, frames)." }),
			bytesLeft: count.openapi({
				description: "The erased actors' database sizes right after clearing, summed: 4096 each, an empty SQLite file with no table.",
			}),
		}),
	})
	.openapi("Erasure");

export function erasureRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/erasures",
			tags: ["privacy"],
			summary: "Erase a data subject: a user id, or a session, camera or chat",
			security: ORG_KEY,
			middleware: [limitBody(MAX_ERASURE_BODY_BYTES)] as const,
			request: { params: z.object({ org: orgParam }), body: { required: true, content: { "application/json": { schema: erasureBody } } } },
			responses: {
				202: json(z.object({ id: z.string(), status: z.enum(["pending", "running", "done"]) }).openapi("ErasureStarted"), "Started"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const body = c.req.valid("json");
			const target = TARGETS.flatMap((t) => (body[t] === undefined ? [] : [{ [t]: body[t] }]))[0] as ErasureTarget;
			const stub = c.env.ORG.getByName(actorName(org, org));
			// The stub's RPC type of this method is too deep for tsc to infer: it is the actor's own Outcome.
			const started: Outcome<ErasureView> = await stub.requestErasure(target, requestMeta(c), c.get("caller").keyId);
			const erasure = unwrap(started);
			return c.json({ id: erasure.id, status: erasure.status }, 202);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/erasures/{id}",
			tags: ["privacy"],
			summary: "An erasure and how far it got",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, id: erasureId }) },
			responses: { 200: json(erasureView, "The erasure"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { org, id: erasure } = c.req.valid("param");
			return c.json(unwrap(await c.env.ORG.getByName(actorName(org, org)).erasure(erasure)), 200);
		},
	);
	return app;
}
