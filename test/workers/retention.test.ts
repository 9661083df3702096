/**
 * The data policy, retention and deleting an org (docs/privacy.md), through the real runtime with a controlled clock:
 * the policy is validated and audited; the daily retention timer erases an ended session past its time through the
 * erasure outbox (archived to R2 first when asked), leaving rollup totals as they were; deleting an org refuses its
 * keys at once and erases every actor.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { EMPTY_DATABASE_BYTES } from "../../src/events/erasure.ts";
import { DEFAULT_POLICY } from "../../src/events/org-policy.ts";
import { adminAuth, call, createOrg, expectProblem, getJson, pageView, postBatch, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2034, 5, 4, 9, 0, 0);

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

const bearer = (org: TestOrg) => ({ authorization: `Bearer ${org.key}` });
const orgStub = (org: TestOrg) => env.ORG.getByName(actorName(org.org, org.org));
const sessionStub = (org: TestOrg, session: string) => env.SESSION.getByName(actorName(org.org, session));

async function endedVisit(org: TestOrg, session: string, userId: string, at = T0): Promise<void> {
	const events = [
		pageView("/a", at),
		{ id: uniqueId("e"), type: "session.identified", ts: at + 1, data: { userId, traits: { plan: "gold" } } },
	];
	expect((await postBatch(org.org, session, { events }, bearer(org))).status).toBe(202);
	vi.setSystemTime(at + HOUR);
	await runDurableObjectAlarm(sessionStub(org, session));
}

async function putPolicy(org: TestOrg, body: unknown): Promise<Response> {
	return call(`/v1/orgs/${org.org}/policy`, { method: "PUT", headers: bearer(org), body: JSON.stringify(body) });
}

type Erasures = Record<string, { subject: string; status: string; counts: Record<string, number> }>;
const orgState = async (org: TestOrg) =>
	(
		await getJson<{ state: { erasures: Erasures; rollups: unknown; interactions: unknown } }>(`/v1/orgs/${org.org}/state`, {
			headers: bearer(org),
		})
	).state;

describe("data policy", () => {
	it("answers the defaults, refuses a bad field by name, records a change in the audit trail", async () => {
		const org = await createOrg("Policy");
		expect(await getJson(`/v1/orgs/${org.org}/policy`, { headers: bearer(org) })).toEqual({
			policy: DEFAULT_POLICY,
			setAt: null,
			defaults: DEFAULT_POLICY,
		});
		const bad = await expectProblem(await putPolicy(org, { ...DEFAULT_POLICY, framesDays: 0 }), 400);
		expect(bad.errors?.map((e) => e.path)).toContain("framesDays");
		const set = { ...DEFAULT_POLICY, sessionsDays: 7, archiveSessions: true };
		const res = await putPolicy(org, set);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ policy: set, setAt: T0 });
		const audit = await getJson<{ entries: { type: string; data: unknown }[] }>(`/v1/orgs/${org.org}/audit`, { headers: bearer(org) });
		expect(audit.entries[0]).toMatchObject({ type: "org.policy_set", data: { ...set, setBy: org.keyId } });
	});
});

describe("retention", () => {
	it.each([false, true])("erases an ended session past its time (archiveSessions %s); rollups unchanged", async (archiveSessions) => {
		const org = await createOrg("Retention");
		const [old, recent] = [uniqueId("s"), uniqueId("s")];
		await endedVisit(org, old, uniqueId("user"));
		expect((await putPolicy(org, { ...DEFAULT_POLICY, sessionsDays: 2, archiveSessions })).status).toBe(200);
		// A second session ends three days later: within its time when retention runs.
		vi.setSystemTime(T0 + 2 * DAY);
		await endedVisit(org, recent, uniqueId("user"));
		vi.setSystemTime(T0 + 3 * DAY);
		const before = await orgState(org);
		// The daily timer (03:30 UTC) is due: retention requests the erasure; the outbox delivers it.
		for (let i = 0; i < 6; i++) await runDurableObjectAlarm(orgStub(org));
		const after = await orgState(org);
		const retention = Object.values(after.erasures).filter((e) => e.subject === "retention");
		expect(retention).toHaveLength(1);
		expect(retention[0]).toMatchObject({ status: "done", counts: { actors: 1, actorsErased: 1, bytesLeft: EMPTY_DATABASE_BYTES } });
		expect(after.interactions).toEqual(before.interactions);
		expect((await sessionStub(org, old).describe()).version).toBe(0);
		expect((await sessionStub(org, recent).describe()).version).toBeGreaterThan(0);
		const tables = await runInDurableObject(
			sessionStub(org, old),
			(_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n,
		);
		expect(tables).toBe(0);
		const archive = await env.ARCHIVE.get(`logs/${org.org}/session:${old}.ndjson`);
		if (archiveSessions) {
			const lines = (await archive?.text())?.trim().split("\n") ?? [];
			expect(lines.length).toBeGreaterThan(1);
			expect(JSON.parse(lines[0] ?? "{}")).toHaveProperty("hash");
		} else expect(archive).toBeNull();
		// Idempotent: the next day's run does not erase the same session again.
		vi.setSystemTime(T0 + 4 * DAY);
		for (let i = 0; i < 3; i++) await runDurableObjectAlarm(orgStub(org));
		expect(Object.values((await orgState(org)).erasures).filter((e) => e.subject === "retention")).toHaveLength(1);
	});
});

describe("interaction records past interactionsDays", () => {
	it("compacts the org's log to R2 and drops the old records from search; the chain verifies from the checkpoint", async () => {
		const org = await createOrg("Records");
		const [old, recent] = [uniqueId("s"), uniqueId("s")];
		const [oldUser, recentUser] = [uniqueId("user"), uniqueId("user")];
		await endedVisit(org, old, oldUser);
		expect((await putPolicy(org, { ...DEFAULT_POLICY, interactionsDays: 1 })).status).toBe(200);
		vi.setSystemTime(T0 + 2 * DAY);
		await endedVisit(org, recent, recentUser, T0 + 2 * DAY);
		const search = async (user: string) =>
			(await getJson<{ interactions: unknown[] }>(`/v1/orgs/${org.org}/interactions/search?user=${user}`, { headers: bearer(org) }))
				.interactions;
		console.log(JSON.stringify(await getJson(`/v1/orgs/${org.org}/interactions/search`, { headers: bearer(org) })).slice(0, 1500));
		expect(await search(oldUser)).toHaveLength(1);
		vi.setSystemTime(T0 + 3 * DAY);
		// The retention timer compacts after its commit (waitUntil); the org's stub waits on the same object.
		for (let i = 0; i < 3; i++) await runDurableObjectAlarm(orgStub(org));
		let checkpoint = 0;
		for (let i = 0; i < 50 && checkpoint === 0; i++) {
			checkpoint = await runInDurableObject(orgStub(org), (_i, state) => {
				const row = state.storage.sql.exec<{ v: string }>("SELECT value AS v FROM actor_meta WHERE key = 'checkpoint'").toArray()[0];
				return row ? (JSON.parse(row.v) as { seq: number }).seq : 0;
			});
			if (checkpoint === 0) await new Promise((resolve) => setTimeout(resolve, 20));
		}
		expect(checkpoint).toBeGreaterThan(0);
		expect(await search(oldUser)).toHaveLength(0);
		expect(await search(recentUser)).toHaveLength(1);
		expect(await orgStub(org).verifyChain()).toMatchObject({ ok: true });
		const listed = await env.ARCHIVE.list({ prefix: `segments/${org.org}/` });
		expect(listed.objects.length).toBeGreaterThan(0);
		// The key still works: state came through the compaction.
		expect((await call(`/v1/orgs/${org.org}/policy`, { headers: bearer(org) })).status).toBe(200);
	});
});

describe("deleting an org", () => {
	it("needs the admin token, refuses the org's keys at once, erases every actor, and repeats without effect", async () => {
		const org = await createOrg("Doomed");
		const session = uniqueId("s");
		await endedVisit(org, session, uniqueId("user"));
		await expectProblem(await call(`/v1/orgs/${org.org}`, { method: "DELETE", headers: bearer(org) }), 403);
		await expectProblem(await call(`/v1/orgs/${org.org}`, { method: "DELETE", headers: { authorization: "" } }), 401);
		const res = await call(`/v1/orgs/${org.org}`, { method: "DELETE", headers: adminAuth });
		expect(res.status).toBe(202);
		expect(await res.json()).toMatchObject({ status: "deleting", counts: { actors: 1 } });
		expect((await call(`/v1/orgs/${org.org}`, { headers: bearer(org) })).status).toBe(401);
		for (let i = 0; i < 6; i++) await runDurableObjectAlarm(orgStub(org));
		const view = await getJson<{ deletion: { status: string; counts: Record<string, number> } }>(`/v1/orgs/${org.org}`, {
			headers: adminAuth,
		});
		expect(view.deletion).toMatchObject({ status: "deleted", counts: { actorsErased: 1 } });
		expect((await sessionStub(org, session).describe()).version).toBe(0);
		for (const [bucket, area] of [
			[env.ARCHIVE, "interactions"],
			[env.ARCHIVE, "logs"],
			[env.FRAMES, "frames"],
		] as const)
			expect((await bucket.list({ prefix: `${area}/${org.org}/` })).objects).toHaveLength(0);
		const again = await call(`/v1/orgs/${org.org}`, { method: "DELETE", headers: adminAuth });
		expect(again.status).toBe(202);
		expect(await again.json()).toMatchObject({ status: "deleted" });
	});
});
