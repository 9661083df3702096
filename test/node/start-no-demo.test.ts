/**
 * `npm start -- --no-demo` on a fresh state: the real script (scripts/start.mjs, wrangler dev on a local workerd)
 * still creates the demo org and prints its keys, but brings none of the demo to life: no short timeouts, no
 * simulated visitors, no camera, no backfilled history (test/browser/live-demo.test.ts covers the demo itself).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type NpmStart, npmStart, printedLines, stopNpmStart } from "../support/npm-start.ts";

let stateDir: string;
let start: NpmStart;
let output = "";
let base: string;
let org: string;
let apiKey: string;

async function api<T>(path: string): Promise<T> {
	const res = await fetch(`${base}/v1/orgs/${org}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
	if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

beforeAll(async () => {
	stateDir = mkdtempSync(join(tmpdir(), "roost-no-demo-"));
	const port = await freePort();
	const inspectorPort = await freePort();
	base = `http://localhost:${port}`;
	start = npmStart(["--no-demo"], { port, inspectorPort, stateDir });
	output = await printedLines(start, /Admin token:.*\n/);
	org = output.match(/Demo org:\s+(\S+)/)?.[1] ?? "";
	apiKey = output.match(/API key:\s+(\S+)/)?.[1] ?? "";
}, 120_000);

afterAll(async () => {
	await stopNpmStart(start);
	rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

describe("npm start -- --no-demo", () => {
	it("prints the demo org and its keys, and none of the demo's lines", () => {
		expect(org).toMatch(/^\S+$/);
		expect(apiKey).toMatch(/^rk_/);
		expect(start.output()).toContain("created now");
		for (const line of ["Timeouts:", "Demo traffic:", "Demo camera:", "History:"]) expect(start.output()).not.toContain(line);
	});

	it("leaves the org as created: no short timeouts, no camera, no visitors, no history", async () => {
		// The demo's camera posts a frame every 2 s and its visitors start at once: give them time to show if they ran.
		await new Promise((resolve) => setTimeout(resolve, 8_000));
		const settings = await api<{ sessionInactivitySeconds?: number }>("/settings");
		expect(settings.sessionInactivitySeconds).not.toBe(120);
		expect((await api<{ cameras: unknown[] }>("/cameras")).cameras).toEqual([]);
		expect((await api<{ sessions: unknown[] }>("/sessions")).sessions).toEqual([]);
		const demoFile = join(stateDir, "roost-demo.json");
		expect(existsSync(demoFile)).toBe(true);
		const demo = JSON.parse(readFileSync(demoFile, "utf8")) as Record<string, unknown>;
		expect(demo.org).toBe(org);
		expect(demo).not.toHaveProperty("backfillFrom");
		expect(demo).not.toHaveProperty("settingsApplied");
	}, 30_000);
});
