/**
 * The org's and the chat's reverse-by-type reads (session search, session directory, chat history, tool names)
 * read rows through the catalog's upcasters. The real catalogs have no v2 of these types yet, so these tests
 * read v1 rows through catalogs that do, with the same read helpers the actors use.
 */

import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, EventCatalog } from "../../src/events/catalog.ts";
import { userMessage } from "../../src/events/chat.ts";
import { interactionSchema } from "../../src/events/interaction.ts";
import { eventForFold, type StoredRow, storedEventOf } from "../../src/events/stored.ts";
import { interactionsProjection } from "../../src/reducers/org-projections.ts";

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

describe("the org's interactions projection reads events upcast", () => {
	const rows = [visit(3, "s1"), visit(7, "s2")];
	/** The projection's tables in a real SQLite (Node's), fed events as the kernel feeds them: upcast by the catalog. */
	function project(read: (row: StoredRow) => Parameters<typeof interactionsProjection.apply>[0]) {
		const db = new DatabaseSync(":memory:");
		for (const statement of interactionsProjection.ddl) db.exec(statement);
		const sql = { exec: (query: string, ...bindings: (string | number | null)[]) => db.prepare(query).run(...bindings) };
		for (const row of rows) interactionsProjection.apply(read(row), sql);
		return db;
	}

	it("a v1 interaction, upcast, is a web visit indexed by its page", () => {
		const db = project((row) => eventForFold(row, withV2Interactions));
		expect(db.prepare("SELECT seq, source, actor_id FROM proj_interactions ORDER BY seq").all()).toEqual([
			{ seq: 3, source: "web", actor_id: "s1" },
			{ seq: 7, source: "web", actor_id: "s2" },
		]);
		expect(db.prepare("SELECT seq FROM proj_interaction_pages WHERE path = ? ORDER BY seq").all("/shoes")).toEqual([
			{ seq: 3 },
			{ seq: 7 },
		]);
	});

	it("without the upcast the same rows have no source, and the projection cannot store them: it depends on it", () => {
		expect(() => project((row) => ({ ...row, data: JSON.parse(row.data), meta: {} }))).toThrow(/cannot be bound/);
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
