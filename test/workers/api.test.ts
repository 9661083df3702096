import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminAuth, allEvents, BASE, call, expectProblem, keyFor, pageView, postBatch, uniqueId } from "./helpers.ts";

describe("bad input", () => {
	it("a body without events is a 400 naming the field", async () => {
		const body = await expectProblem(await postBatch("acme", uniqueId("s"), {}), 400);
		expect(body.errors?.map((e) => e.path)).toEqual(["events"]);
	});

	it("wrong types inside events name each field", async () => {
		const res = await postBatch("acme", uniqueId("s"), { events: [{ id: "ok-1", type: "session.page_viewed", ts: "soon", data: [] }] });
		const body = await expectProblem(res, 400);
		expect(body.errors?.map((e) => e.path).sort()).toEqual(["events[0].data", "events[0].ts"]);
	});

	it("an empty batch and a batch over 500 events are refused", async () => {
		expect((await expectProblem(await postBatch("acme", uniqueId("s"), { events: [] }), 400)).errors?.[0]?.path).toBe("events");
		const many = Array.from({ length: 501 }, (_, i) => ({ id: `e${i}`, type: "session.clicked", ts: i, data: { target: "a" } }));
		expect((await expectProblem(await postBatch("acme", uniqueId("s"), { events: many }), 400)).errors?.[0]?.path).toBe("events");
	});

	it("malformed JSON is a 400 problem", async () => {
		await expectProblem(await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/events`, { method: "POST", body: "{nope" }), 400);
	});

	it("an id that is not a valid id is a 400 naming the path parameter", async () => {
		const res = await call("/v1/orgs/acme/sessions/bad%20id/events", {
			method: "POST",
			body: JSON.stringify({ events: [pageView("/a")] }),
		});
		expect((await expectProblem(res, 400)).errors?.[0]?.path).toBe("path.id");
	});

	it("bad query parameters name the parameter", async () => {
		const res = await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/events?after=-1&limit=5000`);
		expect((await expectProblem(res, 400)).errors?.map((e) => e.path).sort()).toEqual(["query.after", "query.limit"]);
	});

	it("a body over the size limit is a 413", async () => {
		const huge = JSON.stringify({ events: [{ ...pageView("/a"), data: { url: "x".repeat(1_100_000), path: "/a" } }] });
		await expectProblem(await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/events`, { method: "POST", body: huge }), 413);
	});

	it("an unknown route is a 404 problem, and a plain GET on a socket route is a 426", async () => {
		await expectProblem(await call("/v1/nothing-here"), 404);
		await expectProblem(await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/ws`), 426);
	});
});

describe("security headers", () => {
	it("every answer of the Worker (JSON, problems, sockets) has nosniff, no Referer and a CSP that lets nothing run or frame it", async () => {
		const socket = await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/ws`, { headers: { upgrade: "websocket" } });
		expect(socket.status).toBe(101);
		socket.webSocket?.accept();
		socket.webSocket?.close(1000, "done");
		for (const res of [await call("/openapi.json"), await call("/v1/nothing-here"), await call("/v1/orgs/acme/sessions"), socket]) {
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			expect(res.headers.get("referrer-policy")).toBe("no-referrer");
			expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
		}
	});
});

describe("credentials", () => {
	it("no token, a wrong token and the admin token are 401 on an org route", async () => {
		await expectProblem(await exports.default.fetch(`${BASE}/v1/orgs/acme/sessions/s1/state`), 401);
		await expectProblem(await call("/v1/orgs/acme/sessions/s1/state", { headers: { authorization: "Bearer wrong" } }), 401);
		await expectProblem(await call("/v1/orgs/acme/sessions/s1/state", { headers: adminAuth }), 401);
	});

	it("a key of one org on another org's path is a 404", async () => {
		const key = await keyFor("acme");
		await expectProblem(await call("/v1/orgs/globex/sessions/s1/state", { headers: { authorization: `Bearer ${key}` } }), 404);
	});

	it("a body with the wrong content type is a 415 problem", async () => {
		const res = await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/events`, {
			method: "POST",
			body: JSON.stringify({ events: [pageView("/a")] }),
			headers: { "content-type": "text/plain" },
		});
		await expectProblem(res, 415);
	});
});

describe("request ids", () => {
	it("every response carries a server-made x-request-id; a caller's X-Request-Id is kept apart as meta.clientRequestId, never as requestId or correlationId", async () => {
		const session = uniqueId("s");
		const ok = await postBatch("acme", session, { events: [pageView("/a")] }, { "x-request-id": "caller-42" });
		expect(ok.status).toBe(202);
		const requestId = ok.headers.get("x-request-id");
		expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
		const events = await allEvents(`/v1/orgs/acme/sessions/${session}`);
		for (const event of events)
			expect(event.meta).toEqual({
				requestId,
				correlationId: requestId,
				clientRequestId: "caller-42",
				principal: { kind: "key", id: expect.stringMatching(/^key_/) },
				receivedAt: expect.any(Number),
			});
		// An implausible client id is not stored at all.
		const odd = uniqueId("s");
		await postBatch("acme", odd, { events: [pageView("/b")] }, { "x-request-id": "a b<script>" });
		expect((await allEvents(`/v1/orgs/acme/sessions/${odd}`))[1]?.meta).not.toHaveProperty("clientRequestId");
		const generated = await call(`/v1/orgs/acme/sessions/${uniqueId("s")}/state`);
		expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
	});
});

describe("openapi", () => {
	it("the document lists the org, key and session routes and the actor reads", async () => {
		const res = await exports.default.fetch(`${BASE}/openapi.json`);
		expect(res.status).toBe(200);
		const doc = await res.json<{ paths: Record<string, unknown> }>();
		expect(Object.keys(doc.paths)).toEqual(
			expect.arrayContaining([
				"/v1/orgs",
				"/v1/orgs/{org}",
				"/v1/orgs/{org}/keys",
				"/v1/orgs/{org}/keys/{keyId}",
				"/v1/orgs/{org}/sessions/{id}/events",
				"/v1/orgs/{org}/{kind}/{id}/state",
				"/v1/orgs/{org}/verify",
			]),
		);
	});
});
