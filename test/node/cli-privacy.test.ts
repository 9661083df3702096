/// <reference types="node" />
/**
 * `roost subject export` and `roost segments` / `roost verify --file <segment>` against the real Worker on a local
 * workerd (as test/node/cli.test.ts runs it), with visits that end after one second of inactivity so the org records
 * them. The export runs as a user runs it (bin/roost.mjs in a child process) and in-process. The dev server has no
 * way to compact a log on demand, so the segment checked here is written from the org's real exported log in the
 * segment format; a segment made by real compaction is checked the same way in test/workers/segments.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ExportedEvent, parseNdjson } from "../../src/cli/chain.ts";
import { run } from "../../src/cli/main.ts";
import { GENESIS_HASH } from "../../src/core/hash.ts";
import { type LocalRoost, startLocalRoost } from "../browser/local-roost.ts";
import { type Ran, spawnRoost } from "./support/spawn-cli.ts";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

let roost: LocalRoost;
let work: string;
let org: string;
let apiKey: string;

async function cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
	let stdout = "";
	let stderr = "";
	const code = await run(args, {
		stdout: { write: (text: string) => (stdout += text) },
		stderr: { write: (text: string) => (stderr += text) },
		env: { ROOST_ENDPOINT: roost.url, ROOST_KEY: apiKey, ...env },
		cwd: work,
	});
	return { code, stdout, stderr };
}

function spawnCli(args: string[]): Promise<Ran> {
	return spawnRoost(args, { ROOST_ENDPOINT: roost.url, ROOST_KEY: apiKey });
}

const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
	const res = await fetch(`${roost.url}${path}`, {
		...init,
		headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...(init.headers ?? {}) },
	});
	if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
};

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
	for (let i = 0; i < 150; i++) {
		if (await check()) return;
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error(`timed out waiting for ${what}`);
}

async function visit(session: string, userId: string, traits: Record<string, string>): Promise<void> {
	const ts = Date.now();
	const events = [
		{ id: `${session}-1`, type: "session.page_viewed", ts, data: { url: "https://shop.example/shoes", path: "/shoes" } },
		{ id: `${session}-2`, type: "session.identified", ts: ts + 1, data: { userId, traits } },
	];
	await api(`/v1/orgs/${org}/sessions/${session}/events`, { method: "POST", body: JSON.stringify({ events }) });
}

beforeAll(async () => {
	work = await mkdtemp(join(tmpdir(), "roost-cli-privacy-"));
	roost = await startLocalRoost({ vars: { RATE_LIMITS: "off", SESSION_INACTIVITY_MS: "1000" } });
	({ org, apiKey } = await roost.createOrg("CLI privacy"));
});

afterAll(async () => {
	await roost?.dispose();
	await rm(work, { recursive: true, force: true });
});

describe("roost subject export", () => {
	it("writes what the org holds about the user as NDJSON, is refused to a viewer, and holds nothing of them after their erasure", async () => {
		const userId = `user-${crypto.randomUUID()}`;
		const traits = { email: `${crypto.randomUUID()}@example.com` };
		const [one, two, bystander] = ["s-one", "s-two", "s-bystander"].map((s) => `${s}-${crypto.randomUUID().slice(0, 8)}`) as [
			string,
			string,
			string,
		];
		await visit(one, userId, traits);
		await visit(two, userId, traits);
		await visit(bystander, "someone-else", { email: "bea@example.com" });
		await until("the three visits to end and reach the org", async () => {
			const found = await api<{ interactions: unknown[] }>(`/v1/orgs/${org}/interactions/search?limit=10`);
			return found.interactions.length >= 3;
		});
		// The interactions queue archives each record to R2 after the org recorded it: wait for the user's two, so both
		// exports below read the same data.
		await until("the user's two interactions to be archived", async () => {
			const res = await fetch(`${roost.url}/v1/orgs/${org}/subject-exports`, {
				method: "POST",
				headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
				body: JSON.stringify({ userId }),
			});
			const kinds = (await res.text())
				.trim()
				.split("\n")
				.map((line) => (JSON.parse(line) as { kind: string }).kind);
			return kinds.filter((kind) => kind === "archived_interaction").length >= 2;
		});

		const file = join(work, "subject.ndjson");
		const ran = await spawnCli(["subject", "export", "--user", userId, "--out", file]);
		expect(ran.code, ran.stderr).toBe(0);
		expect(ran.stderr).toMatch(/: 2 sessions, \d+ events, 2 interaction records, \d+ archived items/);
		const text = await readFile(file, "utf8");
		const lines = text
			.trim()
			.split("\n")
			.map((line) => JSON.parse(line) as { kind: string; session?: string; event?: { type: string; data: unknown } });
		expect(lines[0]).toMatchObject({ kind: "export", sessions: 2, totalSessions: 2, interactions: 2, next: null });
		expect(lines.at(-1)).toEqual({ kind: "end", lines: lines.length });
		expect(lines.filter((l) => l.kind === "session").map((l) => l.session)).toEqual([one, two].sort());
		const identified = lines.filter((l) => l.kind === "event" && l.event?.type === "session.identified");
		expect(identified.map((l) => l.event?.data)).toEqual([
			{ userId, traits },
			{ userId, traits },
		]);
		for (const theirs of [bystander, "someone-else", "bea@example.com"]) expect(text).not.toContain(theirs);

		// To stdout, in-process: the same lines (but the export's id and time).
		const stdout = await cli(["subject", "export", "--user", userId]);
		expect(stdout.code, stdout.stderr).toBe(0);
		expect(stdout.stdout.trim().split("\n")).toHaveLength(lines.length);
		// Each export is audited, by counts.
		const audit = await cli(["audit", "--count", "2", "--json"]);
		const entries = JSON.parse(audit.stdout) as { type: string; data: unknown }[];
		expect(entries.map((e) => e.type)).toEqual(["org.subject_exported", "org.subject_exported"]);
		expect(JSON.stringify(entries)).not.toContain(userId);
		const line = (await cli(["audit", "--count", "1"])).stdout;
		expect(line).toMatch(/org\.subject_exported .* export \S+ \(2 sessions\)/);
		expect(line).not.toContain(userId);

		const viewer = await api<{ apiKey: string }>(`/v1/orgs/${org}/keys`, { method: "POST", body: JSON.stringify({ role: "viewer" }) });
		const refusedFile = join(work, "refused.ndjson");
		const refused = await cli(["subject", "export", "--user", userId, "--out", refusedFile], { ROOST_KEY: viewer.apiKey });
		expect(refused.code).toBe(3);
		expect(refused.stderr).toContain("needs the admin role");
		await expect(readFile(refusedFile)).rejects.toThrow(/ENOENT/);
		expect((await cli(["subject", "export"])).code).toBe(2);

		const erasure = await api<{ id: string }>(`/v1/orgs/${org}/erasures`, { method: "POST", body: JSON.stringify({ userId }) });
		await until(
			"the erasure to finish",
			async () => (await api<{ status: string }>(`/v1/orgs/${org}/erasures/${erasure.id}`)).status === "done",
		);
		const after = await cli(["subject", "export", "--user", userId]);
		expect(after.code, after.stderr).toBe(0);
		expect(
			after.stdout
				.trim()
				.split("\n")
				.map((line) => (JSON.parse(line) as { kind: string }).kind),
		).toEqual(["export", "end"]);
		for (const personal of [userId, traits.email, one, two]) expect(after.stdout).not.toContain(personal);
	});
});

describe("roost segments and verify --file <segment>", () => {
	it("lists none before any compaction and refuses a missing one with the server's 404", async () => {
		const listed = await cli(["segments", "--json"]);
		expect(listed.code, listed.stderr).toBe(0);
		expect(JSON.parse(listed.stdout)).toEqual({ segments: [], next: null });
		const missing = await cli(["segments", "get", `org:${org}:1-2.ndjson`]);
		expect(missing.code).toBe(3);
		expect(missing.stderr).toContain("404");
	});

	it("checks a segment's chain and its end against a checkpoint hash; a changed field fails at its seq with exit 1", async () => {
		const exported = join(work, "org.ndjson");
		expect((await cli(["events", "export", "org", "--out", exported])).code).toBe(0);
		const events = parseNdjson(await readFile(exported, "utf8"));
		const last = events.at(-1) as ExportedEvent;
		const header = {
			segment: { actor: { kind: "org", org, id: org }, fromSeq: 1, toSeq: last.seq, prevHash: GENESIS_HASH, headHash: last.hash },
		};
		const lines = [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))];
		const segment = join(work, "segment.ndjson");
		await writeFile(segment, `${lines.join("\n")}\n`);

		const ok = await spawnCli(["verify", "--file", segment, "--checkpoint", last.hash]);
		expect(ok.code, ok.stderr).toBe(0);
		expect(ok.stdout).toContain(`ok: ${segment}: segment of org:${org} (org ${org}), seq 1..${last.seq}`);
		expect(ok.stdout).toContain(`ok: seq ${last.seq} ends at the checkpoint ${last.hash}`);
		const other = await cli(["verify", "--file", segment, "--checkpoint", "a".repeat(64)]);
		expect(other.code).toBe(1);
		expect(other.stdout).toContain("DIFFERENT: the segment ends at");
		// This org's log was never compacted: the server states no checkpoint.
		const server = await cli(["verify", "--file", segment, "--checkpoint", "server"]);
		expect(server.code).toBe(1);
		expect(server.stdout).toContain("DIFFERENT: the actor has no checkpoint");
		expect((await cli(["verify", "--file", segment, "--checkpoint", "nope"])).code).toBe(2);

		// An event past the first two whose data the server did not redact (a redacted one is checked by its stated hash).
		const at = events.findIndex((e, i) => i >= 2 && e.redacted !== true) + 1;
		const third = JSON.parse(lines[at] as string) as ExportedEvent;
		lines[at] = JSON.stringify({ ...third, ts: third.ts + 1 });
		const tampered = join(work, "tampered-segment.ndjson");
		await writeFile(tampered, `${lines.join("\n")}\n`);
		const broken = await spawnCli(["verify", "--file", tampered, "--checkpoint", last.hash]);
		expect(broken.code).toBe(1);
		expect(broken.stdout).toBe(
			`BROKEN: ${tampered}: at seq ${third.seq} (line ${at + 1}): hash of seq ${third.seq} does not match its contents\n`,
		);
	});
});
