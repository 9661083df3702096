/**
 * The webhook event types about operations (docs/webhooks.md): `work.parked` when any actor of the org parks work
 * (the org's own dead letters included) and `erasure.completed` when an erasure reaches done, without personal data.
 * The first also holds the kernel to its word on commit effects: an org commit whose events cause deliveries still
 * writes the plan's own rows (the org's parked index), in the same transaction.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { armFault, disarmFault } from "../../src/actors/faults.ts";
import { actorName } from "../../src/core/identity.ts";
import type { ErasureView } from "../../src/reducers/org-erasure.ts";
import { call, createOrg, getJson, pageView, postBatch, type TestOrg, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
// Mocked time well after the real clock, so real alarms never fire on their own during a test.
const T0 = Date.UTC(2036, 5, 1, 9, 0, 0);

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

const orgStub = (t: TestOrg) => env.ORG.getByName(actorName(t.org, t.org));

async function subscribe(t: TestOrg, events: string[]): Promise<string> {
	const res = await call(`/v1/orgs/${t.org}/webhooks`, {
		method: "POST",
		headers: { authorization: `Bearer ${t.key}` },
		body: JSON.stringify({ url: "https://hooks.invalid/roost", events }),
	});
	expect(res.status, await res.clone().text()).toBe(201);
	return (await res.json<{ webhook: { id: string } }>()).webhook.id;
}

/** The deliveries waiting in the org's outbox for `webhook`, with the bodies they will send. */
async function queued(
	t: TestOrg,
	webhook: string,
): Promise<{ id: string; type: string; body: { type: string; data: Record<string, unknown> } }[]> {
	return runInDurableObject(orgStub(t), (_instance, state) =>
		state.storage.sql
			.exec<{ id: string; type: string; data: string }>("SELECT id, type, data FROM outbox WHERE target = ?", JSON.stringify({ webhook }))
			.toArray()
			.map((row) => ({ id: row.id, type: row.type, body: JSON.parse((JSON.parse(row.data) as { body: string }).body) })),
	);
}

describe("work.parked", () => {
	it("is delivered for the org's own parked work, and the org still lists it (the plan's writes kept beside the deliveries)", async () => {
		const t = await createOrg();
		const webhook = await subscribe(t, ["work.parked"]);
		const recorded = await orgStub(t).recordDeadLetter({
			queue: "roost-production-interactions-dlq",
			binding: "INTERACTIONS_QUEUE",
			messageId: "q-parked-1",
			attempts: 11,
			body: { id: "m-1", type: "interaction.recorded", data: { org: t.org } },
		});
		expect(recorded.ok).toBe(true);
		const listed = await getJson<{ items: { id: string; work: string; name: string }[] }>(`/v1/orgs/${t.org}/parked`);
		expect(listed.items).toEqual([expect.objectContaining({ work: "dead_letter", name: "q-parked-1" })]);
		const [delivery] = await queued(t, webhook);
		expect(delivery).toMatchObject({
			type: "work.parked",
			body: {
				type: "work.parked",
				data: { id: listed.items[0]?.id, actor: { kind: "org", id: t.org }, work: "dead_letter", reason: "dead_letter" },
			},
		});
		expect(await queued(t, webhook)).toHaveLength(1);
	});

	it("is delivered when a session's message is parked and reported to the org, which lists it", async () => {
		const t = await createOrg();
		const webhook = await subscribe(t, ["work.parked", "interaction.recorded"]);
		const session = uniqueId("s");
		// The visit's start cannot reach the org 20 times in a row (PARK_AFTER_ATTEMPTS is 20 in tests): it is parked.
		expect((await postBatch(t.org, session, { events: [pageView("/a", T0)] }, { authorization: `Bearer ${t.key}` })).status).toBe(202);
		const stub = env.SESSION.getByName(actorName(t.org, session));
		armFault({ point: "outbox.before-delivery", object: actorName(t.org, session), times: 20 });
		for (let i = 0; i < 20; i++) {
			const { outbox } = await stub.kernelStatus();
			vi.setSystemTime(Math.max(Date.now(), outbox.nextAttemptAt ?? Date.now()));
			expect(
				(await postBatch(t.org, session, { events: [pageView(`/a/${i}`, Date.now())] }, { authorization: `Bearer ${t.key}` })).status,
			).toBe(202);
			await runDurableObjectAlarm(stub);
		}
		expect(disarmFault().failures).toBe(20);
		expect((await stub.kernelStatus()).outbox.parked).toBe(1);
		// The next alarm delivers the report to the org.
		const { outbox } = await stub.kernelStatus();
		vi.setSystemTime(Math.max(Date.now(), outbox.nextAttemptAt ?? Date.now()));
		await runDurableObjectAlarm(stub);
		const listed = await getJson<{ items: { id: string; actor: { kind: string; id: string } }[] }>(`/v1/orgs/${t.org}/parked`);
		expect(listed.items).toEqual([expect.objectContaining({ actor: { kind: "session", id: session }, work: "outbox" })]);
		const deliveries = (await queued(t, webhook)).filter((d) => d.type === "work.parked");
		expect(deliveries).toHaveLength(1);
		expect(deliveries[0]?.body.data).toMatchObject({ id: listed.items[0]?.id, actor: { kind: "session", id: session }, attempts: 20 });
		const pending = await getJson<{ deliveries: { type: string; status: string }[] }>(`/v1/orgs/${t.org}/webhooks/${webhook}/deliveries`);
		expect(pending.deliveries).toContainEqual(expect.objectContaining({ type: "work.parked", status: "pending" }));
	});
});

describe("erasure.completed", () => {
	it("is delivered once when an erasure reaches done, with ids and counts and no personal data", async () => {
		const t = await createOrg();
		const webhook = await subscribe(t, ["erasure.completed"]);
		const session = uniqueId("s");
		const userId = "erasable-user@example.com";
		const events = [
			pageView("/shoes", T0),
			{ id: uniqueId("e"), type: "session.identified", ts: T0 + 1, data: { userId, traits: { name: "Ada Example" } } },
		];
		expect((await postBatch(t.org, session, { events }, { authorization: `Bearer ${t.key}` })).status).toBe(202);
		vi.setSystemTime(T0 + HOUR);
		await runDurableObjectAlarm(env.SESSION.getByName(actorName(t.org, session)));
		const res = await call(`/v1/orgs/${t.org}/erasures`, {
			method: "POST",
			headers: { authorization: `Bearer ${t.key}` },
			body: JSON.stringify({ userId }),
		});
		expect(res.status, await res.clone().text()).toBe(202);
		const { id } = await res.json<{ id: string }>();
		expect(await queued(t, webhook)).toEqual([]);
		let view: ErasureView | null = null;
		for (let round = 0; round < 20 && view?.status !== "done"; round++) {
			view = await getJson<ErasureView>(`/v1/orgs/${t.org}/erasures/${id}`);
			if (view.status !== "done") await runDurableObjectAlarm(orgStub(t));
		}
		expect(view?.status).toBe("done");
		const deliveries = await queued(t, webhook);
		expect(deliveries).toHaveLength(1);
		expect(deliveries[0]?.body).toEqual({
			type: "erasure.completed",
			timestamp: new Date(view?.doneAt ?? 0).toISOString(),
			data: { erasure: id, subject: "user", requestedAt: view?.requestedAt, doneAt: view?.doneAt, counts: view?.counts },
		});
		const text = JSON.stringify(deliveries);
		for (const personal of [userId, "Ada Example", session]) expect(text).not.toContain(personal);
	});
});
