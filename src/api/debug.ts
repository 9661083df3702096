/**
 * What the replay/debug console needs beyond the shared reads: stored snapshots, the what-if
 * replay, importing an exported log into a sandbox actor, and forking an actor at a version.
 * Sandbox actors have ids starting with `sandbox-`; only they can be imported into. The first import
 * marks the actor a sandbox in its storage, and the kernel keeps it inert (see EventSourcedActor.isSandbox).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { uuidv7 } from "uuidv7";
import type { EventPage, ImportedEvent } from "../actors/actor.ts";
import type { Outcome } from "../core/outcome.ts";
import { nestsDeeperThan, TOO_DEEP } from "../events/json-depth.ts";
import { limitBody } from "../http/body-limit.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError, invalidInput, unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { actorStub, id, kindOfSegment, kindParam } from "./actors.ts";
import { json, metaSchema, ORG_KEY, problems } from "./openapi.ts";

export const SANDBOX_PREFIX = "sandbox-";
/** An import is sent in chunks of at most this many events (the CLI does). */
export const MAX_IMPORT_EVENTS = 1000;
const MAX_IMPORT_BYTES = 8 * 1_048_576;

const snapshotInfo = z.object({ version: z.number().int(), reducerVersion: z.string(), parts: z.number().int(), bytes: z.number().int() });
const snapshotList = z
	.object({ snapshots: z.array(snapshotInfo), version: z.number().int(), snapshotEvery: z.number().int() })
	.openapi("SnapshotList");
const snapshotBody = z.object({ version: z.number().int(), reducerVersion: z.string(), state: z.unknown() }).openapi("Snapshot");
const replayReport = z
	.object({
		version: z.number().int(),
		reducerVersion: z.string(),
		checked: z.number().int(),
		snapshots: z.number().int(),
		mismatches: z.array(z.object({ version: z.number().int(), against: z.string(), delta: z.unknown() })),
		ok: z.boolean(),
	})
	.openapi("ReplayReport");
const importedEvent = z.object({
	seq: z.number().int().positive(),
	id: z.string().min(1).max(200),
	type: z.string().min(1).max(128),
	v: z.number().int().positive(),
	ts: z.number().int().nonnegative(),
	data: z.unknown().refine((data) => !nestsDeeperThan(data), TOO_DEEP),
	meta: metaSchema.default({}),
	hash: z
		.string()
		.regex(/^[0-9a-f]{64}$/)
		.optional(),
});
const importBody = z.object({ events: z.array(importedEvent).min(1).max(MAX_IMPORT_EVENTS) }).openapi("ImportBody");
const importResult = z.object({ version: z.number().int(), headHash: z.string(), imported: z.number().int() }).openapi("ImportResult");
const forkBody = z
	.object({ at: z.number().int().min(0).openapi({ description: "How many events of the source the fork keeps." }) })
	.openapi("ForkBody");
const forkResult = z
	.object({
		actor: z.object({ kind: z.string(), org: z.string(), id: z.string() }),
		path: z.string(),
		version: z.number().int(),
		headHash: z.string(),
	})
	.openapi("ForkResult");

const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const idParam = id.openapi({ param: { name: "id", in: "path" } });
const orgOnly = z.object({ org: orgParam });

type Where = { kind: string; org: string; id: string };
const locateInOrg = (p: Record<string, string>): Where => ({
	kind: kindOfSegment(p.kind as string),
	org: p.org as string,
	id: p.id as string,
});
const locateOrg = (p: Record<string, string>): Where => ({ kind: "org", org: p.org as string, id: p.org as string });

