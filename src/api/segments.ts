/**
 * The org's compacted log segments in R2 (`segments/<org>/`, src/actors/kernel/compaction.ts): listed, and read one at
 * a time as stored, so `roost segments get` can download one and `roost verify --file` check it offline against the
 * actor's checkpoint. Every key is built under the caller's org prefix (src/actors/org-objects.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { logSegments, SEGMENT_NAME, segmentApiName, segmentName, segmentOf } from "../actors/org-objects.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError } from "../http/problem.ts";
import { validationHook } from "../http/validation.ts";
import { kindNamed } from "../kinds.ts";
import { id } from "./actors.ts";
import { NDJSON, NDJSON_HEADER, ndjsonBody, textLines } from "./ndjson.ts";
import { json, ORG_KEY, problems } from "./openapi.ts";

export const MAX_SEGMENT_LIST = 1000;

const orgParam = id.openapi({ param: { name: "org", in: "path" } });
const name = z
	.string()
	.max(400)
	.regex(SEGMENT_NAME, "must be a segment name as GET .../segments lists it: <kind>:<id>:<fromSeq>-<toSeq>.ndjson");

const segmentInfo = z
	.object({
		name: z.string().openapi({ description: "`<kind>:<id>:<fromSeq>-<toSeq>.ndjson`: pass it to GET .../segments/{name}." }),
		actor: z.object({ kind: z.string(), id: z.string() }),
		fromSeq: z.number().int(),
		toSeq: z.number().int(),
		size: z.number().int(),
		uploaded: z.number().int().openapi({ description: "When it was written (ms)." }),
	})
	.openapi("Segment");

export function segmentRoutes(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/segments",
			tags: ["console"],
			summary: "The org's compacted log segments in R2, in key order",
			security: ORG_KEY,
			request: {
				params: z.object({ org: orgParam }),
				query: z.object({
					after: name.optional().openapi({ description: "The `next` of the previous page." }),
					limit: z.coerce.number().int().min(1).max(MAX_SEGMENT_LIST).optional(),
				}),
			},
			responses: {
				200: json(
					z.object({ segments: z.array(segmentInfo), next: z.string().nullable() }).openapi("SegmentList"),
					"A page of segments; `next` is the `after` of the next page, null on the last",
				),
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org } = c.req.valid("param");
			const { after, limit } = c.req.valid("query");
			const archive = logSegments(c.env.ARCHIVE, org);
			const from = after === undefined ? undefined : (segmentOf(after) ?? undefined);
			const page = await archive.list("", {
				limit: limit ?? 100,
				...(from ? { after: segmentName(from.actor.kind, from.actor.id, from.fromSeq, from.toSeq) } : {}),
			});
			const segments = page.objects.flatMap((object) => {
				const shown = segmentApiName(object.key.slice(archive.prefix.length));
				const ref = shown === null ? null : segmentOf(shown);
				return ref ? [{ ...ref, size: object.size, uploaded: object.uploaded.getTime() }] : [];
			});
			const last = page.objects.at(-1);
			const next = page.truncated && last ? segmentApiName(last.key.slice(archive.prefix.length)) : null;
			return c.json({ segments, next }, 200);
		},
	);
	app.openapi(
		createRoute({
			method: "get",
			path: "/v1/orgs/{org}/segments/{name}",
			tags: ["console"],
			summary: "One compacted log segment as stored: a header line, then each event with its chain hash",
			security: ORG_KEY,
			request: { params: z.object({ org: orgParam, name: name.openapi({ param: { name: "name", in: "path" } }) }) },
			responses: {
				200: { description: "The segment's NDJSON", content: { [NDJSON]: { schema: z.string() } } },
				...problems(400, 401, 403, 404, 429),
			},
		}),
		async (c) => {
			const { org, name: shown } = c.req.valid("param");
			const ref = segmentOf(shown);
			if (!ref) throw new ApiError(404, "Not found", `The org has no segment ${shown}.`);
			const archive = logSegments(c.env.ARCHIVE, org);
			const read = await archive.get(archive.keyOf(segmentName(ref.actor.kind, ref.actor.id, ref.fromSeq, ref.toSeq)));
			if (!read.ok) throw new ApiError(404, "Not found", `The org has no segment ${shown}.`);
			return new Response(ndjsonBody(shownLines(read.object.body)), { status: 200, headers: NDJSON_HEADER });
		},
	);
	return app;
}

/**
 * A segment's lines as readers see events: a secret in an event's data (an org key's hash, a webhook's salt) is
 * redacted by its kind's reducer, as every read does, and the line marked `redacted` (its stated hash stays, so an
 * offline check goes on from it: src/cli/chain.ts).
 */
async function* shownLines(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
	let redact: ((event: RecordedEvent) => RecordedEvent) | undefined;
	for await (const text of textLines(body)) {
		if (text.trim() === "") continue;
		const line = JSON.parse(text) as { segment?: { actor: { kind: string } } } & Partial<RecordedEvent> & { hash?: string };
		if (line.segment) {
			redact = kindNamed(line.segment.actor.kind)?.definition.redactEvent;
			yield line;
			continue;
		}
		const { hash, ...recorded } = line as RecordedEvent & { hash: string };
		const shown = redact?.(recorded) ?? recorded;
		yield shown === recorded ? line : { ...shown, hash, redacted: true };
	}
}
