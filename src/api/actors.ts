/**
 * Routes every actor shares (docs/api.md, "Actor reads"): its log paged by seq, its state now or at a
 * version, chain verification, and the WebSocket subscription, for every kind in src/kinds.ts that has a
 * segment, and for the org. Routes stay thin: validate, call the actor once, shape the answer. Credentials
 * are checked before any of them (requireOrgKey in app.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { EventPage } from "../actors/actor.ts";
import { type AnyActorStub, actorStub as stubOf } from "../actors/directory.ts";
import { SOCKET_KEY_HEADER, socketKeyHeader } from "../actors/socket-guard.ts";
import { ID_PATTERN } from "../core/identity.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError, unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { inOrgKinds, type KindReaders, kindAtSegment } from "../kinds.ts";
import { json, metaSchema, ORG_KEY, problems } from "./openapi.ts";

export const id = z.string().regex(ID_PATTERN, "must be 1-128 letters, digits or . _ - and start with a letter or digit");

export function actorStub(env: AppEnv["Bindings"], kind: string, org: string, actorId: string): AnyActorStub {
	return stubOf(env, { kind, org, id: actorId });
}

/**
 * The `{kind}` path parameter: the segments of the kinds in src/kinds.ts (all of them, or those `reader` lists),
 * read when the routes are built. `kindOfSegment` turns a validated segment back into its kind.
 */
export function kindParam(reader?: keyof KindReaders) {
	const segments = inOrgKinds()
		.filter((row) => reader === undefined || row.readBy[reader])
		.map((row) => row.segment);
	return z.enum(segments as [string, ...string[]]).openapi({ param: { name: "kind", in: "path" } });
}

export function kindOfSegment(segment: string): string {
	const row = kindAtSegment(segment);
	if (!row) throw new ApiError(404, "Not found", `There is no kind of actor called ${segment}.`);
	return row.name;
}

const eventsQuery = z.object({
	after: z.coerce.number().int().min(0).default(0).openapi({ description: "Return events with seq greater than this." }),
	limit: z.coerce.number().int().min(1).max(1000).default(100),
	type: z.string().min(1).max(128).optional().openapi({ description: "Only events of this type." }),
	raw: z.enum(["true", "false"]).optional().openapi({ description: "true: events as stored, without upcasting." }),
	id: z.string().min(1).max(200).optional().openapi({ description: "Only the event with this id (a page of zero or one)." }),
});
const stateQuery = z.object({ at: z.coerce.number().int().min(0).optional().openapi({ description: "Version to compute the state at." }) });
const wsQuery = z.object({
	after: z.coerce.number().int().min(0).default(0),
	ticket: z
		.string()
		.max(512)
		.optional()
		.openapi({ description: "A single-use ticket from POST /v1/orgs/{org}/socket-tickets (browsers)." }),
	token: z
		.string()
		.max(512)
		.optional()
		.openapi({ description: "The API key, for Node clients; deprecated for browsers (URLs are logged): use `ticket`." }),
});

const envelope = z
	.object({
		seq: z.number().int(),
		id: z.string(),
		type: z.string(),
		v: z.number().int(),
		ts: z.number().int(),
		actor: z.object({ kind: z.string(), org: z.string(), id: z.string() }),
		data: z.unknown(),
		meta: metaSchema,
		hash: z.string(),
		redacted: z.literal(true).optional().openapi({
			description: "Set when a secret in `data` is hidden (`(redacted)`): `hash` covers the stored data, which only the server checks.",
		}),
	})
	.openapi("EventEnvelope");
const eventPage = z.object({ events: z.array(envelope), next: z.number().int().nullable() }).openapi("EventPage");
const stateBody = z.object({ version: z.number().int(), state: z.unknown() }).openapi("ActorState");
const verifyBody = z
	.object({
		ok: z.boolean(),
		version: z.number().int(),
		headHash: z.string(),
		brokenAt: z.number().int().optional(),
		reason: z.string().optional(),
		checkpoint: z
			.object({ seq: z.number().int(), hash: z.string() })
			.optional()
			.openapi({ description: "When the log was compacted: where the stored chain starts; its segments end at this hash." }),
	})
	.openapi("ChainReport");

/** Registers the shared reads under `base`; `locate` turns validated path params into an actor. */
type PathParams = z.ZodObject<Record<string, z.ZodType<string>>>;

