/**
 * The org intake (src/intake.ts, docs/scaling.md): web sessions tell their org of a visit start through a queue, whose
 * consumer hands each org a batch's messages in one `receiveBatch` RPC. Visit starts from several sessions of two orgs
 * reach each org in fewer RPCs than messages, each recorded once even when the batch is delivered again, and none
 * acts on another org; the real queue delivers what sessions send over HTTP.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventPage } from "../../src/actors/actor.ts";
import type { ActorMessage } from "../../src/actors/outbox.ts";
import { actorName } from "../../src/core/identity.ts";
import type { Env } from "../../src/env.ts";
import { VISIT_STARTED_MESSAGE, visitInteractionId } from "../../src/events/interaction.ts";
import worker from "../../src/index.ts";
import { adminAuth, call, keyFor, pageView, uniqueId } from "./helpers.ts";

const orgStub = (org: string) => env.ORG.getByName(actorName(org, org));

/** A session's visit start as its outbox sends it to the intake queue (src/actors/session.ts, kernel/courier.ts). */
function visitStart(org: string, session: string, about = session): ActorMessage {
	return {
		id: `${visitInteractionId(about, 1)}>started`,
		from: { kind: "session", org, id: session },
		type: VISIT_STARTED_MESSAGE,
		data: { session: about, visit: 1, startedAt: 1_700_000_000_000 },
		meta: {},
	};
}

/** `env` with an ORG binding that passes every call to the real one and counts each `receiveBatch`, by org. */
function countingEnv(): { env: Env; calls: { org: string; messages: number }[] } {
	const calls: { org: string; messages: number }[] = [];
	const ORG = {
		getByName: (name: string) => {
			const stub = env.ORG.getByName(name);
			return {
				receiveBatch: (messages: ActorMessage[], queue?: string) => {
					calls.push({ org: name, messages: messages.length });
					return stub.receiveBatch(messages, queue);
				},
			};
		},
	};
	return { env: { ...env, ORG } as unknown as Env, calls };
}

async function deliver(bodies: unknown[], attempts = 1) {
	const counted = countingEnv();
	const batch = createMessageBatch(
		"roost-org-intake",
		bodies.map((body, i) => ({ id: `q-${i}`, timestamp: new Date(), attempts, body })),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, counted.env);
	await waitOnExecutionContext(ctx);
	return { result: await getQueueResult(batch, ctx), calls: counted.calls };
}

/** Sessions with a recorded visit start in the org, one entry per `org.visit_started` event. */
async function startedSessions(org: string): Promise<string[]> {
	const page = (await orgStub(org).readEvents({ type: "org.visit_started", limit: 1000 })) as EventPage;
	return page.events.map((e) => (e.data as { session: string }).session);
}

