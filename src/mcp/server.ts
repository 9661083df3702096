/**
 * Roost's MCP server: read-only tools over one org's data, for LLM clients. The org is fixed when the server
 * is made (it comes from the caller's API key, never from a tool's input), and every actor a tool reads is
 * named `<org>:<id>` inside it, so no input can reach another org. Ids are checked against the API's id
 * pattern, so they cannot carry a name separator or a path either.
 *
 * Every result is structured content (checked against the tool's output schema) plus a short text summary
 * and the same JSON as text, for clients that show the model only text. Lists are paged with an explicit
 * `next` or `cursor`; a page that would be too big ends early and says where to go on, so nothing is cut.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { z } from "zod";
import type { EventPage, EventSourcedActor } from "../actors/actor.ts";
import { actorStub } from "../actors/directory.ts";
import type { SessionList } from "../actors/org.ts";
import { SESSION_CURSOR } from "../actors/org-sessions.ts";
import { actorName, ID_PATTERN } from "../core/identity.ts";
import type { Outcome } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import type { EventEnvelope } from "../events/envelope.ts";
import { kinds } from "../kinds.ts";
import { PERIODS } from "../patterns/windows.ts";

/** A page stops adding items once its JSON reaches this many characters (it always holds at least one item). */
export const MAX_PAGE_CHARS = 200_000;
/** A state larger than this as JSON is refused, not cut: a cut state would read as a different state. */
export const MAX_STATE_CHARS = 200_000;

/** The kinds of actor an org holds, as the tools name them: the rows of src/kinds.ts that MCP reads (`org` first). */
export const readableKinds = (): string[] =>
	kinds()
		.filter((row) => row.readBy.mcp)
		.map((row) => row.name);
type ReadableKind = string;

type StateRead = Outcome<{ version: number; state: unknown }>;

export interface McpScope {
	env: Env;
	/** The org of the caller's API key: the only org any tool reads. */
	org: string;
}

// ---- input pieces ---------------------------------------------------------------------

const id = z.string().regex(ID_PATTERN, "must be 1-128 letters, digits or . _ - and start with a letter or digit");
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const INSTANT_RULE = "must be an ISO 8601 date or date-time with a zone (2026-11-20, 2026-11-20T14:00:00Z) or milliseconds since the epoch";
/** Date.parse rolls 2026-02-30 over into March; a real date reads back the same. */
function isRealInstant(text: string): boolean {
	const day = Date.parse(text.slice(0, 10));
	return !Number.isNaN(Date.parse(text)) && !Number.isNaN(day) && new Date(day).toISOString().startsWith(text.slice(0, 10));
}
const instant = z
	.union(
		[
			z.number().int(INSTANT_RULE).min(0, INSTANT_RULE),
			z.string().regex(ISO_INSTANT, { message: INSTANT_RULE, abort: true }).refine(isRealInstant, INSTANT_RULE),
		],
		{ error: INSTANT_RULE },
	)
	.transform((value) => (typeof value === "number" ? value : Date.parse(value)));
const after = z
	.number()
	.int()
	.min(0)
	.default(0)
	.describe("Only items after this seq: 0 for the start, then the `next` of the previous page.");
/** The `kind` input; built with each server, since the kinds table is complete only once the Worker serves. */
function kindInput() {
	const rows = kinds().filter((row) => row.readBy.mcp && row.name !== "org");
	const names = rows.map((row) => (row.label === row.name ? row.name : `${row.name} (${row.label})`)).join(", ");
	return z
		.enum(readableKinds() as [string, ...string[]])
		.describe(`Which kind of actor: org for the org itself, or one of its actors: ${names}.`);
}
const actorId = id.optional().describe("The actor's id (a session, camera or chat id). Leave it out for the org.");

/** An actor's id is required unless the kind is the org. */
function needsIdUnlessOrg(value: { kind: ReadableKind; id?: string | undefined }, ctx: z.RefinementCtx): void {
	if (value.kind !== "org" && value.id === undefined)
		ctx.addIssue({ code: "custom", path: ["id"], message: `is required when kind is ${value.kind}` });
}

