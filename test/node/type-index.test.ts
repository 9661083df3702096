/**
 * The type index's list of unindexed types (src/actors/type-index.ts) against the migrations that create the index,
 * and against the types code reads by type.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isIndexedType, TYPE_INDEX_WHERE, UNINDEXED_TYPES } from "../../src/actors/type-index.ts";
import { AUDITED_ORG_EVENTS } from "../../src/events/org-audit.ts";
import { CLIENT_SESSION_EVENT_TYPES } from "../../src/events/session.ts";

/** The tests run from the repository root (as code-shape.test.ts reads biome.json). */
const dir = "migrations";

describe("the type index's unindexed types", () => {
	it("are the index's WHERE in the latest migration that creates it (a flag changed without `npm run db:generate` fails here)", () => {
		const creates = readdirSync(dir)
			.filter((name) => name.endsWith(".sql"))
			.sort()
			.map((name) => readFileSync(join(dir, name), "utf8"))
			.flatMap((text) => text.split("--> statement-breakpoint"))
			.filter((statement) => /CREATE INDEX `events_type_seq`/.test(statement));
		expect(creates.at(-1)?.trim().replace(/;$/, "")).toBe(
			`CREATE INDEX \`events_type_seq\` ON \`events\` (\`type\`,\`seq\`) WHERE ${TYPE_INDEX_WHERE}`,
		);
	});

	it("are the SDK's session types, the chat's tokens and the camera's frames, and no type that code reads by type", () => {
		expect(UNINDEXED_TYPES).toEqual([...CLIENT_SESSION_EVENT_TYPES, "llm.token", "camera.frame_received", "camera.frame_analyzed"].sort());
		// Read by type: the org's interactions, visit starts, camera changes and audit trail; a chat's messages and tool calls.
		const readByType = [
			"org.interaction_recorded",
			"org.visit_started",
			"org.camera_status",
			...AUDITED_ORG_EVENTS,
			"llm.tool_called",
			"chat.user_message",
			"chat.assistant_message",
		];
		for (const type of readByType) expect(isIndexedType(type), type).toBe(true);
	});
});