describe("the org intake", () => {
	it("hands each org a batch's visit starts in one RPC, records each once when redelivered, and never across orgs", async () => {
		const [a, b] = [uniqueId("intake-a"), uniqueId("intake-b")];
		await Promise.all([keyFor(a), keyFor(b)]);
		const sessionsA = Array.from({ length: 6 }, (_, i) => `sa${i}`);
		const sessionsB = Array.from({ length: 4 }, (_, i) => `sb${i}`);
		// Interleaved, as sessions of both orgs send them.
		const bodies: ActorMessage[] = [];
		for (let i = 0; i < 6; i++) {
			bodies.push(visitStart(a, sessionsA[i] as string));
			if (i < 4) bodies.push(visitStart(b, sessionsB[i] as string));
		}
		const first = await deliver(bodies);
		expect(first.result.explicitAcks.sort()).toEqual(bodies.map((_, i) => `q-${i}`).sort());
		expect(first.result.retryMessages).toEqual([]);
		// Ten messages, two RPCs: one per org, each with that org's share.
		expect(first.calls).toHaveLength(2);
		expect(first.calls.length).toBeLessThan(bodies.length);
		expect(first.calls).toEqual(
			expect.arrayContaining([
				{ org: actorName(a, a), messages: 6 },
				{ org: actorName(b, b), messages: 4 },
			]),
		);
		expect((await startedSessions(a)).sort()).toEqual(sessionsA);
		expect((await startedSessions(b)).sort()).toEqual(sessionsB);

		// The queue delivers at least once: the whole batch again, acked, records nothing new.
		const again = await deliver(bodies, 2);
		expect(again.result.explicitAcks).toHaveLength(bodies.length);
		expect(again.calls).toHaveLength(2);
		expect((await startedSessions(a)).sort()).toEqual(sessionsA);
		expect((await startedSessions(b)).sort()).toEqual(sessionsB);
		const versions = [(await orgStub(a).describe()).version, (await orgStub(b).describe()).version];
		await deliver([...bodies].reverse(), 3);
		expect([(await orgStub(a).describe()).version, (await orgStub(b).describe()).version]).toEqual(versions);

		const stateA = (await orgStub(a).readState()) as { ok: true; value: { state: { activeSessions: object } } };
		expect(Object.keys(stateA.value.state.activeSessions).sort()).toEqual(sessionsA);
		for (const org of [a, b]) expect((await orgStub(org).verifyChain()).ok).toBe(true);
	});

	it("a message about another org's session, or not an envelope, acts on no org: parked in the sender's org, or dropped", async () => {
		const [a, b] = [uniqueId("intake-a"), uniqueId("intake-b")];
		await Promise.all([keyFor(a), keyFor(b)]);
		const forged = visitStart(a, "sa-forger", "sb-victim");
		const { result, calls } = await deliver([forged, "not an envelope", { id: "x", from: { kind: "session" } }]);
		// Nothing is retried forever: each is acked, the forged one after the org kept it as parked work.
		expect(result.explicitAcks.sort()).toEqual(["q-0", "q-1", "q-2"]);
		expect(calls).toEqual([{ org: actorName(a, a), messages: 1 }]);
		expect(await startedSessions(a)).toEqual([]);
		expect(await startedSessions(b)).toEqual([]);
		const parked = await orgStub(a).parkedWork({ limit: 100 });
		expect(parked.items).toEqual([
			expect.objectContaining({
				work: "dead_letter",
				name: forged.id,
				lastError: expect.stringContaining("about another session"),
			}),
		]);
		// An operator's retry sends it to the intake again (src/actors/kernel/parking.ts).
		const events = (await orgStub(a).readEvents({ limit: 1000 })) as EventPage;
		const record = events.events.find((e) => e.type === "kernel.work_parked");
		expect(record?.data).toMatchObject({ target: "queue:ORG_INTAKE_QUEUE", messageType: VISIT_STARTED_MESSAGE, message: forged });
		expect((await orgStub(b).parkedWork({ limit: 100 })).items).toEqual([]);
	});

	it("a visit start its org cannot take now (the org is being deleted) is retried, not acked or dropped", async () => {
		const org = uniqueId("intake-del");
		await keyFor(org);
		const res = await call(`/v1/orgs/${org}`, { method: "DELETE", headers: adminAuth });
		expect(res.status).toBe(202);
		await res.body?.cancel();
		const { result, calls } = await deliver([visitStart(org, "s-late")]);
		expect(calls).toEqual([{ org: actorName(org, org), messages: 1 }]);
		expect(result.explicitAcks).toEqual([]);
		// Retried by the queue with backoff; after max_retries it lands in the dead-letter queue where deployed.
		expect(result.retryMessages).toEqual([expect.objectContaining({ msgId: "q-0" })]);
		expect(await startedSessions(org)).toEqual([]);
	});

	it("visit starts sent over HTTP by sessions of two orgs reach each org through the queue, once each", async () => {
		const [a, b] = [uniqueId("intake-a"), uniqueId("intake-b")];
		const keys = { [a]: await keyFor(a), [b]: await keyFor(b) };
		const sessions = { [a]: ["h1", "h2", "h3"], [b]: ["h4", "h5"] };
		await Promise.all(
			Object.entries(sessions).flatMap(([org, ids]) =>
				ids.map(async (id) => {
					const res = await call(`/v1/orgs/${org}/sessions/${id}/events`, {
						method: "POST",
						headers: { authorization: `Bearer ${keys[org]}` },
						body: JSON.stringify({ events: [{ ...pageView("/a"), ts: Date.now() }] }),
					});
					expect(res.status).toBe(202);
				}),
			),
		);
		// The sessions' outboxes send on their alarms; the queue delivers within its batch timeout (1 s here).
		const deadline = Date.now() + 20_000;
		for (const org of [a, b]) {
			while ((await startedSessions(org)).length < (sessions[org] as string[]).length && Date.now() < deadline)
				await new Promise((resolve) => setTimeout(resolve, 100));
			expect((await startedSessions(org)).sort()).toEqual(sessions[org]);
		}
	});
});
