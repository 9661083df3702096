/**
 * Structured logs (docs/operations.md): every line the Worker and its actors write while serving requests,
 * failing deliveries and timers, and parking work is one JSON object; request lines carry the request id, the
 * correlation id, the org, the key id, the route pattern, status and ms, and no line carries the API key.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { armFault, disarmFault } from "../../src/actors/faults.ts";
import { actorName } from "../../src/core/identity.ts";
import { call, keyFor, pageView } from "./helpers.ts";

const ORG = "acme-logs";
const T0 = Date.UTC(2036, 5, 1, 8, 0);
let lines: string[] = [];
let spies: MockInstance[] = [];

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
	vi.setSystemTime(T0);
	lines = [];
	spies = (["log", "info", "warn", "error", "debug"] as const).map((method) =>
		vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
			lines.push(args.map(String).join(" "));
		}),
	);
});
afterEach(() => {
	disarmFault();
	for (const spy of spies) spy.mockRestore();
	vi.useRealTimers();
});

describe("the Worker's log lines", () => {
	it("are each one JSON object, with a request line per request and a line per failure naming the message", async () => {
		const key = await keyFor(ORG);
		const session = "logs-s1";
		const post = (body: unknown) =>
			call(`/v1/orgs/${ORG}/sessions/${session}/events`, {
				method: "POST",
				headers: { authorization: `Bearer ${key}`, "x-correlation-id": "corr-logs-1" },
				body: JSON.stringify(body),
			});
		expect((await post({ events: [{ ...pageView("/a"), ts: T0 }] })).status).toBe(202);
		expect((await post({ events: [{ id: "x", type: "session.page_viewed", ts: "soon", data: {} }] })).status).toBe(400);
		expect((await call(`/v1/orgs/${ORG}/nowhere`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
		expect((await call(`/v1/orgs/${ORG}/parked`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
		// A failed delivery, 20 of them (parked), and the report of it.
		const stub = env.SESSION.getByName(actorName(ORG, session));
		armFault({ point: "outbox.before-delivery", object: actorName(ORG, session), times: 20 });
		for (let i = 0; i < 20; i++) {
			const { outbox } = await stub.kernelStatus();
			vi.setSystemTime(outbox.nextAttemptAt ?? Date.now());
			await post({ events: [{ ...pageView(`/b/${i}`), ts: Date.now() }] });
			await runDurableObjectAlarm(stub);
		}
		await runDurableObjectAlarm(stub);

		expect(lines.length).toBeGreaterThan(40);
		const parsed = lines.map((line) => {
			try {
				return JSON.parse(line) as Record<string, unknown>;
			} catch {
				throw new Error(`not a JSON log line: ${line}`);
			}
		});
		for (const entry of parsed)
			expect(entry).toMatchObject({ level: expect.stringMatching(/^(info|warn|error)$/), msg: expect.any(String) });
		expect(lines.some((line) => line.includes(key))).toBe(false);

		const requests = parsed.filter((entry) => entry.msg === "request");
		expect(requests).toContainEqual(
			expect.objectContaining({
				route: "/v1/orgs/:org/sessions/:id/events",
				status: 202,
				org: ORG,
				keyId: expect.any(String),
				correlationId: "corr-logs-1",
				requestId: expect.any(String),
				ms: expect.any(Number),
			}),
		);
		expect(requests).toContainEqual(expect.objectContaining({ route: "/v1/orgs/:org/sessions/:id/events", status: 400 }));
		expect(requests).toContainEqual(expect.objectContaining({ status: 404 }));
		expect(requests).toContainEqual(expect.objectContaining({ route: "/v1/orgs/:org/parked", status: 401 }));
		const failures = parsed.filter((entry) => entry.msg === "outbox message not delivered");
		expect(failures).toHaveLength(19);
		expect(failures[0]).toMatchObject({ actorKind: "session", actorId: session, messageId: expect.any(String), attempts: 1 });
		expect(parsed).toContainEqual(expect.objectContaining({ msg: "work parked", level: "error", work: "outbox", attempts: 20 }));
	});
});
