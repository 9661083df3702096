/**
 * The org's `sessionInactivitySeconds` (docs/api.md, "Org settings") in the session actor, with real alarms and a
 * controlled clock: a visit records the setting in force when it opens and ends after it; a visit opened before a
 * change keeps its own; folding the log again gives the same state.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { allEvents, call, createOrg, getJson, pageView, postBatch, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2031, 6, 1, 9, 0, 0);

const bearer = (org: TestOrg) => ({ authorization: `Bearer ${org.key}` });
const sessionPath = (org: TestOrg, id: string) => `/v1/orgs/${org.org}/sessions/${id}`;
const types = async (org: TestOrg, id: string) => (await allEvents(sessionPath(org, id), { headers: bearer(org) })).map((e) => e.type);

async function setInactivity(org: TestOrg, seconds: number): Promise<void> {
	const body = JSON.stringify({ sessionInactivitySeconds: seconds });
	const res = await call(`/v1/orgs/${org.org}/settings`, { method: "PUT", headers: bearer(org), body });
	expect(res.status).toBe(200);
}

/** Moves the mocked clock to `time` and runs the session's alarm, as the runtime would at that instant. */
async function at(org: TestOrg, time: number, session: string): Promise<void> {
	vi.setSystemTime(time);
	await runDurableObjectAlarm(env.SESSION.getByName(actorName(org.org, session)));
}

async function send(org: TestOrg, session: string, ts: number): Promise<void> {
	expect((await postBatch(org.org, session, { events: [pageView("/", ts)] }, bearer(org))).status).toBe(202);
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("session inactivity from the org's settings", () => {
	it("a visit opened after the org changed its inactivity to two minutes ends two minutes after its last event, not before", async () => {
		const org = await createOrg("Short visits");
		await setInactivity(org, 120);
		const session = uniqueId("s");
		await send(org, session, T0);
		const events = await allEvents(sessionPath(org, session), { headers: bearer(org) });
		expect(events[0]).toMatchObject({ type: "session.started", data: { visit: 1, inactivityMs: 120_000 } });

		await at(org, T0 + 119_999, session);
		expect(await types(org, session)).not.toContain("session.ended");
		await at(org, T0 + 120_000, session);
		const ended = (await allEvents(sessionPath(org, session), { headers: bearer(org) })).at(-1);
		expect(ended).toMatchObject({ type: "session.ended", ts: T0 + 120_000, data: { summary: { visit: 1 } } });
	});

	it("a visit opened before the change keeps the inactivity it started with; the next visit takes the new one", async () => {
		const org = await createOrg("Changed visits");
		const [before, after] = [uniqueId("s"), uniqueId("s")];
		await send(org, before, T0);
		await setInactivity(org, 300);
		vi.setSystemTime(T0 + 1_000);
		await send(org, before, T0 + 1_000);
		await send(org, after, T0 + 1_000);

		await at(org, T0 + 1_000 + 300_000, before);
		await at(org, T0 + 1_000 + 300_000, after);
		expect(await types(org, before)).not.toContain("session.ended");
		expect(await types(org, after)).toContain("session.ended");

		await at(org, T0 + 1_000 + HOUR, before);
		const ended = (await allEvents(sessionPath(org, before), { headers: bearer(org) })).at(-1);
		expect(ended).toMatchObject({ type: "session.ended", ts: T0 + 1_000 + HOUR });

		// The same session's next visit takes the org's setting as it is when that visit opens.
		vi.setSystemTime(T0 + 2 * HOUR);
		await send(org, before, T0 + 2 * HOUR);
		await at(org, T0 + 2 * HOUR + 300_000, before);
		const visits = (await allEvents(sessionPath(org, before), { headers: bearer(org) })).filter((e) => e.type === "session.started");
		expect(visits.map((e) => e.data)).toEqual([
			{ visit: 1, inactivityMs: HOUR },
			{ visit: 2, inactivityMs: 300_000 },
		]);
		expect((await types(org, before)).filter((t) => t === "session.ended")).toHaveLength(2);
	});

	it("folding the log again gives the same state as the live actor, recorded inactivity and all", async () => {
		const org = await createOrg("Replayed visits");
		await setInactivity(org, 600);
		const session = uniqueId("s");
		await send(org, session, T0);
		await at(org, T0 + 600_000, session);
		await send(org, session, T0 + 600_000);
		const replay = await getJson<{ ok: boolean; mismatches: unknown[] }>(`${sessionPath(org, session)}/replay`, { headers: bearer(org) });
		expect(replay).toMatchObject({ ok: true, mismatches: [] });
		const { state } = await getJson<{ state: { visit: { number: number; inactivityMs: number } } }>(`${sessionPath(org, session)}/state`, {
			headers: bearer(org),
		});
		expect(state.visit).toMatchObject({ number: 2, inactivityMs: 600_000 });
	});
});
