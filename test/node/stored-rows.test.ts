import { describe, expect, it } from "vitest";
import { eventForFold, recordedFromRow, type StoredRow } from "../../src/events/stored.ts";
import { fold } from "../../src/reducers/definition.ts";
import { sessionDefinition } from "../../src/reducers/session.ts";

const { catalog } = sessionDefinition;
const meta = JSON.stringify({ requestId: "req-1", correlationId: "corr-1", clientActionId: "act-1" });

const rows: StoredRow[] = [
	{ seq: 1, id: "e0:started", type: "session.started", v: 1, ts: 1000, data: JSON.stringify({ visit: 1 }), meta },
	// Written at version 1 (no path): folding it must upcast it as the kernel does.
	{ seq: 2, id: "e1", type: "session.page_viewed", v: 1, ts: 2000, data: JSON.stringify({ url: "https://shop.example/a?x=1" }), meta },
	{ seq: 3, id: "e2", type: "session.clicked", v: 1, ts: 3000, data: JSON.stringify({ target: "button.buy" }), meta },
];

describe("stored rows read back for a fold", () => {
	it("carries the row's fields and the upcast data, and parses meta when it is read", () => {
		const event = eventForFold(rows[1] as StoredRow, catalog);
		expect([event.seq, event.id, event.type, event.ts]).toEqual([2, "e1", "session.page_viewed", 2000]);
		expect(event.v).toBe(2);
		expect(event.data).toEqual({ url: "https://shop.example/a?x=1", path: "/a" });
		expect(event.meta).toEqual({ requestId: "req-1", correlationId: "corr-1", clientActionId: "act-1" });
		// Read twice, the same object (parsed once).
		expect(event.meta).toBe(event.meta);
	});

	it("folds to the same state as fully parsed events", () => {
		expect(
			fold(
				sessionDefinition,
				rows.map((row) => eventForFold(row, catalog)),
			),
		).toEqual(
			fold(
				sessionDefinition,
				rows.map((row) => recordedFromRow(row, catalog)),
			),
		);
	});

	it("recordedFromRow without a catalog keeps the version and data as written (raw reads)", () => {
		const raw = recordedFromRow(rows[1] as StoredRow);
		expect([raw.v, raw.data]).toEqual([1, { url: "https://shop.example/a?x=1" }]);
		expect(recordedFromRow(rows[1] as StoredRow, catalog).v).toBe(2);
	});

	it("recordedFromRow gives a plain object with meta as an own property, for envelopes", () => {
		const event = recordedFromRow(rows[2] as StoredRow, catalog);
		expect(JSON.parse(JSON.stringify(event))).toEqual({
			seq: 3,
			id: "e2",
			type: "session.clicked",
			v: 1,
			ts: 3000,
			data: { target: "button.buy" },
			meta: { requestId: "req-1", correlationId: "corr-1", clientActionId: "act-1" },
		});
	});
});
