/**
 * Retries and concurrency, as clients cause them: submissions duplicated, reordered, retried with the same client
 * action id and sent at once over HTTP and the socket land exactly once; writers racing with expectedVersion get
 * conflicts and retry, and no update is lost.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import { allEvents, BASE, type ClientEvent, call, createKey, createOrg, getJson, postBatch, uniqueId } from "./helpers.ts";
import { expectIntact, figure, LONG, seed } from "./reliability-support.ts";

/** A small seeded PRNG (mulberry32), so a failing plan can be replayed with ROOST_SEED. */
function prng(s: number): () => number {
	let a = s >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function event(i: number, prefix: string): ClientEvent {
	const ts = 1_700_000_000_000 + i;
	return i % 3 === 0
		? { id: `${prefix}-${i}`, type: "session.clicked", ts, data: { target: `a#x${i % 11}` } }
		: { id: `${prefix}-${i}`, type: "session.page_viewed", ts, data: { url: `https://shop.example/${i % 17}`, path: `/${i % 17}` } };
}

type Ack = { accepted: number; duplicates: number; version: number };

/**
 * A session socket used to submit batches: answers are matched to their batch by client action id. It sets no
 * timers (tens of thousands of event frames arrive here), and it ignores the event frames themselves.
 */
class BatchSocket {
	readonly #waiting = new Map<string, (frame: Record<string, unknown>) => void>();

	private constructor(readonly socket: WebSocket) {
		socket.addEventListener("message", (event) => {
			const frame = JSON.parse(event.data as string) as Record<string, unknown>;
			if (frame.t !== "ack" && frame.t !== "error") return;
			const id = frame.clientActionId as string | undefined;
			const waiter = id === undefined ? undefined : this.#waiting.get(id);
			if (!waiter || id === undefined) return;
			this.#waiting.delete(id);
			waiter(frame);
		});
	}

	static async open(path: string, key: string): Promise<BatchSocket> {
		const res = await exports.default.fetch(`${BASE}${path}/ws?after=0&token=${encodeURIComponent(key)}`, {
			headers: { upgrade: "websocket" },
		});
		const socket = res.webSocket;
		if (!socket) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
		socket.accept();
		return new BatchSocket(socket);
	}

	/** Sends a batch and resolves with its ack or error frame. */
	submit(batch: Record<string, unknown> & { clientActionId: string }): Promise<Record<string, unknown>> {
		return new Promise((resolve) => {
			this.#waiting.set(batch.clientActionId, resolve);
			this.socket.send(JSON.stringify({ t: "events", ...batch }));
		});
	}

	close(): void {
		this.socket.close(1000, "done");
	}
}

/** Sends a batch over a socket and waits for its ack. */
async function overSocket(sub: BatchSocket, events: ClientEvent[], clientActionId: string): Promise<Ack> {
	const frame = await sub.submit({ events, clientActionId });
	expect(frame.t, JSON.stringify(frame)).toBe("ack");
	return frame as unknown as Ack;
}

describe("exactly once under duplicated, reordered and retried submissions", () => {
	const submissions = LONG ? 100_000 : 10_000;
	it(`${submissions} submissions of a pool of events, over HTTP and the socket, land each event exactly once`, async () => {
		const s = seed();
		const random = prng(s);
		const { org, key } = await createOrg("Exactly once");
		const session = uniqueId("once");
		const path = `/v1/orgs/${org}/sessions/${session}`;
		const pool = Array.from({ length: submissions / 5 }, (_, i) => event(i, `once${s}`));
		// Every event at least once, the rest random repeats, all shuffled.
		const sent = [
			...pool,
			...Array.from({ length: submissions - pool.length }, () => pool[Math.floor(random() * pool.length)] as ClientEvent),
		];
		for (let i = sent.length - 1; i > 0; i--) {
			const j = Math.floor(random() * (i + 1));
			[sent[i], sent[j]] = [sent[j] as ClientEvent, sent[i] as ClientEvent];
		}
		const batches: { events: ClientEvent[]; clientActionId: string; via: "http" | "socket" }[] = [];
		for (let at = 0; at < sent.length; ) {
			const size = 1 + Math.floor(random() * 200);
			batches.push({
				events: sent.slice(at, at + size),
				clientActionId: `b${batches.length}-${s}`,
				via: random() < 0.35 ? "socket" : "http",
			});
			at += size;
		}
		const subs = await Promise.all([0, 1, 2].map(() => BatchSocket.open(path, key)));
		const first = new Map<string, Ack>();
		let retries = 0;
		const send = async (batch: (typeof batches)[number], socket: BatchSocket): Promise<Ack> => {
			if (batch.via === "socket") return overSocket(socket, batch.events, batch.clientActionId);
			const res = await postBatch(
				org,
				session,
				{ events: batch.events, clientActionId: batch.clientActionId },
				{ authorization: `Bearer ${key}` },
			);
			expect(res.status, await res.clone().text()).toBe(202);
			return res.json<Ack>();
		};
		// Up to six batches in flight at once (their order at the actor is up to the runtime), and about one batch in
		// eight retried as a client does after a lost answer: the same batch with the same client action id.
		for (let at = 0; at < batches.length; ) {
			const wave = batches.slice(at, at + 1 + Math.floor(random() * 6));
			at += wave.length;
			const acks = await Promise.all(wave.map((b, i) => send(b, subs[i % subs.length] as BatchSocket)));
			wave.forEach((b, i) => {
				first.set(b.clientActionId, acks[i] as Ack);
			});
			for (const b of wave.filter(() => random() < 0.125)) {
				retries++;
				expect(await send(b, subs[0] as BatchSocket)).toEqual(first.get(b.clientActionId));
			}
		}
		for (const sub of subs) sub.close();

		const acks = [...first.values()];
		const accepted = acks.reduce((n, a) => n + a.accepted, 0);
		const duplicates = acks.reduce((n, a) => n + a.duplicates, 0);
		const stored = (await allEvents(path, { headers: { authorization: `Bearer ${key}` } })).filter((e) => e.type !== "session.started");
		const ids = stored.map((e) => e.id);
		const tally = {
			seed: s,
			submissions: sent.length,
			distinct: pool.length,
			batches: batches.length,
			socketBatches: batches.filter((b) => b.via === "socket").length,
			retries,
			accepted,
			duplicates,
			stored: ids.length,
			storedTwice: ids.length - new Set(ids).size,
			lost: pool.filter((e) => !ids.includes(e.id)).length,
		};
		figure("exactly once", tally);
		expect(tally.storedTwice).toBe(0);
		expect(tally.lost).toBe(0);
		expect(new Set(ids)).toEqual(new Set(pool.map((e) => e.id)));
		expect(accepted).toBe(pool.length);
		expect(accepted + duplicates).toBe(sent.length);
		await expectIntact(env.SESSION.getByName(actorName(org, session)));
	}, 600_000);
});

describe("concurrent writers with expectedVersion", () => {
	const writers = LONG ? 300 : 100;
	it(`${writers} writers racing on one session get conflicts and retry, and every update lands once`, async () => {
		const random = prng(seed());
		const { org, key } = await createOrg("Racing writers");
		const session = uniqueId("race");
		const path = `/v1/orgs/${org}/sessions/${session}`;
		const auth = { authorization: `Bearer ${key}` };
		// One key holds at most 20 sockets on an actor (docs/api.md, "WebSocket limits"): the socket writers share a few keys.
		const socketKeys = await Promise.all(Array.from({ length: Math.ceil(writers / 25) }, () => createKey(org, key, "socket writer")));
		const versionNow = async () => (await getJson<{ version: number }>(`${path}/state`, { headers: auth })).version;
		const tally = { writers, conflicts: 0, attempts: 0, serverErrors: 0, socketWriters: 0 };
		const wins: number[] = [];
		const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 8)));

		const httpWriter = async (i: number) => {
			for (;;) {
				const expectedVersion = await versionNow();
				tally.attempts++;
				const res = await call(`${path}/events`, {
					method: "POST",
					headers: auth,
					body: JSON.stringify({ events: [event(i, "w")], expectedVersion }),
				});
				if (res.status === 202) return wins.push((await res.json<Ack>()).version);
				if (res.status >= 500) tally.serverErrors++;
				expect(res.status).toBe(409);
				const body = await res.json<{ currentVersion: number }>();
				expect(body.currentVersion).toBeGreaterThan(expectedVersion);
				tally.conflicts++;
				await pause();
			}
		};
		const socketWriter = async (i: number) => {
			tally.socketWriters++;
			const sub = await BatchSocket.open(path, socketKeys[i % socketKeys.length]?.key ?? key);
			let expectedVersion = await versionNow();
			for (let attempt = 0; ; attempt++) {
				tally.attempts++;
				const frame = await sub.submit({ events: [event(i, "w")], expectedVersion, clientActionId: `w${i}-${attempt}` });
				if (frame.t === "ack") {
					wins.push(frame.version as number);
					break;
				}
				expect(frame).toMatchObject({ t: "error", status: 409 });
				tally.conflicts++;
				// The error frame says where the log is now: the next try expects that.
				expectedVersion = frame.currentVersion as number;
				await pause();
			}
			sub.close();
		};
		await Promise.all(Array.from({ length: writers }, (_, i) => (i % 10 < 7 ? httpWriter(i) : socketWriter(i))));

		const events = (await allEvents(path, { headers: auth })).filter((e) => e.type !== "session.started");
		figure("concurrent writers", { ...tally, landed: events.length, distinctVersions: new Set(wins).size });
		expect(tally.serverErrors).toBe(0);
		expect(tally.conflicts).toBeGreaterThan(0);
		expect(events.map((e) => e.id).sort()).toEqual(Array.from({ length: writers }, (_, i) => `w-${i}`).sort());
		// Each success saw its own version: no two writers ever both won the same expectedVersion.
		expect(new Set(wins).size).toBe(writers);
		await expectIntact(env.SESSION.getByName(actorName(org, session)));
	}, 600_000);
});
