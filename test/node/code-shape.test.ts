/**
 * The shape the kernel refactor left (docs/architecture.md): actor files stay small, functions short, and event
 * data is typed by its catalog instead of cast. These hold for code added later, so features land in that shape.
 * Function length (at most 80 lines in src/actors and src/reducers) is Biome's noExcessiveLinesPerFunction, set in
 * biome.json, which `npm run lint` checks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const MAX_ACTOR_FILE_LINES = 400;

function sources(dir: string): string[] {
	return readdirSync(dir, { recursive: true, encoding: "utf8" })
		.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
		.map((f) => join(dir, f));
}

const checked = [...sources("src/actors"), ...sources("src/reducers")];

describe("code shape", () => {
	it("checks the files it means to", () => {
		expect(checked).toContain(join("src/actors", "actor.ts"));
		expect(checked).toContain(join("src/reducers", "org.ts"));
		expect(JSON.parse(readFileSync("biome.json", "utf8")).overrides).toEqual(
			expect.arrayContaining([expect.objectContaining({ includes: ["src/actors/**", "src/reducers/**"] })]),
		);
		expect(checked.some((f) => f.startsWith(join("src/actors", "kernel")))).toBe(true);
	});

	it(`no file in src/actors is above ${MAX_ACTOR_FILE_LINES} lines`, () => {
		const long = sources("src/actors")
			.map((f) => ({ f, lines: readFileSync(f, "utf8").split("\n").length - 1 }))
			.filter(({ lines }) => lines > MAX_ACTOR_FILE_LINES)
			.map(({ f, lines }) => `${f}: ${lines} lines`);
		expect(long).toEqual([]);
	});

	it("event data in src/actors and src/reducers is typed by its catalog, never cast with `.data as`", () => {
		const casts = checked.flatMap((f) =>
			readFileSync(f, "utf8")
				.split("\n")
				.flatMap((line, i) => (/\.data as\b/.test(line) ? [`${f}:${i + 1}`] : [])),
		);
		expect(casts).toEqual([]);
	});
});
