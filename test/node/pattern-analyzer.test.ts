/// <reference types="node" />
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RollupRecord } from "../../src/patterns/detect.ts";
import { emptyMetrics } from "../../src/patterns/metrics.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2031, 0, 5);
let server: ChildProcess;
let base: string;

async function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const probe = createServer().listen(0, "127.0.0.1", () => {
			const address = probe.address();
			probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

const hour = (i: number, interactions: number): RollupRecord => {
	const metrics = emptyMetrics();
	metrics.interactions = interactions;
	return { period: "hourly", start: T0 + i * HOUR, end: T0 + (i + 1) * HOUR, metrics };
};

beforeAll(async () => {
	const port = await freePort();
	base = `http://127.0.0.1:${port}`;
	// The container's app exactly as the Dockerfile runs it: Node on the TypeScript source.
	server = spawn(process.execPath, ["containers/pattern-analyzer/server.ts"], {
		env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
		stdio: "pipe",
	});
	await new Promise<void>((resolve, reject) => {
		server.stdout?.on("data", (chunk) => String(chunk).includes("listening") && resolve());
		server.on("exit", (code) => reject(new Error(`analyzer exited with ${code}`)));
	});
});
afterAll(() => {
	server.kill("SIGTERM");
});

describe("pattern analyzer container app", () => {
	it("GET /health answers ok", async () => {
		const res = await fetch(`${base}/health`);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ ok: true });
	});

	it("POST /analyze finds a spike against the baseline it is sent, and nothing in a flat series", async () => {
		const earlier = Array.from({ length: 24 }, (_, i) => hour(i, 10));
		const spike = await fetch(`${base}/analyze`, { method: "POST", body: JSON.stringify({ current: hour(24, 80), earlier }) });
		expect(spike.status).toBe(200);
		const body = (await spike.json()) as { findings: { type: string; metric: string }[]; analyzer: string };
		expect(body.analyzer).toBe("pattern-analyzer-container");
		expect(body.findings.map((f) => [f.type, f.metric])).toEqual([["spike", "interactions"]]);

		const flat = await fetch(`${base}/analyze`, { method: "POST", body: JSON.stringify({ current: hour(24, 10), earlier }) });
		expect(((await flat.json()) as { findings: unknown[] }).findings).toEqual([]);
	});

	it("bad input is a 400 problem naming the field; unknown routes are 404", async () => {
		const bad = await fetch(`${base}/analyze`, { method: "POST", body: JSON.stringify({ current: hour(1, 1), earlier: "no" }) });
		expect(bad.status).toBe(400);
		expect(bad.headers.get("content-type")).toContain("application/problem+json");
		expect(((await bad.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe("earlier");
		const notJson = await fetch(`${base}/analyze`, { method: "POST", body: "{" });
		expect(notJson.status).toBe(400);
		expect((await fetch(`${base}/nope`)).status).toBe(404);
	});
});
