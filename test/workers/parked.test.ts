/**
 * Parked work (docs/operations.md): an outbox delivery that fails PARK_AFTER_ATTEMPTS (20 in tests) times in a row is
 * parked, recorded in its actor's log, reported to the org and listed there; a retry through the API delivers it, and
 * retry and discard are each an event, idempotent. A timer that keeps failing is parked the same way and discarded.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { EventPage } from "../../src/actors/actor.ts";
import { armFault, disarmFault } from "../../src/actors/faults.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import worker from "../../src/index.ts";
import { call, eventually, keyFor, pageView } from "./helpers.ts";
import { clockAt } from "./reliability-support.ts";

const ORG = "acme-parked";
// Mocked time well after the real clock, so real alarms never fire on their own.
const T0 = Date.UTC(2034, 2, 1, 8, 0);

clockAt(T0);

const session = (id: string) => env.SESSION.getByName(actorName(ORG, id));
const org = () => env.ORG.getByName(actorName(ORG, ORG));

async function api(key: string, path: string, method = "GET"): Promise<Response> {
	return call(`/v1/orgs/${ORG}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
}

async function send(key: string, id: string, path: string): Promise<void> {
	const res = await call(`/v1/orgs/${ORG}/sessions/${id}/events`, {
		method: "POST",
		headers: { authorization: `Bearer ${key}` },
		body: JSON.stringify({ events: [{ ...pageView(path), ts: Date.now() }] }),
	});
	expect(res.status).toBe(202);
}

/** Runs the session's alarm once at its next due time (outbox retry or timer). */
async function nextAlarm(id: string): Promise<void> {
	const { outbox, timers } = await session(id).kernelStatus();
	const due = [outbox.nextAttemptAt, ...timers.filter((t) => t.parkedAt === null).map((t) => t.dueAt)].filter(
		(at): at is number => at !== null,
	);
	if (due.length > 0) vi.setSystemTime(Math.max(Date.now(), Math.min(...due)));
	await runDurableObjectAlarm(session(id));
}

async function kernelEvents(id: string): Promise<EventEnvelope[]> {
	return ((await session(id).readEvents({ limit: 1000 })) as EventPage).events.filter((e) => e.type.startsWith("kernel."));
}

describe("an outbox message that fails 20 times", () => {
	it("is parked in its actor's log, listed across the org, and delivered once after a retry; retry and discard are idempotent events", async () => {
		const key = await keyFor(ORG);
		const id = "parked-outbox";
		await send(key, id, "/a");
		// The visit's start goes to the org through the outbox: an outage of the delivery, 20 failures long.
		armFault({ point: "outbox.before-delivery", object: actorName(ORG, id), times: 20 });
		for (let i = 0; i < 20; i++) {
			// A page view before each retry keeps the visit open (its inactivity timer an hour on), so only the message is due.
			const { outbox } = await session(id).kernelStatus();
			vi.setSystemTime(outbox.nextAttemptAt ?? Date.now());
			await send(key, id, `/a/${i}`);
			await runDurableObjectAlarm(session(id));
		}
		expect(disarmFault()).toMatchObject({ failures: 20 });

		const status = await session(id).kernelStatus();
		expect(status.outbox.parked).toBe(1);
		const [parked] = await kernelEvents(id);
		expect(parked).toMatchObject({
			type: "kernel.work_parked",
			// The visit start goes to the org through the org intake queue (src/intake.ts).
			data: { work: "outbox", target: "queue:ORG_INTAKE_QUEUE", reason: "attempts", attempts: 20 },
		});
		expect(parked?.data).toMatchObject({ lastError: expect.stringContaining("injected fault") });

		// The report to the org is the only message still owed; the next alarm delivers it.
		expect(status.outbox.pending).toBe(1);
		await nextAlarm(id);
		const listed = await (await api(key, "/parked")).json<{ items: { id: string; actor: unknown; attempts: number }[]; total: number }>();
		const itemId = `session.${id}.${parked?.seq}`;
		expect(listed.items).toContainEqual(
			expect.objectContaining({ id: itemId, actor: { kind: "session", id }, attempts: 20, work: "outbox" }),
		);
		const started = async () =>
			((await org().readEvents({ type: "org.visit_started", limit: 1000 })) as EventPage).events.filter(
				(e) => (e.data as { session: string }).session === id,
			);
		expect(await started()).toHaveLength(0);

		const retried = await api(key, `/parked/${itemId}/retry`, "POST");
		expect(retried.status).toBe(200);
		expect(await retried.json()).toMatchObject({ id: itemId, status: "retried", repeated: false });
		const again = await api(key, `/parked/${itemId}/retry`, "POST");
		expect(await again.json()).toMatchObject({ status: "retried", repeated: true });
		const discard = await api(key, `/parked/${itemId}/discard`, "POST");
		expect(discard.status).toBe(422);

		await nextAlarm(id);
		expect(await session(id).kernelStatus()).toMatchObject({ outbox: { pending: 0, parked: 0 } });
		// The queue hands it to the org within its batch timeout.
		await eventually(async () => (await started()).length > 0, "the visit start");
		expect(await started()).toHaveLength(1);
		expect((await kernelEvents(id)).map((e) => e.type)).toEqual(["kernel.work_parked", "kernel.parked_retried"]);
		const after = await (await api(key, "/parked")).json<{ items: { id: string }[] }>();
		expect(after.items.map((item) => item.id)).not.toContain(itemId);
		expect((await org().verifyChain()).ok).toBe(true);
		expect((await session(id).verifyChain()).ok).toBe(true);
	});
});

