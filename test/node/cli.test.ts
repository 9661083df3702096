/// <reference types="node" />
/**
 * The roost CLI (src/cli, bin/roost.mjs) against the real Worker on a local workerd (wrangler's
 * unstable_startWorker, as `wrangler dev` runs it), with snapshots every 10 events so logs cross several.
 * Most runs call the CLI's `run` in-process with captured streams; a few spawn bin/roost.mjs as a user would.
 */
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { definitionOf, publicState } from "../../src/cli/actors.ts";
import { type ExportedEvent, foldStored, parseNdjson } from "../../src/cli/chain.ts";
import { RoostClient } from "../../src/cli/client.ts";
import { run } from "../../src/cli/main.ts";
import { replayActor } from "../../src/cli/replay.ts";
import { sessionDefinition } from "../../src/reducers/session.ts";
import { type LocalRoost, startLocalRoost } from "../browser/local-roost.ts";
import { tamperStoredEvent } from "../browser/tamper.ts";
import { changedSessionDefinition } from "./cli-changed-reducer.ts";
import { type Ran, spawnRoost } from "./support/spawn-cli.ts";

// Every test talks to a real Worker; the node project's 5 s default is short on a busy two-core machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

const TIMEOUT = 60_000;
let roost: LocalRoost;
let persist: string;
let work: string;
let org: string;
let apiKey: string;
/** A session with a generated log of every client event type, v1 page views among them. */
let session: string;
let version: number;

/** Runs the CLI in-process, as `roost <args>` with the test server's endpoint and key in the environment. */
async function cli(args: string[], env: Record<string, string> = {}, signal?: AbortSignal): Promise<Ran> {
	let stdout = "";
	let stderr = "";
	const code = await run(args, {
		stdout: {
			write: (text: string) => {
				stdout += text;
			},
		},
		stderr: {
			write: (text: string) => {
				stderr += text;
			},
		},
		env: { ROOST_ENDPOINT: roost.url, ROOST_KEY: apiKey, ...env },
		cwd: work,
		signal,
	});
	return { code, stdout, stderr };
}

/** Runs bin/roost.mjs in a child process, as `npx roost <args>` does. */
function spawnCli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
	return spawnRoost(args, { ROOST_ENDPOINT: roost.url, ROOST_KEY: apiKey, ...env });
}

let counter = 0;
const ts = () => 1_700_000_000_000 + counter++ * 1000;
const clientEvent = (i: number) => {
	const id = `e-${counter}-${i}`;
	switch (i % 6) {
		case 0:
			return { id, type: "session.page_viewed", ts: ts(), data: { url: `https://shop.example/p${i % 4}`, path: `/p${i % 4}` } };
		case 1:
			return { id, type: "session.clicked", ts: ts(), data: { target: `#buy-${i % 3}`, text: "Buy" } };
		case 2:
			// Written in the old shape: stored as v1, upcast to v2 (with its path) when read and folded.
			return { id, type: "session.page_viewed", v: 1, ts: ts(), data: { url: `https://shop.example/old/${i}?q=1` } };
		case 3:
			return { id, type: "session.custom", ts: ts(), data: { name: i % 2 ? "add_to_cart" : "search", props: { i } } };
		case 4:
			return { id, type: "session.identified", ts: ts(), data: { userId: `u${i % 2}`, traits: { plan: i % 2 ? "pro" : "free" } } };
		default:
			return { id, type: "session.error", ts: ts(), data: { message: `boom ${i}` } };
	}
};

async function postEvents(sessionId: string, count: number, perBatch = 7): Promise<void> {
	for (let i = 0; i < count; i += perBatch) {
		const events = Array.from({ length: Math.min(perBatch, count - i) }, (_, j) => clientEvent(i + j));
		const res = await fetch(`${roost.url}/v1/orgs/${org}/sessions/${sessionId}/events`, {
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "x-correlation-id": `batch-${i}` },
			body: JSON.stringify({ events }),
		});
		if (res.status !== 202) throw new Error(`POST events: ${res.status} ${await res.text()}`);
	}
}

const newSession = async (count: number) => {
	const id = `s-${crypto.randomUUID()}`;
	await postEvents(id, count);
	return id;
};

const exported = async (file: string) => parseNdjson(await readFile(file, "utf8"));

async function storedSnapshots(): Promise<number[]> {
	const res = await fetch(`${roost.url}/v1/orgs/${org}/sessions/${session}/snapshots`, { headers: { authorization: `Bearer ${apiKey}` } });
	return ((await res.json()) as { snapshots: { version: number }[] }).snapshots.map((s) => s.version);
}

