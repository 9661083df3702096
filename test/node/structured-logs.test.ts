/**
 * Structured logs (docs/operations.md): the Worker's code writes through `log` (src/core/log.ts) only, so every line
 * is JSON. The CLI and the SDK, which print for people, are left out.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { errorText, log } from "../../src/core/log.ts";

const SRC = join(import.meta.dirname, "../../src");
const PRINTS_FOR_PEOPLE = ["cli/", "sdk/", "core/log.ts"];

function sources(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return sources(path);
		return entry.name.endsWith(".ts") ? [path] : [];
	});
}

afterEach(() => vi.restoreAllMocks());

describe("structured logs", () => {
	it("no Worker module calls console directly: every line goes through log()", () => {
		const offenders = sources(SRC)
			.filter((path) => !PRINTS_FOR_PEOPLE.some((prefix) => relative(SRC, path).startsWith(prefix)))
			.flatMap((path) =>
				readFileSync(path, "utf8")
					.split("\n")
					.map((line, i) => ({ line, at: `${relative(SRC, path)}:${i + 1}` }))
					.filter(({ line }) => /\bconsole\s*\.\s*[a-z]+\s*\(/.test(line)),
			)
			.map(({ at }) => at);
		expect(offenders).toEqual([]);
	});

	it("log() writes one JSON object per call, at its level, leaving out undefined fields", () => {
		const lines: string[] = [];
		for (const method of ["log", "warn", "error"] as const)
			vi.spyOn(console, method).mockImplementation((line: string) => lines.push(line));
		log("info", "request", { status: 200, org: undefined });
		log("warn", "timer failed", { error: errorText(new TypeError("bad\nline")) });
		log("error", "work parked", { attempts: 50 });
		expect(lines.map((line) => JSON.parse(line))).toEqual([
			{ level: "info", msg: "request", status: 200 },
			{ level: "warn", msg: "timer failed", error: "TypeError: bad\nline" },
			{ level: "error", msg: "work parked", attempts: 50 },
		]);
		expect(lines.every((line) => !line.includes("\n"))).toBe(true);
	});
});