describe("a timer that fails 20 times", () => {
	it("is parked, and a discard skips its firing: a one-off timer is gone", async () => {
		const key = await keyFor(ORG);
		const id = "parked-timer";
		await send(key, id, "/a");
		await nextAlarm(id);
		vi.setSystemTime(T0 + 2 * 3_600_000);
		armFault({ point: "timer.before-handler", object: actorName(ORG, id), times: 20 });
		for (let i = 0; i < 20; i++) await nextAlarm(id);
		disarmFault();
		const { timers } = await session(id).kernelStatus();
		expect(timers.find((t) => t.name === "inactivity")).toMatchObject({ attempts: 20, parkedAt: expect.any(Number) });
		const parked = (await kernelEvents(id)).find((e) => e.type === "kernel.work_parked");
		expect(parked?.data).toMatchObject({ work: "timer", name: "inactivity", reason: "attempts", attempts: 20 });
		await nextAlarm(id);
		const itemId = `session.${id}.${parked?.seq}`;
		const listed = await (await api(key, "/parked?limit=500")).json<{ items: { id: string }[] }>();
		expect(listed.items.map((item) => item.id)).toContain(itemId);

		const discarded = await api(key, `/parked/${itemId}/discard`, "POST");
		expect(await discarded.json()).toMatchObject({ status: "discarded", repeated: false });
		expect((await api(key, `/parked/${itemId}/discard`, "POST")).status).toBe(200);
		expect((await session(id).kernelStatus()).timers.find((t) => t.name === "inactivity")).toBeUndefined();
		await nextAlarm(id);
		const after = await (await api(key, "/parked?limit=500")).json<{ items: { id: string }[] }>();
		expect(after.items.map((item) => item.id)).not.toContain(itemId);
	});

	it("answers 404 for an item that is not parked work of the caller's org, and 400 for a malformed id", async () => {
		const key = await keyFor(ORG);
		expect((await api(key, "/parked/session.nobody.3/retry", "POST")).status).toBe(404);
		expect((await api(key, "/parked/registry.x.1/retry", "POST")).status).toBe(404);
		const bad = await api(key, "/parked/not-an-id/retry", "POST");
		expect(bad.status).toBe(400);
		expect(JSON.stringify(await bad.json())).toContain("path.id");
	});
});

describe("a message in a dead-letter queue", () => {
	it("is recorded in its org as parked work once, listed, and a retry sends it to its queue again", async () => {
		const key = await keyFor(ORG);
		const body = {
			id: "m-dead-1",
			from: { kind: "session", org: ORG, id: "s-dead" },
			type: "interaction.recorded",
			data: { org: ORG },
			meta: {},
		};
		const deliver = async () => {
			const batch = createMessageBatch("roost-production-interactions-dlq", [{ id: "q-1", timestamp: new Date(), attempts: 11, body }]);
			const ctx = createExecutionContext();
			await worker.queue(batch, env);
			await waitOnExecutionContext(ctx);
			return getQueueResult(batch, ctx);
		};
		expect((await deliver()).explicitAcks).toEqual(["q-1"]);
		// The DLQ delivers at least once: a second delivery records nothing new.
		await deliver();
		const parked = (await org().readEvents({ limit: 1000 })) as EventPage;
		const recorded = parked.events.filter((e) => e.type === "kernel.work_parked" && (e.data as { work: string }).work === "dead_letter");
		expect(recorded).toHaveLength(1);
		expect(recorded[0]?.data).toMatchObject({
			name: "q-1",
			target: "queue:INTERACTIONS_QUEUE",
			reason: "dead_letter",
			attempts: 11,
			message: body,
		});
		const itemId = `org.${ORG}.${recorded[0]?.seq}`;
		const listed = await (await api(key, "/parked?limit=500")).json<{ items: { id: string; work: string }[] }>();
		expect(listed.items).toContainEqual(expect.objectContaining({ id: itemId, work: "dead_letter" }));

		const retried = await api(key, `/parked/${itemId}/retry`, "POST");
		expect(await retried.json()).toMatchObject({ status: "retried", repeated: false });
		// The org sends it again through its outbox; the list no longer holds it.
		expect((await org().kernelStatus()).outbox.pending).toBe(1);
		await runDurableObjectAlarm(org());
		expect((await org().kernelStatus()).outbox).toMatchObject({ pending: 0, parked: 0 });
		const after = await (await api(key, "/parked?limit=500")).json<{ items: { id: string }[] }>();
		expect(after.items.map((item) => item.id)).not.toContain(itemId);
	});
});
