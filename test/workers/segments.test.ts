/**
 * The org's compacted log segments (GET /v1/orgs/{org}/segments[/{name}]) and their offline check
 * (src/cli/segment-check.ts, what `roost verify --file` runs): a real org log compacted in workerd, listed and
 * downloaded through the API with its secrets redacted, verified against the checkpoint the server's verify states
 * and against the next segment's start; one field changed fails at its seq.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CompactionReport } from "../../src/actors/kernel/compaction.ts";
import { parseLine } from "../../src/cli/chain.ts";
import { RoostClient } from "../../src/cli/client.ts";
import { serverAnchor } from "../../src/cli/segment-anchor.ts";
import { anchorCheck, SegmentChecker, type SegmentInfo, segmentHeaderOf } from "../../src/cli/segment-check.ts";
import { actorName } from "../../src/core/identity.ts";
import type { Outcome } from "../../src/core/outcome.ts";
import { REDACTED } from "../../src/reducers/definition.ts";
import { BASE, call, createKey, createOrg, expectProblem, getJson, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2036, 2, 7, 9, 0, 0);

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function addMembers(org: TestOrg, count: number): Promise<void> {
	for (let i = 0; i < count; i++) {
		const body = JSON.stringify({ email: `${uniqueId("m")}@example.com`, role: "viewer" });
		expect((await call(`/v1/orgs/${org.org}/members`, { method: "POST", headers: bearer(org.key), body })).status).toBe(200);
	}
}

async function compact(org: TestOrg, before: number): Promise<CompactionReport> {
	const report: Outcome<CompactionReport> = await env.ORG.getByName(actorName(org.org, org.org)).compactLog({ before });
	if (!report.ok) throw new Error(JSON.stringify(report.error));
	return report.value;
}

/** A downloaded segment checked as `roost verify --file` does: header, then every line through the checker. */
function check(text: string) {
	const [first, ...rest] = text.trim().split("\n");
	const header = segmentHeaderOf(first ?? "") as SegmentInfo;
	expect(header).not.toBeNull();
	const checker = new SegmentChecker(header);
	for (const [i, line] of rest.entries()) if (!checker.push(parseLine(line, i + 2))) break;
	return checker.result;
}

