/**
 * A subject access request (docs/privacy.md), black box: a user with sessions (one of them erased by retention with
 * its log archived to R2), their interactions archived by the queue, a bystander; the admin's export holds the user's
 * records and nothing of the bystander, is paged, audited by counts only, closed to lower roles and other orgs; after
 * the user's erasure it holds nothing of theirs.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { DEFAULT_POLICY } from "../../src/events/org-policy.ts";
import { call, createKey, createOrg, expectProblem, getJson, pageView, postBatch, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2035, 1, 6, 9, 0, 0);

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const orgStub = (org: TestOrg) => env.ORG.getByName(actorName(org.org, org.org));
const sessionStub = (org: TestOrg, session: string) => env.SESSION.getByName(actorName(org.org, session));

/** A visit to `session` by `userId` at `at`, ended by inactivity an hour later and handed to the org and the queue. */
async function identifiedVisit(org: TestOrg, session: string, userId: string, traits: Record<string, string>, at: number): Promise<void> {
	vi.setSystemTime(at);
	const events = [
		pageView("/shoes", at),
		{ id: uniqueId("e"), type: "session.identified", ts: at + 1, data: { userId, traits } },
		pageView("/checkout", at + 2),
	];
	expect((await postBatch(org.org, session, { events }, bearer(org.key))).status).toBe(202);
	vi.setSystemTime(at + HOUR);
	await runDurableObjectAlarm(sessionStub(org, session));
}

/** Waits (real time) for the queue consumer to archive `count` interactions of the org. */
async function archived(org: TestOrg, count: number): Promise<void> {
	const now = Date.now();
	vi.useRealTimers();
	const listed = async () => (await env.ARCHIVE.list({ prefix: `interactions/${org.org}/` })).objects.length;
	for (let i = 0; i < 200 && (await listed()) < count; i++) await new Promise((r) => setTimeout(r, 25));
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(now);
	expect(await listed()).toBe(count);
}

/** Runs the org's alarm (its outbox and timers) until the erasure is done. */
async function eraseUntilDone(org: TestOrg, id: string): Promise<void> {
	for (let round = 0; round < 20; round++) {
		const view = await getJson<{ status: string }>(`/v1/orgs/${org.org}/erasures/${id}`, { headers: bearer(org.key) });
		if (view.status === "done") return;
		await runDurableObjectAlarm(orgStub(org));
	}
	throw new Error(`erasure ${id} did not finish`);
}

type Line = { kind: string; [field: string]: unknown };

async function exportOf(org: TestOrg, body: Record<string, unknown>, key = org.key): Promise<{ lines: Line[]; text: string }> {
	const res = await call(`/v1/orgs/${org.org}/subject-exports`, { method: "POST", headers: bearer(key), body: JSON.stringify(body) });
	expect(res.status).toBe(200);
	expect(res.headers.get("content-type")).toContain("application/x-ndjson");
	const text = await res.text();
	const lines = text
		.trim()
		.split("\n")
		.map((line) => JSON.parse(line) as Line);
	expect(lines[0]?.kind).toBe("export");
	expect(lines.at(-1)).toEqual({ kind: "end", lines: lines.length });
	return { lines, text };
}

const ofKind = (lines: Line[], kind: string) => lines.filter((line) => line.kind === kind);

