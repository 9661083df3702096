/**
 * Hostile WebSocket frames on every kind of actor's socket: garbage and malformed JSON, frames without a string `t`,
 * unknown types, `events` batches with wrong types, huge strings, deep nesting and unicode edge cases, oversized
 * and binary frames. Each is answered with an error frame (status 400), or an ack when it happens to be a valid
 * batch; the socket stays usable (ping gets pong), refusals store nothing, and the chain stays whole.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { hostileBody } from "./fuzz-inputs.ts";
import { createOrg, pageView, Subscriber } from "./helpers.ts";
import { figure, propertyOptions, runs } from "./reliability-support.ts";
import { seedSession, type Tenant } from "./routes.ts";

let t: Tenant;

beforeAll(async () => {
	const org = await createOrg("Socket fuzz");
	t = { ...org, session: await seedSession(org.org, org.key) };
});

const validBatch = () => ({ t: "events", events: [pageView("/socket-fuzz")], clientActionId: undefined });

/** Frames: text (possibly not JSON) or binary. */
const frames: fc.Arbitrary<{ frame: string | Uint8Array; how: string }> = fc.oneof(
	fc.string({ unit: "binary", maxLength: 200 }).map((frame) => ({ frame, how: "garbage text" })),
	fc.jsonValue({ maxDepth: 3 }).map((v) => ({ frame: JSON.stringify(v) ?? "null", how: "any JSON" })),
	fc
		.constantFrom(
			'{"t":1}',
			'{"t":null}',
			'{"t":""}',
			'{"t":"pong"}',
			'{"t":"hello"}',
			'{"t":"__proto__"}',
			'{"t":"constructor"}',
			'{"t":"toString"}',
			'{"t":"events"}',
			'{"t":"events","events":{}}',
			'{"t":"events","events":[]}',
			"[]",
			'"ping"',
			"{}",
		)
		.map((frame) => ({ frame, how: "wrong shape" })),
	hostileBody(validBatch()).map((body) => ({ frame: body.bytes ?? body.text ?? "", how: body.how })),
	fc.uint8Array({ maxLength: 64 }).map((frame) => ({ frame, how: "binary" })),
);

const sockets = [
	{
		kind: "session",
		path: () => `/v1/orgs/${t.org}/sessions/${t.session}`,
		stub: () => env.SESSION.getByName(actorName(t.org, t.session)),
	},
	{ kind: "chat", path: () => `/v1/orgs/${t.org}/chats/${t.session}`, stub: () => env.CHAT.getByName(actorName(t.org, t.session)) },
	{ kind: "camera", path: () => `/v1/orgs/${t.org}/cameras/${t.session}`, stub: () => env.CAMERA.getByName(actorName(t.org, t.session)) },
	{ kind: "org", path: () => `/v1/orgs/${t.org}`, stub: () => env.ORG.getByName(actorName(t.org, t.org)) },
];

const tally = { frames: 0, errors: 0, acks: 0, reopened: 0, storedByRefused: 0 };

describe.each(sockets)("the $kind socket under hostile frames", ({ kind, path, stub }) => {
	it("answers every frame with an error or an ack, stays usable, and stores nothing it refused", async () => {
		let sub = await Subscriber.open(path(), 0, t.key);
		let pings = 0;
		await fc.assert(
			fc.asyncProperty(frames, async ({ frame, how }) => {
				const before = ((await stub().describe()) as { version: number }).version;
				const seen = sub.frames.length;
				sub.socket.send(frame);
				// A ping after each frame: its pong marks the end of the frame's answer (frames are handled in order).
				const marker = ++pings;
				sub.send({ t: "ping", n: marker });
				let closed = false;
				try {
					await sub.until((s) => s.frames.slice(seen).filter((f) => f.t === "pong").length >= 1, 10_000);
				} catch (error) {
					// A frame over the platform's message size closes the socket: the client reconnects, the actor is unharmed.
					closed = true;
					const size = typeof frame === "string" ? frame.length : frame.byteLength;
					if (size < 1_000_000) throw error;
				}
				const answers = sub.frames.slice(seen).filter((f) => f.t !== "pong" && f.t !== "event");
				tally.frames++;
				if (closed) {
					tally.reopened++;
					sub = await Subscriber.open(path(), 0, t.key);
				} else {
					expect(answers.length, `${how}: ${JSON.stringify(answers)}`).toBe(1);
					const [answer] = answers;
					if (answer?.t === "ack") {
						tally.acks++;
						expect(kind).toBe("session");
					} else {
						tally.errors++;
						expect(answer, how).toMatchObject({ t: "error", status: 400 });
					}
				}
				const after = ((await stub().describe()) as { version: number }).version;
				if (!answers.some((a) => a.t === "ack")) {
					if (after !== before) tally.storedByRefused++;
					expect(after, `${how}: refused but stored`).toBe(before);
				}
			}),
			propertyOptions(runs(kind === "session" ? 80 : 25)),
		);
		sub.send({ t: "ping" });
		await sub.until((s) => s.frames.some((f) => f.t === "pong"));
		sub.close();
		expect(await stub().verifyChain()).toMatchObject({ ok: true });
		if (kind === "org") figure("socket fuzz", tally);
	}, 300_000);
});

describe("regressions found by the fuzzers", () => {
	it.each(["__proto__", "constructor", "hasOwnProperty"])('a frame with t "%s" gets an error frame, not an exception', async (type) => {
		const sub = await Subscriber.open(`/v1/orgs/${t.org}/sessions/${t.session}`, 0, t.key);
		sub.send({ t: type });
		await sub.until((s) => s.frames.some((f) => f.t === "error"));
		expect(sub.frames.find((f) => f.t === "error")).toMatchObject({ status: 400, detail: `unsupported message type "${type}"` });
		sub.close();
	});
});