describe("compacted log segments", () => {
	it("are listed and served redacted; a segment verifies offline against the checkpoint, and a changed field fails at its seq", async () => {
		const org = await createOrg("Segments");
		await addMembers(org, 4);
		vi.setSystemTime(T0 + HOUR);
		await addMembers(org, 3);
		vi.setSystemTime(T0 + 2 * HOUR);
		await addMembers(org, 1);
		const first = await compact(org, T0 + 1);
		const second = await compact(org, T0 + HOUR + 1);
		expect([first.segments.length, second.segments.length]).toEqual([1, 1]);
		const verify = await getJson<{ ok: boolean; checkpoint: { seq: number; hash: string } }>(`/v1/orgs/${org.org}/verify`, {
			headers: bearer(org.key),
		});
		expect(verify).toMatchObject({ ok: true, checkpoint: second.checkpoint });

		const listed = await getJson<{
			segments: { name: string; actor: unknown; fromSeq: number; toSeq: number; size: number }[];
			next: null;
		}>(`/v1/orgs/${org.org}/segments`, { headers: bearer(org.key) });
		const firstTo = first.checkpoint.seq;
		expect(listed.segments.map(({ name, actor, fromSeq, toSeq }) => ({ name, actor, fromSeq, toSeq }))).toEqual([
			{ name: `org:${org.org}:1-${firstTo}.ndjson`, actor: { kind: "org", id: org.org }, fromSeq: 1, toSeq: firstTo },
			{
				name: `org:${org.org}:${firstTo + 1}-${second.checkpoint.seq}.ndjson`,
				actor: { kind: "org", id: org.org },
				fromSeq: firstTo + 1,
				toSeq: second.checkpoint.seq,
			},
		]);
		const paged = await getJson<{ segments: { name: string }[]; next: string }>(`/v1/orgs/${org.org}/segments?limit=1`, {
			headers: bearer(org.key),
		});
		expect(paged.next).toBe(listed.segments[0]?.name);
		const rest = await getJson<{ segments: { name: string }[]; next: null }>(
			`/v1/orgs/${org.org}/segments?after=${encodeURIComponent(paged.next)}`,
			{ headers: bearer(org.key) },
		);
		expect(rest).toEqual({ segments: [expect.objectContaining({ name: listed.segments[1]?.name })], next: null });

		const get = async (name: string) => {
			const res = await call(`/v1/orgs/${org.org}/segments/${encodeURIComponent(name)}`, { headers: bearer(org.key) });
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toContain("application/x-ndjson");
			return res.text();
		};
		const [olderName, newerName] = listed.segments.map((s) => s.name) as [string, string];
		const older = await get(olderName);
		// The key's hash is in R2 but never served: the line is redacted and keeps its stated hash.
		const stored = (await (await env.ARCHIVE.get(first.segments[0] as string))?.text()) ?? "";
		const keyLine = older.split("\n").find((line) => line.includes('"org.key_created"')) ?? "";
		expect(JSON.parse(keyLine)).toMatchObject({ redacted: true, data: { hash: REDACTED } });
		const storedHash = JSON.parse(stored.split("\n").find((line) => line.includes('"org.key_created"')) ?? "{}").data.hash as string;
		expect(storedHash).toMatch(/^[0-9a-f]{64}$/);
		expect(older).not.toContain(storedHash);

		// Offline: the chain from the header, every stored hash, and the end against the checkpoint or the next segment.
		const olderCheck = check(older);
		expect(olderCheck).toMatchObject({ ok: true, checked: firstTo - 1, unchecked: [2], headHash: first.checkpoint.hash });
		const newer = await get(newerName);
		const newerCheck = check(newer);
		expect(newerCheck).toMatchObject({ ok: true, checked: second.checkpoint.seq - firstTo, headHash: verify.checkpoint.hash });
		expect(anchorCheck(newerCheck, { hash: verify.checkpoint.hash })).toMatchObject({ ok: true });
		// What `--checkpoint server` asks the API: the newer segment ends at the checkpoint; the older one where the newer starts.
		const client = new RoostClient({
			endpoint: BASE,
			org: org.org,
			apiKey: org.key,
			fetch: ((input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init))) as typeof fetch,
		});
		const newerAnchor = await serverAnchor(client, newerCheck.segment);
		expect(newerAnchor).toEqual({ checkpoint: second.checkpoint });
		expect(anchorCheck(newerCheck, newerAnchor)).toMatchObject({ ok: true });
		const olderAnchor = await serverAnchor(client, olderCheck.segment);
		expect(olderAnchor).toMatchObject({
			checkpoint: second.checkpoint,
			next: { name: newerName, segment: { fromSeq: firstTo + 1, prevHash: first.checkpoint.hash } },
		});
		expect(anchorCheck(olderCheck, olderAnchor)).toMatchObject({ ok: true });
		expect(anchorCheck(olderCheck, { checkpoint: verify.checkpoint, next: null })).toMatchObject({ ok: false });
		expect(anchorCheck(olderCheck, { hash: verify.checkpoint.hash })).toMatchObject({ ok: false });

		// One field of one event changed: the check fails at that seq.
		const lines = older.trim().split("\n");
		const changed = JSON.parse(lines[4] as string) as { seq: number; data: { email: string } };
		lines[4] = JSON.stringify({ ...changed, data: { ...changed.data, email: "mallory@example.com" } });
		expect(check(lines.join("\n"))).toMatchObject({
			ok: false,
			brokenAt: changed.seq,
			reason: `hash of seq ${changed.seq} does not match its contents`,
		});
		// A line dropped, and a header whose head hash is not the last event's.
		expect(check([...lines.slice(0, 2), ...older.trim().split("\n").slice(3)].join("\n"))).toMatchObject({ ok: false, brokenAt: 2 });
		const header = JSON.parse(older.split("\n")[0] as string);
		const forged = JSON.stringify({ segment: { ...header.segment, headHash: "f".repeat(64) } });
		expect(check([forged, ...older.trim().split("\n").slice(1)].join("\n"))).toMatchObject({ ok: false, brokenAt: firstTo });
	});

	it("are the admin's, of their own org only; a bad name is a 400 naming it", async () => {
		const org = await createOrg("Segments owner");
		await addMembers(org, 2);
		vi.setSystemTime(T0 + HOUR);
		await addMembers(org, 1);
		const report = await compact(org, T0 + 1);
		const name = `org:${org.org}:1-${report.checkpoint.seq}.ndjson`;
		const { key: analyst } = await createKey(org.org, org.key, "analyst", "analyst");
		for (const path of [`/v1/orgs/${org.org}/segments`, `/v1/orgs/${org.org}/segments/${name}`]) {
			expect((await expectProblem(await call(path, { headers: bearer(analyst) }), 403)).detail).toContain("admin");
		}
		const other = await createOrg("Segments other");
		expect(await getJson(`/v1/orgs/${other.org}/segments`, { headers: bearer(other.key) })).toEqual({ segments: [], next: null });
		// Org A's segment name under org B's path reads B's prefix: nothing there.
		await expectProblem(await call(`/v1/orgs/${other.org}/segments/${name}`, { headers: bearer(other.key) }), 404);
		await expectProblem(await call(`/v1/orgs/${org.org}/segments/${name}`, { headers: bearer(other.key) }), 404);
		const bad = await call(`/v1/orgs/${org.org}/segments/..%2F..%2Fsecret`, { headers: bearer(org.key) });
		expect((await expectProblem(bad, 400)).errors?.map((e) => e.path)).toEqual(["path.name"]);
	});
});