// ---- output pieces --------------------------------------------------------------------

const json = z.record(z.string(), z.unknown());
const envelope = z.object({
	seq: z.number().int(),
	id: z.string(),
	type: z.string(),
	v: z.number().int(),
	ts: z.number().int(),
	actor: z.object({ kind: z.string(), org: z.string(), id: z.string() }),
	data: z.unknown(),
	meta: json,
	hash: z.string(),
	redacted: z.literal(true).optional(),
});
const next = z.number().int().nullable().describe("Pass as `after` for the next page; null on the last page.");
const sessionListing = z.object({
	session: z.string(),
	status: z.enum(["active", "ended"]),
	visit: z.number().int(),
	startedAt: z.number().int(),
	endedAt: z.number().int().nullable(),
	summary: json.nullable(),
});
const chatMessage = z.object({
	seq: z.number().int(),
	role: z.enum(["user", "assistant"]),
	messageId: z.string(),
	operationId: z.string(),
	text: z.string(),
	ts: z.number().int(),
});

// ---- results --------------------------------------------------------------------------

function answer(summary: string, structured: Record<string, unknown>): CallToolResult {
	return {
		content: [
			{ type: "text", text: summary },
			{ type: "text", text: JSON.stringify(structured) },
		],
		structuredContent: structured,
	};
}

/** A tool error that names the argument at fault, like the SDK's own input validation errors. */
function badArgument(tool: string, argument: string, message: string): CallToolResult {
	return { isError: true, content: [{ type: "text", text: `Invalid arguments for tool ${tool}: ${argument} ${message}` }] };
}

/** The refusal for a state over MAX_STATE_CHARS, saying its size and where to read it instead; null when it fits. */
function oversizedState(tool: string, what: string, version: number, state: unknown): CallToolResult | null {
	const chars = JSON.stringify(state)?.length ?? 0;
	if (chars <= MAX_STATE_CHARS) return null;
	const text =
		`The state of ${what} at version ${version} is ${chars} characters of JSON, over the ${MAX_STATE_CHARS} that ${tool} returns. ` +
		"Read its events with get_events (paged), or the whole state with GET /v1/orgs/{org}/{kind}/{id}/state.";
	return { isError: true, content: [{ type: "text", text }] };
}

/** The longest prefix of `items` whose JSON fits `budget` characters, but at least one item. */
export function fitPage<T>(items: readonly T[], budget = MAX_PAGE_CHARS): { items: T[]; cut: boolean } {
	let size = 2;
	for (let i = 0; i < items.length; i++) {
		size += JSON.stringify(items[i]).length + 1;
		if (size > budget && i > 0) return { items: items.slice(0, i), cut: true };
	}
	return { items: [...items], cut: false };
}

/** Where a page went on from: its own `next`, or the last seq kept when the page was ended early. */
function pageNext(kept: readonly { seq: number }[], cut: boolean, next: number | null): number | null {
	return cut ? (kept.at(-1)?.seq ?? next) : next;
}

const nextHint = (next: number | null) => (next === null ? "This is the last page." : `More: call again with after=${next}.`);

