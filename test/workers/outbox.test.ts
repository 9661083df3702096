import { abortAllDurableObjects, createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { OutboxMessage } from "../../src/actors/outbox.ts";
import type { Interaction } from "../../src/events/interaction.ts";
import { archiveKey, consumeInteractions } from "../../src/queue.ts";
import { probeStub } from "./support/probe-worker.ts";

const T0 = Date.UTC(2031, 2, 1, 12, 0, 0);

const interaction = (id: string): Interaction => ({
	id,
	source: "web",
	actor: { kind: "session", id: "s-1" },
	startedAt: T0 - 60_000,
	endedAt: T0,
	summary: { pageViews: 3 },
});
const toQueue = (id: string): OutboxMessage => ({
	id: `${id}>queue`,
	target: { queue: "INTERACTIONS_QUEUE" },
	type: "interaction",
	data: { org: "acme", interaction: interaction(id) },
});

async function archived(key: string): Promise<unknown> {
	for (let i = 0; i < 100; i++) {
		const object = await env.ARCHIVE.get(key);
		if (object) return object.json();
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	return null;
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
});
afterEach(() => {
	vi.useRealTimers();
});

describe("outbox", () => {
	it("a message recorded before a restart is still pending after it, and is delivered by the next alarm", async () => {
		const name = crypto.randomUUID();
		const id = `probe:${name}`;
		await probeStub(env, name).emit([toQueue(id)]);
		expect((await probeStub(env, name).kernel()).outbox.pending).toBe(1);

		await abortAllDurableObjects();
		const stub = probeStub(env, name);
		expect((await stub.kernel()).outbox.pending).toBe(1);
		await runDurableObjectAlarm(stub);
		expect((await stub.kernel()).outbox.pending).toBe(0);
		vi.useRealTimers();
		expect(await archived(archiveKey("acme", id))).toMatchObject({ id, source: "web" });
	});

	it("a message its receiver refuses stays pending and is retried later, not dropped", async () => {
		const stub = probeStub(env, crypto.randomUUID());
		await stub.emit([{ id: "nonsense-1", target: { actor: { kind: "org", org: "acme", id: "acme" } }, type: "no.such.message", data: {} }]);
		await runDurableObjectAlarm(stub);
		const { outbox, timers } = await stub.kernel();
		expect(timers).toEqual([]);
		expect(outbox.pending).toBe(1);
		expect(outbox.nextAttemptAt).toBeGreaterThan(T0);
	});

	it("an alarm that finds the outbox empty does not stop later messages from going out", async () => {
		const stub = probeStub(env, crypto.randomUUID());
		await stub.setTimers([{ name: "t", spec: { once: T0 } }]);
		await runDurableObjectAlarm(stub); // drains an empty outbox
		await stub.emit([toQueue(`later-${crypto.randomUUID()}`)]);
		await runDurableObjectAlarm(stub);
		expect((await stub.kernel()).outbox.pending).toBe(0);
	});

	it("the same message id recorded twice is kept once", async () => {
		const stub = probeStub(env, crypto.randomUUID());
		await stub.emit([toQueue("twice")]);
		await stub.emit([toQueue("twice")]);
		expect((await stub.kernel()).outbox.pending).toBe(1);
	});
});

describe("interactions queue consumer", () => {
	it("archives each interaction under its id, and a redelivery overwrites the same object", async () => {
		vi.useRealTimers();
		const body = {
			id: "m1",
			from: { kind: "session", org: "acme", id: "s-9" },
			type: "interaction",
			meta: {},
			data: { org: "acme", interaction: interaction("i-9") },
		};
		const batch = createMessageBatch("roost-interactions", [
			{ id: "q1", timestamp: new Date(), attempts: 1, body },
			{ id: "q2", timestamp: new Date(), attempts: 2, body },
		]);
		const ctx = createExecutionContext();
		await consumeInteractions(batch, env);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks.sort()).toEqual(["q1", "q2"]);
		expect(await archived(archiveKey("acme", "i-9"))).toMatchObject({ id: "i-9" });
		const listed = await env.ARCHIVE.list({ prefix: "interactions/acme/i-9" });
		expect(listed.objects).toHaveLength(1);
	});

	it("archives a dead letter an operator retried (the org's outbox wraps the message that died), and only for that org", async () => {
		vi.useRealTimers();
		const died = (org: string, id: string) => ({
			id: `m-${id}`,
			from: { kind: "session", org, id: "s-9" },
			type: "interaction",
			meta: {},
			data: { org, interaction: interaction(id) },
		});
		const redrive = (seq: number, inner: unknown) => ({
			id: `~redrive:${seq}`,
			from: { kind: "org", org: "acme", id: "acme" },
			type: "interaction",
			meta: {},
			data: inner,
		});
		const batch = createMessageBatch("roost-interactions", [
			{ id: "r1", timestamp: new Date(), attempts: 1, body: redrive(7, died("acme", "i-redriven")) },
			{ id: "r2", timestamp: new Date(), attempts: 1, body: redrive(8, died("globex", "i-crossed")) },
		]);
		const ctx = createExecutionContext();
		await consumeInteractions(batch, env);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks.sort()).toEqual(["r1", "r2"]);
		expect(result.retryMessages).toEqual([]);
		expect(await archived(archiveKey("acme", "i-redriven"))).toMatchObject({ id: "i-redriven" });
		// A retry that names another org's message is dropped, never archived under either org.
		expect((await env.ARCHIVE.list({ prefix: "interactions/globex/i-crossed" })).objects).toHaveLength(0);
		expect((await env.ARCHIVE.list({ prefix: "interactions/acme/i-crossed" })).objects).toHaveLength(0);
	});

	it("drops a malformed message instead of retrying it forever", async () => {
		vi.useRealTimers();
		const batch = createMessageBatch("roost-interactions", [{ id: "bad", timestamp: new Date(), attempts: 1, body: { nope: true } }]);
		const ctx = createExecutionContext();
		await consumeInteractions(batch, env);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks).toEqual(["bad"]);
		expect(result.retryMessages).toEqual([]);
	});
});
