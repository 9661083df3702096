/**
 * The org's and the chat's reverse-by-type reads (session search, session directory, chat history, tool names)
 * read rows through the catalog's upcasters. The real catalogs have no v2 of these types yet, so these tests
 * read v1 rows through catalogs that do, with the same read helpers the actors use.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { listSessions, searchSessions, storedInteractions } from "../../src/actors/org-sessions.ts";
import { defineEvent, EventCatalog } from "../../src/events/catalog.ts";
import { userMessage } from "../../src/events/chat.ts";
import { interactionSchema } from "../../src/events/interaction.ts";
import { type StoredRow, storedEventOf } from "../../src/events/stored.ts";

/** A v1 interaction had no `source`: every interaction was a web visit. */
const interactionV1 = interactionSchema.omit({ source: true });
const withV2Interactions = new EventCatalog([
	defineEvent("org.interaction_recorded", interactionSchema, {
		version: 2,
		internal: true,
		legacy: { 1: { schema: interactionV1, upcast: (data: z.infer<typeof interactionV1>) => ({ ...data, source: "web" as const }) } },
	}),
]);

const row = (seq: number, type: string, v: number, data: unknown): StoredRow => ({
	seq,
	id: `e${seq}`,
	type,
	v,
	ts: 1000 + seq,
	data: JSON.stringify(data),
	meta: "{}",
});
const visit = (seq: number, session: string) =>
	row(seq, "org.interaction_recorded", 1, {
		id: `session:${session}:visit-1`,
		actor: { kind: "session", id: session },
		startedAt: 10,
		endedAt: 20,
		summary: { visit: 1, userId: "u-1", pages: ["/shoes"] },
	});

describe("the org's reverse-by-type reads", () => {
	const rows = [visit(7, "s2"), visit(3, "s1")];

	it("a search reads a v1 interaction upcast: it is a web visit, found by its user and page", () => {
		const found = searchSessions(storedInteractions(rows, withV2Interactions), { userId: "u-1", page: "/shoes" });
		expect(found.sessions.map((s) => [s.session, s.seq])).toEqual([
			["s2", 7],
			["s1", 3],
		]);
	});

	it("the session directory lists v1 interactions upcast as ended visits", () => {
		const listed = listSessions({}, (before) =>
			storedInteractions(
				rows.filter((r) => r.seq < before),
				withV2Interactions,
			),
		);
		expect(listed.sessions.map((s) => [s.session, s.status, s.visit])).toEqual([
			["s2", "ended", 1],
			["s1", "ended", 1],
		]);
	});

	it("without the upcast the same rows have no source, and a search finds nothing: the read depends on it", () => {
		const asStored = rows.map((r) => ({ seq: r.seq, interaction: JSON.parse(r.data) }));
		expect(searchSessions(asStored, { userId: "u-1" }).sessions).toEqual([]);
	});
});

describe("the chat's reverse-by-type reads", () => {
	/** A v1 user message called its text `body`. */
	const messageV1 = z.object({ messageId: z.string(), operationId: z.string(), body: z.string() });
	const withV2Messages = new EventCatalog([
		defineEvent("chat.user_message", userMessage.schema, {
			version: 2,
			internal: true,
			legacy: { 1: { schema: messageV1, upcast: ({ body, ...rest }: z.infer<typeof messageV1>) => ({ ...rest, text: body }) } },
		}),
	]);

	it("chat history reads a v1 user message upcast, its text where v2 keeps it", () => {
		const stored = row(4, "chat.user_message", 1, { messageId: "m", operationId: "o", body: "hello" });
		const event = storedEventOf(stored, withV2Messages, "chat.user_message");
		expect(event).toMatchObject({ seq: 4, v: 2, data: { text: "hello" } });
	});

	it("a row of another type is refused rather than read as the wrong shape", () => {
		expect(() => storedEventOf(row(5, "llm.token", 1, {}), withV2Messages, "chat.user_message")).toThrow(/not chat.user_message/);
	});
});
