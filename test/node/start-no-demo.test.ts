/**
 * `npm start -- --no-demo` on a fresh state: the real script (scripts/start.mjs, wrangler dev on a local workerd)
 * still creates the demo org and prints its keys, but brings none of the demo to life: no short timeouts, no
 * simulated visitors, no camera, no backfilled history (test/browser/live-demo.test.ts covers the demo itself).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stateDir: string;
let child: ChildProcess;
let output = "";
let base: string;
let org: string;
let apiKey: string;

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

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
	child = spawn(process.execPath, ["scripts/start.mjs", "--no-demo", "--inspector-port", String(inspectorPort)], {
		env: {
			...process.env,
			PATH: `${join(process.cwd(), "node_modules/.bin")}:${process.env.PATH ?? ""}`,
			PORT: String(port),
			ROOST_STATE_DIR: stateDir,
			WRANGLER_SEND_METRICS: "false",
			CLOUDFLARE_CF_FETCH_ENABLED: "false",
		},
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	child.stdout?.on("data", (chunk) => {
		output += String(chunk);
	});
	child.stderr?.on("data", (chunk) => {
		output += String(chunk);
	});
	await new Promise<void>((resolve, reject) => {
		const timer = setInterval(() => {
			if (/Admin token:.*\n/.test(output)) {
				clearInterval(timer);
				resolve();
			} else if (child.exitCode !== null) {
				clearInterval(timer);
				reject(new Error(`npm start -- --no-demo exited with ${child.exitCode}:\n${output.slice(-3000)}`));
			}
		}, 100);
	});
	org = output.match(/Demo org:\s+(\S+)/)?.[1] ?? "";
	apiKey = output.match(/API key:\s+(\S+)/)?.[1] ?? "";
}, 120_000);

afterAll(async () => {
	if (child?.pid && child.exitCode === null) {
		process.kill(-child.pid, "SIGTERM");
		const exited = new Promise((resolve) => child.once("exit", resolve));
		const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
		if (!stopped) process.kill(-child.pid, "SIGKILL");
	}
	rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

describe("npm start -- --no-demo", () => {
	it("prints the demo org and its keys, and none of the demo's lines", () => {
		expect(org).toMatch(/^\S+$/);
		expect(apiKey).toMatch(/^rk_/);
		expect(output).toContain("created now");
		for (const line of ["Timeouts:", "Demo traffic:", "Demo camera:", "History:"]) expect(output).not.toContain(line);
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