beforeAll(async () => {
	work = await mkdtemp(join(tmpdir(), "roost-cli-"));
	persist = join(work, "state");
	roost = await startLocalRoost({ vars: { SNAPSHOT_EVERY: "10", RATE_LIMITS: "off" }, persist });
	({ org, apiKey } = await roost.createOrg("CLI tests"));
	session = await newSession(41);
	version = 42;
}, TIMEOUT);

afterAll(async () => {
	await roost?.dispose();
	await rm(work, { recursive: true, force: true });
});

describe("state", () => {
	it(
		"the state at every version of a generated log equals the fold of that prefix with the pure reducers",
		async () => {
			const file = join(work, "state.ndjson");
			expect((await cli(["events", "export", `sessions/${session}`, "--out", file])).code).toBe(0);
			const events = await exported(file);
			expect(events).toHaveLength(version);
			expect(events.some((e) => e.v === 1 && e.type === "session.page_viewed")).toBe(true);
			for (let at = 0; at <= version; at++) {
				const ran = await cli(["state", `sessions/${session}`, "--at", String(at), "--json"]);
				expect(ran.code, ran.stderr).toBe(0);
				const answer = JSON.parse(ran.stdout) as { version: number; state: unknown };
				expect(answer.version).toBe(at);
				expect(answer.state, `state at ${at}`).toEqual(foldStored(sessionDefinition, events.slice(0, at)));
			}
		},
		TIMEOUT,
	);

	it("the org's state too, as the API shows it (without key hashes)", async () => {
		const file = join(work, "org.ndjson");
		expect((await cli(["events", "export", "org", "--out", file])).code).toBe(0);
		const events = await exported(file);
		for (let at = 0; at <= events.length; at++) {
			const answer = JSON.parse((await cli(["state", "org", "--at", String(at), "--json"])).stdout) as { state: unknown };
			expect(answer.state).toEqual(publicState("org", foldStored(definitionOf("org"), events.slice(0, at))));
		}
	});

	it("a version beyond the log is refused with the server's detail and exit code 3", async () => {
		const ran = await cli(["state", `sessions/${session}`, "--at", "999"]);
		expect(ran.code).toBe(3);
		expect(ran.stderr).toMatch(/^roost: 400 .*at: must be an integer from 0 to the current version 42/s);
	});
});