describe("subject access export", () => {
	it("holds the user's interactions, sessions, events and R2 archives, nothing of a bystander; paged, audited by counts, admin only", async () => {
		const org = await createOrg("Subject export");
		const userId = uniqueId("user");
		const traits = { email: `${uniqueId("mail")}@example.com`, plan: "gold" };
		const other = uniqueId("other-user");
		const [retained, recent, bystander] = [uniqueId("s"), uniqueId("s"), uniqueId("s")];
		await identifiedVisit(org, retained, userId, traits, T0);
		await archived(org, 1);
		// Retention with archiveSessions erases the first session two days on, keeping its log in R2.
		const policy = { ...DEFAULT_POLICY, sessionsDays: 2, archiveSessions: true };
		const put = await call(`/v1/orgs/${org.org}/policy`, { method: "PUT", headers: bearer(org.key), body: JSON.stringify(policy) });
		expect(put.status).toBe(200);
		await identifiedVisit(org, recent, userId, traits, T0 + 2 * DAY);
		await identifiedVisit(org, bystander, other, { email: "bea@example.com" }, T0 + 2 * DAY);
		await archived(org, 3);
		vi.setSystemTime(T0 + 3 * DAY);
		for (let i = 0; i < 6; i++) await runDurableObjectAlarm(orgStub(org));
		expect((await sessionStub(org, retained).describe()).version).toBe(0);
		expect(await env.ARCHIVE.head(`logs/${org.org}/session:${retained}.ndjson`)).not.toBeNull();

		const { lines, text } = await exportOf(org, { userId });
		const [header] = lines;
		expect(header).toMatchObject({ org: org.org, sessions: 2, totalSessions: 2, interactions: 2, next: null });
		// The org's records, the user id opened.
		const interactions = ofKind(lines, "interaction").map((l) => l.interaction as { actor: { id: string }; summary: { userId: string } });
		expect(interactions.map((i) => i.actor.id).sort()).toEqual([retained, recent].sort());
		for (const interaction of interactions) expect(interaction.summary.userId).toBe(userId);
		// Each session's state, and the live one's events with the id and traits.
		const sessions = ofKind(lines, "session") as { session: string; version: number }[] & Line[];
		expect(sessions.map((s) => s.session).sort()).toEqual([retained, recent].sort());
		expect(sessions.find((s) => s.session === retained)?.version).toBe(0);
		const events = ofKind(lines, "event") as ({ session: string; event: { type: string; data: unknown } } & Line)[];
		expect(new Set(events.map((e) => e.session))).toEqual(new Set([recent]));
		expect(events.find((e) => e.event.type === "session.identified")?.event.data).toEqual({ userId, traits });
		// R2: the live session's archived interaction, and the retained session's archived log.
		const archivedInteractions = ofKind(lines, "archived_interaction");
		expect(archivedInteractions.map((l) => l.session)).toEqual([recent]);
		expect(JSON.stringify(archivedInteractions)).toContain(userId);
		const archivedEvents = ofKind(lines, "archived_event");
		expect(archivedEvents.length).toBeGreaterThan(3);
		expect(new Set(archivedEvents.map((l) => l.session))).toEqual(new Set([retained]));
		expect(JSON.stringify(archivedEvents)).toContain(traits.email);
		// Nothing of the bystander.
		for (const theirs of [bystander, other, "bea@example.com"]) expect(text).not.toContain(theirs);

		// Paged by session: the interactions come with the first page.
		const first = await exportOf(org, { userId, limit: 1 });
		const [firstSession, secondSession] = [retained, recent].sort();
		expect(first.lines[0]).toMatchObject({ sessions: 1, totalSessions: 2, interactions: 2, next: firstSession });
		expect(ofKind(first.lines, "session").map((l) => l.session)).toEqual([firstSession]);
		const second = await exportOf(org, { userId, after: firstSession, limit: 1 });
		expect(second.lines[0]).toMatchObject({ sessions: 1, interactions: 0, next: null });
		expect(ofKind(second.lines, "session").map((l) => l.session)).toEqual([secondSession]);

		// Each export is in the audit trail with who asked and counts, never the user.
		const audit = await getJson<{ entries: { type: string; data: Record<string, unknown> }[] }>(`/v1/orgs/${org.org}/audit?limit=3`, {
			headers: bearer(org.key),
		});
		expect(audit.entries.map((e) => e.type)).toEqual(["org.subject_exported", "org.subject_exported", "org.subject_exported"]);
		expect(audit.entries[2]?.data).toEqual({ export: header?.id, sessions: 2, requestedBy: org.keyId });
		for (const theirs of [userId, retained, recent, traits.email]) expect(JSON.stringify(audit)).not.toContain(theirs);

		// Admin only; a bad body names its field; another org with the same user id holds nothing of them.
		for (const role of ["analyst", "viewer"] as const) {
			const { key } = await createKey(org.org, org.key, role, role);
			const refused = await call(`/v1/orgs/${org.org}/subject-exports`, {
				method: "POST",
				headers: bearer(key),
				body: JSON.stringify({ userId }),
			});
			expect((await expectProblem(refused, 403)).detail).toContain("admin");
		}
		const bad = await call(`/v1/orgs/${org.org}/subject-exports`, {
			method: "POST",
			headers: bearer(org.key),
			body: JSON.stringify({ user: userId }),
		});
		expect((await expectProblem(bad, 400)).errors?.map((e) => e.path)).toEqual(["userId"]);
		const elsewhere = await createOrg("Another org");
		const foreign = await call(`/v1/orgs/${org.org}/subject-exports`, {
			method: "POST",
			headers: bearer(elsewhere.key),
			body: JSON.stringify({ userId }),
		});
		// Another org's key on this org's path: the same 404 as a path that does not exist.
		await expectProblem(foreign, 404);
		const theirs = await exportOf(elsewhere, { userId });
		expect(theirs.lines.map((l) => l.kind)).toEqual(["export", "end"]);

		// The user's erasure finds the retained session by its kept keys and deletes its archive: nothing is left to export.
		const erased = await call(`/v1/orgs/${org.org}/erasures`, {
			method: "POST",
			headers: bearer(org.key),
			body: JSON.stringify({ userId }),
		});
		const { id } = await erased.json<{ id: string }>();
		await eraseUntilDone(org, id);
		expect(await env.ARCHIVE.head(`logs/${org.org}/session:${retained}.ndjson`)).toBeNull();
		const after = await exportOf(org, { userId });
		expect(after.lines.map((l) => l.kind)).toEqual(["export", "end"]);
		for (const personal of [userId, traits.email, retained, recent]) expect(after.text).not.toContain(personal);
	});

	it("after the user's erasure the export holds nothing of theirs", async () => {
		const org = await createOrg("Export after erasure");
		const userId = uniqueId("user");
		const traits = { email: `${uniqueId("mail")}@example.com` };
		const [one, two] = [uniqueId("s"), uniqueId("s")];
		await identifiedVisit(org, one, userId, traits, T0);
		await identifiedVisit(org, two, userId, traits, T0 + HOUR);
		await archived(org, 2);
		const before = await exportOf(org, { userId });
		expect(before.lines[0]).toMatchObject({ sessions: 2, interactions: 2 });
		expect(before.text).toContain(traits.email);

		const res = await call(`/v1/orgs/${org.org}/erasures`, { method: "POST", headers: bearer(org.key), body: JSON.stringify({ userId }) });
		expect(res.status).toBe(202);
		await eraseUntilDone(org, (await res.json<{ id: string }>()).id);

		const after = await exportOf(org, { userId });
		expect(after.lines.map((l) => l.kind)).toEqual(["export", "end"]);
		expect(after.lines[0]).toMatchObject({ sessions: 0, totalSessions: 0, interactions: 0, next: null });
		for (const personal of [userId, traits.email, one, two]) expect(after.text).not.toContain(personal);
	});
});