function registerReads(
	app: OpenAPIHono<AppEnv>,
	base: string,
	params: PathParams,
	tag: string,
	locate: (params: Record<string, string>) => { kind: string; org: string; id: string },
): void {
	const stub = (c: Context<AppEnv>, p: Record<string, string>) => {
		const where = locate(p);
		return actorStub(c.env, where.kind, where.org, where.id);
	};
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/events`,
			tags: [tag],
			summary: "A page of the actor's log",
			security: ORG_KEY,
			request: { params, query: eventsQuery },
			responses: { 200: json(eventPage, "A page of the actor's log"), ...problems(400, 401, 403, 404, 410, 429) },
		}),
		async (c) => {
			const q = c.req.valid("query");
			const actor = stub(c, c.req.valid("param"));
			if (q.id !== undefined) {
				const event = await actor.eventById(q.id, q.raw === "true");
				return c.json({ events: event ? [event] : [], next: null } as z.infer<typeof eventPage>, 200);
			}
			const page: EventPage = await actor.readEvents({ after: q.after, limit: q.limit, type: q.type, raw: q.raw === "true" });
			// Events before the log's checkpoint were compacted to R2 (src/actors/kernel/compaction.ts): 410, naming the segments.
			if (page.gone)
				throw new ApiError(410, "Gone", `Events up to seq ${page.gone.checkpoint.seq} were compacted to the archive.`, { gone: page.gone });
			return c.json(page as z.infer<typeof eventPage>, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/state`,
			tags: [tag],
			summary: "The actor's state now, or at version `at`",
			security: ORG_KEY,
			request: { params, query: stateQuery },
			responses: { 200: json(stateBody, "State now, or at version `at`"), ...problems(400, 401, 403, 404, 410, 429) },
		}),
		async (c) => {
			const outcome = await stub(c, c.req.valid("param")).readState(c.req.valid("query").at);
			return c.json(unwrap(outcome) as z.infer<typeof stateBody>, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/verify`,
			tags: [tag],
			summary: "Check the actor's hash chain end to end",
			security: ORG_KEY,
			request: { params },
			responses: { 200: json(verifyBody, "Hash chain check"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => c.json(await stub(c, c.req.valid("param")).verifyChain(), 200),
	);
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/ws`,
			tags: [tag],
			summary: "Subscribe over a WebSocket",
			description:
				"WebSocket upgrade: hello, the events after `after`, then live events. Browsers pass `?ticket=` (POST .../socket-tickets); `?token=<key>` is for Node clients.",
			security: ORG_KEY,
			request: { params, query: wsQuery },
			responses: { 101: { description: "Switching protocols" }, ...problems(400, 401, 403, 404, 426, 429) },
		}),
		async (c) => {
			if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
				throw new ApiError(426, "Upgrade required", "This route is a WebSocket: send `Upgrade: websocket`.");
			}
			// Only the Worker names the socket's key (the actor re-checks it while the socket is open, and an ingest
			// key's socket is send-only): whatever the client sent in that header is replaced.
			const caller = c.get("caller");
			// partyserver names the connection after `_pk` if the URL has one: the server names it instead.
			const url = new URL(c.req.url);
			url.searchParams.delete("_pk");
			const forwarded = new Request(url, c.req.raw);
			forwarded.headers.set(SOCKET_KEY_HEADER, socketKeyHeader({ id: caller.keyId, role: caller.role }));
			const upgraded = await stub(c, c.req.valid("param")).fetch(forwarded);
			// A 101 from the actor keeps its socket only if rebuilt with it; the request id rides along like on every answer.
			const headers = new Headers(upgraded.headers);
			headers.set("x-request-id", c.get("requestId"));
			return new Response(upgraded.body, { status: upgraded.status, headers, webSocket: upgraded.webSocket });
		},
	);
}

export function actorReadRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	const inOrg = z.object({
		org: id.openapi({ param: { name: "org", in: "path" } }),
		kind: kindParam(),
		id: id.openapi({ param: { name: "id", in: "path" } }),
	});
	registerReads(app, "/v1/orgs/{org}/{kind}/{id}", inOrg, "actors", (p) => ({
		kind: kindOfSegment(p.kind as string),
		org: p.org as string,
		id: p.id as string,
	}));
	const orgOnly = z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) });
	registerReads(app, "/v1/orgs/{org}", orgOnly, "orgs", (p) => ({ kind: "org", org: p.org as string, id: p.org as string }));
	return app;
}