describe("export and import", () => {
	it(
		"an export imported into a sandbox gives an identical chain and state",
		async () => {
			const file = join(work, "export.ndjson");
			const ran = await cli(["events", "export", `sessions/${session}`, "--out", file]);
			expect(ran.code, ran.stderr).toBe(0);
			expect(ran.stderr).toContain(`exported ${version} events`);
			const events = await exported(file);
			expect(events.map((e) => e.seq)).toEqual(Array.from({ length: version }, (_, i) => i + 1));

			const imported = await cli(["import", file, "--json"]);
			expect(imported.code, imported.stderr).toBe(0);
			const result = JSON.parse(imported.stdout) as { actor: string; imported: number; version: number; headHash: string };
			expect(result).toMatchObject({ imported: version, version, headHash: events.at(-1)?.hash });
			expect(result.actor).toMatch(/^sessions\/sandbox-/);

			const verified = JSON.parse((await cli(["verify", result.actor, "--json"])).stdout) as { ok: boolean; headHash: string };
			expect(verified).toMatchObject({ ok: true, headHash: events.at(-1)?.hash });
			const again = join(work, "sandbox.ndjson");
			expect((await cli(["events", "export", result.actor, "--out", again])).code).toBe(0);
			const strip = (list: ExportedEvent[]) => list.map(({ actor: _actor, ...event }) => event);
			expect(strip(await exported(again))).toEqual(strip(events));
			const [source, sandbox] = await Promise.all([
				cli(["state", `sessions/${session}`, "--json"]),
				cli(["state", result.actor, "--json"]),
			]);
			expect((JSON.parse(sandbox.stdout) as { state: unknown }).state).toEqual((JSON.parse(source.stdout) as { state: unknown }).state);
		},
		TIMEOUT,
	);

	it("an interrupted export resumes after its last complete line, and an import resumes into the same sandbox", async () => {
		const file = join(work, "resume.ndjson");
		expect((await cli(["events", "export", `sessions/${session}`, "--out", file, "--to", "17"])).code).toBe(0);
		expect(await exported(file)).toHaveLength(17);
		// Interrupted while writing seq 18: half a line.
		await appendFile(file, '{"seq":18,"id":"half');
		const refused = await cli(["events", "export", `sessions/${session}`, "--out", file]);
		expect(refused.code).toBe(2);
		expect(refused.stderr).toContain("--resume continues it");

		const partial = join(work, "partial.ndjson");
		await copyFile(file, partial);
		const resumed = await cli(["events", "export", `sessions/${session}`, "--out", file, "--resume"]);
		expect(resumed.code, resumed.stderr).toBe(0);
		expect(resumed.stderr).toContain(`exported ${version - 17} events of sessions/${session} (seq 18..${version})`);
		const whole = await exported(file);
		expect(whole.map((e) => e.seq)).toEqual(Array.from({ length: version }, (_, i) => i + 1));
		expect((await cli(["verify", "--file", file, `sessions/${session}`])).code).toBe(0);

		// The first 17 events into a sandbox, then the whole file into the same sandbox: it continues at 18.
		const first = await readFile(partial, "utf8");
		await writeFile(partial, first.slice(0, first.lastIndexOf("\n") + 1));
		const start = JSON.parse((await cli(["import", partial, "sessions", "--json"])).stdout) as { actor: string; version: number };
		expect(start.version).toBe(17);
		const rest = await cli(["import", file, start.actor, "--json"]);
		expect(rest.code, rest.stderr).toBe(0);
		expect(JSON.parse(rest.stdout)).toMatchObject({ actor: start.actor, imported: version - 17, version, headHash: whole.at(-1)?.hash });
	});

	it("a file that is another actor's log is not resumed, and nothing is written", async () => {
		const other = await newSession(3);
		const file = join(work, "other.ndjson");
		expect((await cli(["events", "export", `sessions/${other}`, "--out", file])).code).toBe(0);
		const before = await readFile(file, "utf8");
		const ran = await cli(["events", "export", `sessions/${session}`, "--out", file, "--resume"]);
		expect(ran.code).toBe(1);
		expect(ran.stderr).toMatch(/ends with seq 4 .* which is not sessions\/.*'s event at that seq/);
		expect(await readFile(file, "utf8")).toBe(before);
	});

	it("export without --out writes NDJSON to stdout", async () => {
		const ran = await cli(["events", "export", `sessions/${session}`, "--to", "3"]);
		expect(ran.code).toBe(0);
		expect(parseNdjson(ran.stdout).map((e) => e.seq)).toEqual([1, 2, 3]);
	});

	it("a fork at version N holds the first N events, with the same chain", async () => {
		const file = join(work, "fork-source.ndjson");
		await cli(["events", "export", `sessions/${session}`, "--out", file, "--force"]);
		const events = await exported(file);
		const ran = await cli(["fork", `sessions/${session}`, "--at", "12", "--json"]);
		expect(ran.code, ran.stderr).toBe(0);
		const fork = JSON.parse(ran.stdout) as { actor: { id: string }; version: number; headHash: string };
		expect(fork).toMatchObject({ version: 12, headHash: events[11]?.hash });
		const state = JSON.parse((await cli(["state", `sessions/${fork.actor.id}`, "--json"])).stdout) as { state: unknown };
		expect(state.state).toEqual(foldStored(sessionDefinition, events.slice(0, 12)));
		const human = await cli(["fork", `sessions/${session}`, "--at", "3"]);
		expect(human.stdout).toMatch(/console: http:\/\/127\.0\.0\.1:\d+\/console#sessions\/sandbox-[\w-]+@3/);
	});
});

describe("parked", () => {
	it("lists the org's parked work (none here), and a retry of an item that is not parked is the server's 404, exit code 3", async () => {
		const listed = await cli(["parked"]);
		expect(listed.code).toBe(0);
		expect(listed.stdout).toBe(`0 parked in org ${org}\n`);
		expect(JSON.parse((await cli(["parked", "list", "--json", "--limit", "5"])).stdout)).toEqual({ items: [], next: null, total: 0 });
		const retried = await cli(["parked", "retry", `session.${session}.1`]);
		expect(retried.code).toBe(3);
		expect(retried.stderr).toMatch(/^roost: 404 /);
		const bad = await cli(["parked", "discard"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain("needs an item id");
	});
});

describe("verify", () => {
	it("a tampered line of an exported file is found by the local check, at its seq", async () => {
		const file = join(work, "tamper.ndjson");
		await cli(["events", "export", `sessions/${session}`, "--out", file, "--force"]);
		expect((await cli(["verify", "--file", file])).stdout).toContain(`ok: ${file}: chain of ${version} events verified here`);
		const lines = (await readFile(file, "utf8")).split("\n");
		const seventh = JSON.parse(lines[6] as string) as ExportedEvent;
		lines[6] = JSON.stringify({ ...seventh, ts: seventh.ts + 1 });
		const copy = join(work, "tampered.ndjson");
		await writeFile(copy, lines.join("\n"));
		const ran = await cli(["verify", "--file", copy]);
		expect(ran.code).toBe(1);
		expect(ran.stdout).toBe(`BROKEN: ${copy}: at seq 7 (line 7): hash of seq 7 does not match its contents\n`);
		const dropped = join(work, "dropped.ndjson");
		await writeFile(dropped, [...lines.slice(0, 4), ...lines.slice(5)].join("\n"));
		expect((await cli(["verify", "--file", dropped, "--json"])).stdout).toContain('"brokenAt":5,"reason":"seq 5 is missing"');
		// An import refuses a broken file before sending anything.
		const refused = await cli(["import", copy]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain("the chain breaks at seq 7");
	});

	it("a row tampered in the actor's storage is found by the server's verify", async () => {
		const target = await newSession(12);
		const file = join(work, "stored.ndjson");
		await cli(["events", "export", `sessions/${target}`, "--out", file]);
		expect((await cli(["verify", `sessions/${target}`])).code).toBe(0);
		const ninth = (await exported(file))[8] as ExportedEvent;
		tamperStoredEvent(persist, "SessionActor", ninth.id, { ...(ninth.data as object), forged: true });
		const ran = await cli(["verify", `sessions/${target}`]);
		expect(ran.code).toBe(1);
		expect(ran.stdout).toBe(`BROKEN: sessions/${target}: at seq 9: hash of seq 9 does not match its contents\n`);
		// The file exported before the tampering still checks out here: it is the evidence of what was stored.
		expect((await cli(["verify", "--file", file])).code).toBe(0);
	});
});

describe("replay", () => {
	it("the reducers here agree with the server's snapshots and state", async () => {
		const ran = await cli(["replay", `sessions/${session}`]);
		expect(ran.code, ran.stderr + ran.stdout).toBe(0);
		// A batch that crosses a multiple of SNAPSHOT_EVERY writes a snapshot at its last version.
		const snapshots = await storedSnapshots();
		expect(snapshots).toEqual([15, 22, 36, 42]);
		expect(ran.stdout).toContain(
			`replay sessions/${session} with session@${sessionDefinition.reducerVersion}: ${version} of ${version} events folded, 4 snapshot(s) compared (15, 22, 36, 42)`,
		);
		expect(ran.stdout).toContain("ok: the reducers here agree");
		const server = await cli(["replay", `sessions/${session}`, "--server", "--json"]);
		expect(JSON.parse(server.stdout)).toMatchObject({ ok: true, checked: version });
		expect((await cli(["replay", "org"])).code).toBe(0);
	});

	it("a changed reducer is flagged at every snapshot and at the state now, with the delta (module function)", async () => {
		const client = new RoostClient({ endpoint: roost.url, org, apiKey });
		const quiet = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: work };
		const report = await replayActor(client, { kind: "sessions", id: session }, changedSessionDefinition as never, quiet, true);
		expect(report.ok).toBe(false);
		expect(report.mismatches.map((m) => `${m.version} ${m.against}`)).toEqual([
			...(await storedSnapshots()).map((v) => `${v} snapshot session@${sessionDefinition.reducerVersion}`),
			`${version} state now`,
		]);
		expect(report.mismatches[0]?.delta).toHaveProperty(["visit", "pageViews"]);
	});

	it("a changed reducer given with --definition makes replay exit 1 with a diff report", async () => {
		const ran = await cli(["replay", `sessions/${session}`, "--definition", join(import.meta.dirname, "cli-changed-reducer.ts")]);
		expect(ran.code).toBe(1);
		expect(ran.stdout).toContain(
			`MISMATCH at version 15 against snapshot session@${sessionDefinition.reducerVersion} (stored → replayed here):`,
		);
		expect(ran.stdout).toContain(`MISMATCH at version ${version} against state now`);
		expect(ran.stdout).toMatch(/pageViews: 5 => 10/);
		expect(ran.stdout).not.toContain("ok: the reducers");
		const wrongKind = await cli(["replay", "org", "--definition", join(import.meta.dirname, "cli-changed-reducer.ts")]);
		expect(wrongKind.code).toBe(2);
	});
});

describe("events tail", () => {
	it("prints the events after --after, then live ones as they are appended, each once", async () => {
		const target = await newSession(2);
		const tail = cli(["events", "tail", `sessions/${target}`, "--after", "1", "--count", "4", "--json"]);
		await new Promise((resolve) => setTimeout(resolve, 300));
		await postEvents(target, 2);
		const ran = await tail;
		expect(ran.code, ran.stderr).toBe(0);
		expect(parseNdjson(ran.stdout).map((e) => e.seq)).toEqual([2, 3, 4, 5]);
		expect(ran.stderr).toContain(`tailing sessions/${target} after seq 1 (version 3 now)`);
	});

	it("stops cleanly when aborted (Ctrl-C)", async () => {
		const controller = new AbortController();
		const tail = cli(["events", "tail", `sessions/${session}`, "--after", String(version)], {}, controller.signal);
		await new Promise((resolve) => setTimeout(resolve, 300));
		controller.abort();
		expect((await tail).code).toBe(0);
	});
});

describe("the command", () => {
	it(
		"bin/roost.mjs runs under Node with meaningful exit codes: 0 ok, 2 usage, 3 refused (problem detail), 4 unreachable",
		async () => {
			const ok = await spawnCli(["verify", `sessions/${session}`]);
			expect(ok.code, ok.stderr).toBe(0);
			expect(ok.stdout).toMatch(new RegExp(`^ok: sessions/${session}: chain of ${version} events verified`));
			const usage = await spawnCli(["frobnicate"]);
			expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
			const badKey = await spawnCli(["state", "org"], { ROOST_KEY: `rk_${org}.${"x".repeat(43)}` });
			expect(badKey.code).toBe(3);
			expect(badKey.stderr).toMatch(/^roost: 401 /);
			const down = await spawnCli(["state", "org"], { ROOST_ENDPOINT: "http://127.0.0.1:9" });
			expect(down.code).toBe(4);
			expect(down.stderr).toContain("cannot reach http://127.0.0.1:9");
		},
		TIMEOUT,
	);

	it("reads the key from the demo file npm start writes when none is given, and explains when there is none", async () => {
		const demoDir = await mkdtemp(join(tmpdir(), "roost-demo-"));
		await writeFile(join(demoDir, "roost-demo.json"), JSON.stringify({ org, apiKey }));
		const { resolveConnection } = await import("../../src/cli/config.ts");
		expect(resolveConnection({}, {}, work, [join(demoDir, "roost-demo.json")])).toEqual({ endpoint: "http://localhost:8787", org, apiKey });
		expect(resolveConnection({ key: `rk_other.${"k".repeat(43)}` }, {}, work, [])).toMatchObject({ org: "other" });
		expect(() => resolveConnection({ key: "not-a-key" }, {}, work, [])).toThrow(/--org <org>/);
		expect(() => resolveConnection({}, {}, work, [])).toThrow(/--key <key>, set ROOST_KEY, or run `npm start`/);
		const ran = await cli(["--help"]);
		expect(ran).toMatchObject({ code: 0, stdout: expect.stringContaining("events export <actor>") });
		expect((await cli(["state", "nope/x"])).code).toBe(2);
		expect((await cli(["state", "org", "--out", "x"])).stderr).toContain("--out is not an option of state");
		await rm(demoDir, { recursive: true, force: true });
	});
});

describe("audit", () => {
	it("prints the org's key changes newest first with who made each; --count and --json; a viewer key is refused with exit 3", async () => {
		const res = await fetch(`${roost.url}/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
			body: JSON.stringify({ role: "viewer", label: "wall" }),
		});
		const made = (await res.json()) as { apiKey: string; key: { id: string } };
		const adminKeyId = (
			(await (await fetch(`${roost.url}/v1/orgs/${org}/keys`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as {
				keys: { id: string; label: string }[];
			}
		).keys[0]?.id;

		const ran = await cli(["audit"]);
		expect(ran.code, ran.stderr).toBe(0);
		const lines = ran.stdout.trim().split("\n");
		expect(lines[0]).toContain("org.key_created");
		expect(lines[0]).toContain(`key ${adminKeyId}`);
		expect(lines[0]).toContain(`${made.key.id} (viewer)`);
		expect(lines.at(-1)).toContain("org.created");
		expect(lines.at(-1)).toContain("(admin token or system)");

		const one = await cli(["audit", "--count", "1", "--json"]);
		expect(JSON.parse(one.stdout)).toMatchObject([{ type: "org.key_created", principal: { kind: "key", id: adminKeyId } }]);

		const refused = await cli(["audit"], { ROOST_KEY: made.apiKey });
		expect(refused.code).toBe(3);
		expect(refused.stderr).toContain("needs the admin role");
	});
});
