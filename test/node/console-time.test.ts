import { describe, expect, it } from "vitest";
import { isoTime } from "../../web/src/shared/format.ts";

describe("the console's time of an event (security review: unbounded session ts)", () => {
	it("shows a valid instant as ISO 8601", () => {
		expect(isoTime(Date.UTC(2030, 0, 2, 3, 4, 5))).toBe("2030-01-02T03:04:05.000Z");
		expect(isoTime(-1)).toBe("1969-12-31T23:59:59.999Z");
	});

	it("shows a stored value that is no date as the raw number instead of failing", () => {
		expect(isoTime(9e15)).toBe("9000000000000000");
		expect(isoTime(-9e15)).toBe("-9000000000000000");
		expect(isoTime(Number.NaN)).toBe("NaN");
	});
});
