/** The catalog refuses an event version newer than it knows (a rollback, docs/deploy.md), on validate and on upcast. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, EventCatalog } from "../../src/events/catalog.ts";
import { isNewerVersionError, NewerEventVersionError } from "../../src/events/newer-version.ts";
import { recordedFromRow } from "../../src/events/stored.ts";

const renamed = defineEvent("demo.renamed", z.object({ name: z.string() }), {
	version: 2,
	legacy: { 1: { schema: z.object({ title: z.string() }), upcast: (data: { title: string }) => ({ name: data.title }) } },
});
const catalog = new EventCatalog([renamed]);
const row = (v: number, data: unknown) => ({ seq: 1, id: "e1", type: "demo.renamed", v, ts: 0, data: JSON.stringify(data), meta: "{}" });

describe("a version newer than the catalog knows", () => {
	it("is refused by validate, naming the field and saying a newer version of Roost wrote it", () => {
		expect(catalog.validate("demo.renamed", { name: "x" }, 3, "events[0]")).toEqual({
			ok: false,
			errors: [
				{
					path: "events[0].v",
					message: expect.stringMatching(/^demo\.renamed v3 was written by a newer version of Roost: this deployment knows up to v2\./),
				},
			],
		});
	});

	it("is refused by upcast, and so by every stored read, instead of passing through to a fold", () => {
		expect(() => catalog.upcast("demo.renamed", 3, { name: "x" })).toThrow(NewerEventVersionError);
		expect(() => recordedFromRow(row(3, { name: "x" }), catalog)).toThrow(/written by a newer version of Roost/);
		// Without a catalog (`?raw=true`) the row is returned as written.
		expect(recordedFromRow(row(3, { name: "x" })).v).toBe(3);
	});

	it("is recognised after crossing RPC, where only the message survives", () => {
		const crossed = new Error(new NewerEventVersionError("demo.renamed", 3, 2).message);
		expect(isNewerVersionError(crossed)).toBe(true);
		expect(isNewerVersionError(new Error("something else"))).toBe(false);
	});

	it("older and current versions still upcast as before", () => {
		expect(catalog.upcast("demo.renamed", 1, { title: "x" })).toEqual({ v: 2, data: { name: "x" } });
		expect(catalog.upcast("demo.renamed", 2, { name: "x" })).toEqual({ v: 2, data: { name: "x" } });
		expect(catalog.upcast("demo.unknown", 7, { any: 1 })).toEqual({ v: 7, data: { any: 1 } });
	});
});