function countTypes(events: readonly EventEnvelope[]): string {
	const counts = new Map<string, number>();
	for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
	return [...counts].map(([type, n]) => `${type} ×${n}`).join(", ");
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

// ---- the server -----------------------------------------------------------------------

export function createMcpServer(scope: McpScope): McpServer {
	const server = new McpServer(
		{ name: "roost", title: "Roost", version: "0.1.0" },
		{
			// ajv compiles schemas with `new Function`, which Workers refuse; this validator does not.
			jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
			instructions:
				`Read-only access to the Roost org "${scope.org}": its web sessions, interactions, rollups and patterns, chats, and ` +
				"the event log and state (at any version) of any of its actors. Times are milliseconds since the epoch (UTC). " +
				"Lists come in pages: pass a page's `next` as `after` (or its `cursor`) to get the next one.",
		},
	);
	const { env, org } = scope;
	const kind = kindInput();
	const actorRef = z.object({ kind: z.enum(readableKinds() as [string, ...string[]]), id: z.string() });
	const orgActor = env.ORG.getByName(actorName(org, org));
	/** The actor a tool names; null when it names another org (only the org kind can). */
	const locate = (kindOf: ReadableKind, actor: string | undefined) => {
		if (kindOf === "org") return actor === undefined || actor === org ? { kind: kindOf, id: org } : null;
		return { kind: kindOf, id: actor as string };
	};
	const stubOf = (ref: { kind: ReadableKind; id: string }) => actorStub(env, { kind: ref.kind, org, id: ref.id });
	/** Whether an actor has ever had an event; one never written reads as empty. */
	const exists = async (ref: { kind: ReadableKind; id: string }) =>
		((await stubOf(ref).readEvents({ limit: 1 })) as EventPage).events.length > 0;
	// RPC typing cannot follow these values through the Outcome union; they are the kernel's own types.
	const readState = async (ref: { kind: ReadableKind; id: string }, at?: number) => (await stubOf(ref).readState(at)) as StateRead;
	const readEvents = async (ref: { kind: ReadableKind; id: string }, query: Parameters<EventSourcedActor<unknown>["readEvents"]>[0]) =>
		(await stubOf(ref).readEvents(query)) as EventPage;

	server.registerTool(
		"list_sessions",
		{
			title: "List web sessions",
			description:
				"The org's web sessions: active ones (a visit open now) first, newest first, then ended visits, newest first, with each " +
				"visit's summary (pages, clicks, duration, user). Filter by status and by time (when an active visit started, or when an " +
				"ended one ended). Paged: pass the returned `cursor` to get the next page.",
			inputSchema: z.strictObject({
				status: z.enum(["active", "ended", "all"]).default("all").describe("active: open now; ended: finished visits; all: both."),
				from: instant.optional().describe("Started (active) or ended (ended) at or after this instant."),
				to: instant.optional().describe("… and before this instant."),
				limit: z.number().int().min(1).max(200).default(50).describe("Sessions per page, 1..200."),
				cursor: z
					.string()
					.regex(SESSION_CURSOR, "must be the `cursor` of a previous page")
					.optional()
					.describe("The `cursor` of the previous page."),
			}),
			outputSchema: z.object({
				sessions: z.array(sessionListing),
				active: z.number().int().describe("Sessions active now (within the time filter)."),
				cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
			}),
			annotations: READ_ONLY,
		},
		async (input) => {
			const list = (await orgActor.listSessions(input)) as SessionList;
			const shown =
				list.sessions.length === 0 ? "No sessions on this page." : `${list.sessions.length} sessions (${list.active} active now in range).`;
			const more = list.cursor === null ? "This is the last page." : `More: call again with cursor "${list.cursor}".`;
			return answer(`${shown} ${more}`, { ...list });
		},
	);

	server.registerTool(
		"search_sessions",
		{
			title: "Search ended web visits",
			description:
				"Ended web visits, newest first (by when they ended), matching every filter given: a user id, a page path the visit viewed " +
				"(exactly, e.g. /shoes), and when it ended. Searches the org's whole history through an index. Paged: pass the returned `cursor`.",
			inputSchema: z.strictObject({
				userId: z.string().min(1).max(256).optional(),
				page: z.string().min(1).max(2048).optional(),
				from: instant.optional().describe("Ended at or after this instant."),
				to: instant.optional().describe("… and before this instant."),
				limit: z.number().int().min(1).max(200).default(20).describe("Visits per page, 1..200."),
				cursor: z
					.string()
					.regex(/^\d{1,16}\.\d{1,16}$/, "must be the `cursor` of a previous page")
					.optional(),
			}),
			outputSchema: z.object({
				sessions: z.array(
					z.object({
						session: z.string(),
						interactionId: z.string(),
						seq: z.number().int(),
						startedAt: z.number().int(),
						endedAt: z.number().int(),
						summary: json,
					}),
				),
				cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
				rebuilding: z.literal(true).optional().describe("The index is being rebuilt from the log: ask again shortly."),
			}),
			annotations: READ_ONLY,
		},
		async (input) => {
			const found = (await orgActor.searchSessions(input)) as { sessions: { session: string }[]; cursor: string | null; rebuilding?: true };
			const shown = found.rebuilding
				? "The session index is rebuilding; ask again shortly."
				: found.sessions.length === 0
					? "No ended web visit matches."
					: `${found.sessions.length} ended visits.`;
			const more = found.cursor === null ? "" : ` More: call again with cursor "${found.cursor}".`;
			return answer(`${shown}${more}`, { ...found });
		},
	);

	server.registerTool(
		"get_session",
		{
			title: "Get a web session",
			description:
				"One web session's state: its status (new, active, ended), the open visit (pages, clicks, errors, custom events), the " +
				"identified user and traits, and the summaries of its ended visits. An id the org has never seen gives found=false.",
			inputSchema: z.strictObject({ id: id.describe("The session id.") }),
			outputSchema: z.object({ session: z.string(), found: z.boolean(), version: z.number().int(), state: json.nullable() }),
			annotations: READ_ONLY,
		},
		async ({ id: session }) => {
			const read = await readState({ kind: "session", id: session });
			if (!read.ok || read.value.version === 0) {
				return answer(`No session ${session} in this org.`, { session, found: false, version: 0, state: null });
			}
			const tooLarge = oversizedState("get_session", `session ${session}`, read.value.version, read.value.state);
			if (tooLarge) return tooLarge;
			const state = read.value.state as { status?: string; currentPage?: string | null; endedVisits?: unknown[]; visitsEnded?: number };
			const where = state.currentPage ? ` on ${state.currentPage}` : "";
			return answer(
				`Session ${session}: ${state.status}${where}, version ${read.value.version}, ${state.visitsEnded ?? state.endedVisits?.length ?? 0} ended visits.`,
				{ session, found: true, version: read.value.version, state: read.value.state as Record<string, unknown> },
			);
		},
	);

	server.registerTool(
		"get_interactions",
		{
			title: "Get interactions",
			description:
				"Interactions the org received, oldest first: one per ended web visit, camera episode or chat, with its summary. Each has " +
				"the seq where it sits in the org's log; page with `after` (the `next` of the previous page).",
			inputSchema: z.strictObject({
				after,
				limit: z.number().int().min(1).max(100).default(20).describe("Interactions per page, 1..100."),
			}),
			outputSchema: z.object({ interactions: z.array(json), next }),
			annotations: READ_ONLY,
		},
		async (input) => {
			const page = (await orgActor.interactions(input)) as {
				interactions: (Record<string, unknown> & { seq: number })[];
				next: number | null;
			};
			const fit = fitPage(page.interactions);
			const nextAfter = pageNext(fit.items, fit.cut, page.next);
			const range = fit.items.length
				? `${fit.items.length} interactions (seq ${fit.items[0]?.seq}..${fit.items.at(-1)?.seq}).`
				: "No interactions.";
			return answer(`${range} ${nextHint(nextAfter)}`, { interactions: fit.items, next: nextAfter });
		},
	);

	server.registerTool(
		"get_patterns",
		{
			title: "Get rollups and patterns",
			description:
				"The org's rollups for a period (counts, rates, top pages and click targets, camera and chat figures), newest first, the " +
				"patterns detected in them (spikes and drops against the baseline) and the reports written on them. `all` is all time.",
			inputSchema: z.strictObject({
				period: z
					.enum([...PERIODS, "all"])
					.default("daily")
					.describe("hourly, daily, weekly, monthly, yearly, or all (all time)."),
				limit: z.number().int().min(1).max(200).default(24).describe("How many rollups, patterns and reports, newest first, 1..200."),
			}),
			outputSchema: z.object({
				period: z.string(),
				rollups: z.array(json),
				patterns: z.array(json),
				reports: z.array(json),
				more: z.boolean().describe("True when older rollups, patterns or reports exist: ask again with a larger limit."),
			}),
			annotations: READ_ONLY,
		},
		async ({ period, limit }) => {
			// One more than asked shows whether there is more; the org keeps at most 200 of each, so 200 needs no probe.
			const probe = limit < 200 ? limit + 1 : limit;
			const view = (await orgActor.patterns({ period, limit: probe })) as {
				period: string;
				rollups: Record<string, unknown>[];
				patterns: Record<string, unknown>[];
				reports: Record<string, unknown>[];
			};
			const more = [view.rollups, view.patterns, view.reports].some((list) => list.length > limit);
			const rollups = view.rollups.slice(0, limit);
			const patterns = view.patterns.slice(0, limit);
			const reports = view.reports.slice(0, limit);
			const newest = rollups[0] as { label?: string } | undefined;
			const summary =
				`${period}: ${rollups.length} rollups${newest?.label ? ` (newest ${newest.label})` : ""}, ${patterns.length} patterns, ` +
				`${reports.length} reports.${more ? ` More exist: ask with a limit above ${limit}.` : ""}`;
			return answer(summary, { period: view.period, rollups, patterns, reports, more });
		},
	);

	server.registerTool(
		"get_chat",
		{
			title: "Get a chat",
			description:
				"One chat: its state (message count, running answer, queue, recent answers and how they ended, token usage, summary) and " +
				"its user and assistant messages in order, paged by seq with `after`. An id the org has never seen gives found=false.",
			inputSchema: z.strictObject({
				id: id.describe("The chat id."),
				after,
				limit: z.number().int().min(1).max(100).default(20).describe("Messages per page, 1..100."),
			}),
			outputSchema: z.object({
				chat: z.string(),
				found: z.boolean(),
				version: z.number().int(),
				state: json.nullable(),
				messages: z.array(chatMessage),
				next,
			}),
			annotations: READ_ONLY,
		},
		async ({ id: chat, after: from, limit }) => {
			const ref = { kind: "chat", id: chat } as const;
			const [read, asked, answered] = await Promise.all([
				readState(ref),
				readEvents(ref, { after: from, limit, type: "chat.user_message" }),
				readEvents(ref, { after: from, limit, type: "chat.assistant_message" }),
			]);
			if (!read.ok || read.value.version === 0) {
				return answer(`No chat ${chat} in this org.`, { chat, found: false, version: 0, state: null, messages: [], next: null });
			}
			const merged = [...asked.events, ...answered.events].sort((a, b) => a.seq - b.seq).map(chatMessageOf);
			const fit = fitPage(merged.slice(0, limit));
			const more = merged.length > limit || asked.next !== null || answered.next !== null || fit.cut;
			const nextAfter = more ? (fit.items.at(-1)?.seq ?? null) : null;
			// The model's window repeats messages the page already has; the rest of the state is the chat's own.
			const { window: _window, ...state } = read.value.state as Record<string, unknown>;
			const tooLarge = oversizedState("get_chat", `chat ${chat}`, read.value.version, state);
			if (tooLarge) return tooLarge;
			const running = state.operation ? "answering" : "idle";
			const shown = fit.items.length
				? `${fit.items.length} messages shown (seq ${fit.items[0]?.seq}..${fit.items.at(-1)?.seq})`
				: "no messages after that seq";
			return answer(`Chat ${chat}: ${state.messages ?? 0} messages, ${running}; ${shown}. ${nextHint(nextAfter)}`, {
				chat,
				found: true,
				version: read.value.version,
				state,
				messages: fit.items,
				next: nextAfter,
			});
		},
	);

	server.registerTool(
		"get_events",
		{
			title: "Get an actor's events",
			description:
				"A page of any actor's event log in seq order (the org itself, a web session, a camera or a chat), optionally of one event " +
				"type. Each event has seq, id, type, schema version v, ts, data, meta and its chain hash. Page with `after` (the `next` " +
				"of the previous page). An actor that never existed has no events.",
			inputSchema: z
				.strictObject({
					kind,
					id: actorId,
					after,
					limit: z.number().int().min(1).max(1000).default(100).describe("Events per page, 1..1000."),
					type: z.string().min(1).max(128).optional().describe("Only events of this type, e.g. session.page_viewed."),
					raw: z.boolean().default(false).describe("true: events as stored, without lifting old schema versions to the current one."),
				})
				.superRefine(needsIdUnlessOrg),
			outputSchema: z.object({ actor: actorRef, events: z.array(envelope), next }),
			annotations: READ_ONLY,
		},
		async (input) => {
			const ref = locate(input.kind, input.id);
			if (!ref)
				return answer(`No org ${input.id}: this key reads only org ${org}.`, {
					actor: { kind: "org", id: input.id },
					events: [],
					next: null,
				});
			const page = await readEvents(ref, { after: input.after, limit: input.limit, type: input.type, raw: input.raw });
			const fit = fitPage(page.events);
			const nextAfter = pageNext(fit.items, fit.cut, page.next);
			const name = `${ref.kind} ${ref.id}`;
			const shown = fit.items.length
				? `${fit.items.length} events of ${name} (seq ${fit.items[0]?.seq}..${fit.items.at(-1)?.seq}: ${countTypes(fit.items)}).`
				: `No events of ${name} after seq ${input.after}${input.type ? ` of type ${input.type}` : ""}.`;
			return answer(`${shown} ${nextHint(nextAfter)}`, { actor: ref, events: fit.items, next: nextAfter });
		},
	);

	server.registerTool(
		"get_state_at",
		{
			title: "Get an actor's state at a version",
			description:
				"Any actor's state (the org itself, a web session, a camera or a chat) now, or as it was at version `at` (after its first " +
				"`at` events), recomputed from its log. An actor that never existed gives found=false.",
			inputSchema: z
				.strictObject({
					kind,
					id: actorId,
					at: z.number().int().min(0).optional().describe("The version (a seq of its log) to compute the state at; now if left out."),
				})
				.superRefine(needsIdUnlessOrg),
			outputSchema: z.object({ actor: actorRef, found: z.boolean(), version: z.number().int(), state: z.unknown() }),
			annotations: READ_ONLY,
		},
		async (input) => {
			const ref = locate(input.kind, input.id);
			const nothing = (actor: { kind: ReadableKind; id: string | undefined }) =>
				answer(`No ${actor.kind} ${actor.id} in this org.`, { actor, found: false, version: 0, state: null });
			if (!ref) return nothing({ kind: "org", id: input.id });
			const read = await readState(ref, input.at);
			if (!read.ok) {
				if (!(await exists(ref))) return nothing(ref);
				const reason =
					read.error.kind === "invalid"
						? (read.error.errors.find((e) => e.path === "at")?.message ?? read.error.detail)
						: read.error.detail;
				return badArgument("get_state_at", "at", reason);
			}
			const { version, state } = read.value;
			// Version 0 now means no events at all; version 0 asked for (`at: 0`) is the start of an actor that may exist.
			if (version === 0 && (input.at === undefined || !(await exists(ref)))) return nothing(ref);
			const tooLarge = oversizedState("get_state_at", `${ref.kind} ${ref.id}`, version, state);
			if (tooLarge) return tooLarge;
			const when = input.at === undefined ? `now (version ${version})` : `at version ${version}`;
			return answer(`State of ${ref.kind} ${ref.id} ${when}.`, { actor: ref, found: true, version, state });
		},
	);

	return server;
}

function chatMessageOf(event: EventEnvelope): z.infer<typeof chatMessage> {
	const data = event.data as { messageId: string; operationId: string; text: string };
	return {
		seq: event.seq,
		role: event.type === "chat.user_message" ? "user" : "assistant",
		messageId: data.messageId,
		operationId: data.operationId,
		text: data.text,
		ts: event.ts,
	};
}
