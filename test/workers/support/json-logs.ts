/**
 * Every line the Worker writes while the workers project runs is one JSON object (docs/operations.md, "Logs").
 * A setup file of the workers project: console is wrapped for each test file, a line written from a module under
 * src/ (known by its call stack) that is not one JSON object is kept, and the file fails naming each one. Lines
 * written by tests, the vitest plugin or workerd itself are not the Worker's and are passed through unchecked.
 */
import { afterAll, expect } from "vitest";

const METHODS = ["log", "info", "warn", "error", "debug"] as const;
const bad: string[] = [];

/** Whether a call to console came from the Worker's own code: the first frame outside this file is under src/. */
function fromWorker(stack: string | undefined): boolean {
	const frames = (stack ?? "").split("\n").slice(1);
	const caller = frames.find((frame) => !frame.includes("json-logs.ts") && /\.(ts|js|mjs)/.test(frame));
	return caller !== undefined && /\/src\//.test(caller) && !/\/src\/(cli|sdk)\//.test(caller);
}

function isJsonObject(line: string): boolean {
	try {
		const parsed: unknown = JSON.parse(line);
		return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
	} catch {
		return false;
	}
}

for (const method of METHODS) {
	const original = console[method].bind(console);
	console[method] = (...args: unknown[]) => {
		if (fromWorker(new Error().stack)) {
			const line = args.map(String).join(" ");
			if (!isJsonObject(line)) bad.push(`console.${method}: ${line.slice(0, 300)}`);
		}
		original(...args);
	};
}

afterAll(() => {
	expect(bad, "log lines the Worker wrote that are not one JSON object").toEqual([]);
});
