/**
 * Answering a subject access request (docs/privacy.md): everything Roost holds about a user id in the org, as NDJSON.
 * The org finds the user's sessions by their subject keys (the lookup an erasure uses) and records the export in its
 * audit trail (counts only); this route then streams, page by page so memory stays bounded: the org's interaction
 * records of the user (user id opened), each session's state and events, its archived interactions in R2 and the
 * archive of its log if retention wrote one. After an erasure of the user the keys are gone, so nothing is found.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { EventPage } from "../actors/kernel/types.ts";
import { actorInteractionsPrefix, actorLogArchive, actorLogName, interactionArchive } from "../actors/org-objects.ts";
import type { InteractionSearchPage } from "../actors/org-search.ts";
import { SUBJECT_EXPORT_SESSIONS, type SubjectExportPage } from "../actors/org-subject-export.ts";
import type { RecordedInteraction } from "../actors/org-views.ts";
import { actorName } from "../core/identity.ts";
import type { Outcome } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import { limitBody } from "../http/body-limit.ts";
import { type AppEnv, requestMeta } from "../http/context.ts";
import { unwrap } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { id } from "./actors.ts";
import { NDJSON, NDJSON_HEADER, ndjsonBody, textLines } from "./ndjson.ts";
import { ORG_KEY, problems } from "./openapi.ts";

/** A request names one user id and a page: a few hundred bytes. */
const MAX_BODY_BYTES = 4096;
/** The org's interaction records of one user an export holds at most (pages of 200): a visit each, so years of visits. */
export const MAX_EXPORT_INTERACTIONS = 10_000;
const EVENTS_PAGE = 1000;
const ARCHIVED_PAGE = 1000;

const exportBody = z
	.object({
		userId: z.string().min(1).max(256).openapi({ description: "The user id the SDK identified the visitor with." }),
		after: id.optional().openapi({ description: "The `next` of the previous page: the export goes on after that session." }),
		limit: z.number().int().min(1).max(SUBJECT_EXPORT_SESSIONS).optional().openapi({ description: "Sessions in this page (at most 100)." }),
	})
	.openapi("SubjectExportRequest");

/** One line of the export: its `kind` says what it holds. */
type Line = Record<string, unknown> & { kind: string };

export function subjectExportRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "post",
			path: "/v1/orgs/{org}/subject-exports",
			tags: ["privacy"],
			summary: "Everything Roost holds about a user id in the org (a subject access request), as NDJSON; audited by counts",
			security: ORG_KEY,
			middleware: [limitBody(MAX_BODY_BYTES)] as const,
			request: {
				params: z.object({ org: id.openapi({ param: { name: "org", in: "path" } }) }),
				body: { required: true, content: { "application/json": { schema: exportBody } } },
			},
			responses: {
				200: {
					description:
						"NDJSON: an `export` line (id, counts, `next`), then `interaction`, `session`, `event`, `compacted`, `archived_interaction` and `archived_event` lines, and an `end` line with the count",
					content: { [NDJSON]: { schema: z.string() } },
				},
				...problems(400, 401, 403, 404, 413, 429, 503),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const query = c.req.valid("json");
			const stub = c.env.ORG.getByName(actorName(org, org));
			// The stub's RPC type of this method is too deep for tsc to infer: it is the actor's own Outcome.
			const answered: Outcome<SubjectExportPage> = await stub.subjectExport(query, requestMeta(c), c.get("caller").keyId);
			const page = unwrap(answered);
			// Read before the body starts, so a projection that is rebuilding is a 503, not a cut stream.
			const interactions = query.after === undefined ? await userInteractions(c.env, org, query.userId) : [];
			const body = ndjsonBody(exportLines(c.env, org, page, interactions), (lines) => ({ kind: "end", lines }));
			return new Response(body, { status: 200, headers: NDJSON_HEADER });
		},
	);
	return app;
}

/** The org's interaction records of the user, newest first, with the user id opened. */
async function userInteractions(env: Env, org: string, userId: string): Promise<RecordedInteraction[]> {
	const stub = env.ORG.getByName(actorName(org, org));
	const out: RecordedInteraction[] = [];
	let cursor: string | undefined;
	while (out.length < MAX_EXPORT_INTERACTIONS) {
		const found: Outcome<InteractionSearchPage> = await stub.searchInteractions({ userId, limit: 200, ...(cursor ? { cursor } : {}) });
		const page = unwrap(found);
		out.push(...page.interactions);
		if (page.cursor === null) break;
		cursor = page.cursor;
	}
	return out.slice(0, MAX_EXPORT_INTERACTIONS);
}

async function* exportLines(env: Env, org: string, page: SubjectExportPage, interactions: RecordedInteraction[]): AsyncGenerator<Line> {
	yield {
		kind: "export",
		id: page.id,
		org,
		exportedAt: Date.now(),
		sessions: page.sessions.length,
		totalSessions: page.total,
		interactions: interactions.length,
		next: page.next,
	};
	for (const interaction of interactions) yield { kind: "interaction", interaction };
	for (const session of page.sessions) yield* sessionLines(env, org, session);
}

/** One session: its state, its events (from its checkpoint if compacted), its archived interactions and archived log. */
async function* sessionLines(env: Env, org: string, session: string): AsyncGenerator<Line> {
	const stub = env.SESSION.getByName(actorName(org, session));
	// The stub's RPC type of this method is too deep for tsc to follow: it is the actor's own Outcome.
	const state = (await stub.readState()) as Outcome<{ version: number; state: unknown }>;
	if (state.ok) yield { kind: "session", session, version: state.value.version, state: state.value.state };
	let after = 0;
	for (;;) {
		const events: EventPage = await stub.readEvents({ after, limit: EVENTS_PAGE });
		if (events.gone && after === 0) yield { kind: "compacted", session, checkpoint: events.gone.checkpoint, archive: events.gone.archive };
		for (const event of events.events) yield { kind: "event", session, event };
		if (events.next === null) break;
		after = events.next;
	}
	const archive = interactionArchive(env.ARCHIVE, org);
	let last: string | undefined;
	for (;;) {
		const listed = await archive.list(actorInteractionsPrefix("session", session), {
			limit: ARCHIVED_PAGE,
			...(last ? { after: last } : {}),
		});
		for (const object of listed.objects) {
			const read = await archive.get(object.key);
			if (read.ok) yield { kind: "archived_interaction", session, key: object.key, interaction: await read.object.json() };
		}
		const final = listed.objects.at(-1);
		if (!listed.truncated || !final) break;
		last = final.key.slice(archive.prefix.length);
	}
	const logs = actorLogArchive(env.ARCHIVE, org);
	const key = logs.keyOf(actorLogName("session", session));
	const log = await logs.get(key);
	if (!log.ok) return;
	for await (const line of textLines(log.object.body))
		if (line.trim() !== "") yield { kind: "archived_event", session, key, event: JSON.parse(line) };
}