function registerInspection(
	app: OpenAPIHono<AppEnv>,
	base: string,
	params: z.ZodObject<Record<string, z.ZodType<string>>>,
	tag: string,
	locate: (p: Record<string, string>) => Where,
): void {
	const stub = (c: Context<AppEnv>) => {
		const where = locate(c.req.valid("param" as never));
		return actorStub(c.env, where.kind, where.org, where.id);
	};
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/snapshots`,
			tags: [tag],
			summary: "The actor's stored snapshots",
			security: ORG_KEY,
			request: { params },
			responses: { 200: json(snapshotList, "Snapshots, oldest first"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const described = await stub(c).describe();
			return c.json({ snapshots: described.snapshots, version: described.version, snapshotEvery: described.snapshotEvery }, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/snapshots/{version}`,
			tags: [tag],
			summary: "The state one stored snapshot holds, as written",
			security: ORG_KEY,
			request: {
				params: params.extend({
					version: z.coerce
						.number()
						.int()
						.min(1)
						.openapi({ param: { name: "version", in: "path" } }),
				}),
			},
			responses: { 200: json(snapshotBody, "The snapshot"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => {
			const { version } = c.req.valid("param") as unknown as { version: number };
			const snapshot = await stub(c).snapshotAt(version);
			if (!snapshot) throw new ApiError(404, "Not found", `There is no readable snapshot at version ${version}.`);
			return c.json(snapshot as z.infer<typeof snapshotBody>, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: `${base}/replay`,
			tags: [tag],
			summary: "What-if replay: fold the log again with the current reducer and compare",
			description:
				"Re-runs the current reducer over the whole stored log and reports where the result differs from the stored snapshots or the state in memory.",
			security: ORG_KEY,
			request: { params },
			responses: { 200: json(replayReport, "Where the replay differs, if anywhere"), ...problems(400, 401, 403, 404, 429) },
		}),
		async (c) => c.json((await stub(c).replayCheck()) as z.infer<typeof replayReport>, 200),
	);
}

export function debugRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	// The console's kinds, read from src/kinds.ts now that the Worker builds its routes.
	const inOrg = z.object({ org: orgParam, kind: kindParam("console"), id: idParam });
	registerInspection(app, "/v1/orgs/{org}/{kind}/{id}", inOrg, "actors", locateInOrg);
	registerInspection(app, "/v1/orgs/{org}", orgOnly, "orgs", locateOrg);

	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/{kind}/{id}/import",
			tags: ["actors"],
			summary: "Import exported events into a sandbox actor",
			description:
				"Body: `{ events }` as `GET .../events?raw=true` gives them (at most 1000 per request), continuing the sandbox's log. Only ids starting with `sandbox-`.",
			security: ORG_KEY,
			middleware: [limitBody(MAX_IMPORT_BYTES)] as const,
			request: { params: inOrg, body: { required: true, content: { "application/json": { schema: importBody } } } },
			responses: {
				200: json(importResult, "Imported; the sandbox's version and head hash"),
				...problems(400, 401, 403, 404, 413, 422, 429),
			},
		}),
		async (c) => {
			const where = locateInOrg(c.req.valid("param"));
			if (!where.id.startsWith(SANDBOX_PREFIX)) {
				throw invalidInput([{ path: "path.id", message: `imports go only into sandbox actors: ids starting with "${SANDBOX_PREFIX}"` }]);
			}
			const outcome = await actorStub(c.env, where.kind, where.org, where.id).importEvents(c.req.valid("json").events as ImportedEvent[]);
			return c.json(unwrap(outcome as Outcome<z.infer<typeof importResult>>), 200);
		},
	);

	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/{kind}/{id}/fork",
			tags: ["actors"],
			summary: "Fork the actor at a version into a new sandbox actor",
			security: ORG_KEY,
			middleware: [limitBody(1024)] as const,
			request: { params: inOrg, body: { required: true, content: { "application/json": { schema: forkBody } } } },
			responses: {
				201: json(forkResult, "The sandbox, holding the source's first `at` events"),
				...problems(400, 401, 403, 404, 413, 429),
			},
		}),
		async (c) => {
			const source = locateInOrg(c.req.valid("param"));
			const { at } = c.req.valid("json");
			const from = actorStub(c.env, source.kind, source.org, source.id);
			const { version } = await from.describe();
			if (at > version) throw invalidInput([{ path: "at", message: `must be at most the source's version ${version}` }]);
			const sandboxId = `${SANDBOX_PREFIX}${uuidv7()}`;
			const sandbox = actorStub(c.env, source.kind, source.org, sandboxId);
			let result = { version: 0, headHash: "0".repeat(64) };
			for (let after = 0; after < at; ) {
				// The sandbox stays in the org and redacts as the source does; its chain must match, so it copies rows as stored.
				// RPC typing cannot map the envelope's unknown data; the page is the kernel's EventPage.
				const page = (await from.readEvents({
					after,
					limit: Math.min(MAX_IMPORT_EVENTS, at - after),
					raw: true,
					unredacted: true,
				})) as unknown as EventPage;
				const rows = page.events.filter((e) => e.seq <= at).map(({ actor: _actor, ...event }): ImportedEvent => event);
				if (rows.length === 0) break;
				result = unwrap((await sandbox.importEvents(rows)) as Outcome<z.infer<typeof importResult>>);
				after = rows.at(-1)?.seq ?? at;
			}
			const segment = c.req.valid("param").kind;
			return c.json(
				{
					actor: { kind: source.kind, org: source.org, id: sandboxId },
					path: `/v1/orgs/${source.org}/${segment}/${sandboxId}`,
					version: result.version,
					headHash: result.headHash,
				},
				201,
			);
		},
	);
	return app;
}
