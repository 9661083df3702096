/**
 * Live mode against the real Worker: the SDK's partysocket connects through `exports.default.fetch`
 * (a WebSocket upgrade on the session's /ws route), so frames go to and from the real session actor.
 * The adapter below only gives partysocket a WebSocket-shaped object over that connection, and can cut
 * it (socket down) or lose acks on the way back.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	createSession,
	type EventEnvelope,
	type FetchLike,
	type SdkError,
	type SentBatch,
	type SessionClient,
	type SessionOptions,
	type WebSocketConstructor,
} from "../../src/sdk/index.ts";
import { allEvents, BASE, createOrg, uniqueId } from "./helpers.ts";

const realServer: FetchLike = (url, init) => exports.default.fetch(url, init);

/** The sockets of one test: can be cut, and can lose the acks the server sends. */
class Wire {
	down = false;
	/** How many upcoming ack frames to lose. */
	loseAcks = 0;
	opened = 0;
	readonly open = new Set<WireSocket>();

	cut(): void {
		this.down = true;
		for (const socket of this.open) socket.drop();
	}
}

/** A WebSocket-shaped object over a real upgrade through `exports.default.fetch`. */
class WireSocket extends EventTarget {
	static readonly CONNECTING = 0;
	static readonly OPEN = 1;
	static readonly CLOSING = 2;
	static readonly CLOSED = 3;
	readyState = WireSocket.CONNECTING;
	binaryType = "blob";
	bufferedAmount = 0;
	extensions = "";
	protocol = "";
	#socket: WebSocket | undefined;

	constructor(
		readonly url: string,
		readonly wire: Wire,
	) {
		super();
		void this.#connect();
	}

	async #connect(): Promise<void> {
		if (this.wire.down) return this.#fail();
		const res = await exports.default.fetch(this.url.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } });
		const socket = res.webSocket;
		if (!socket || this.wire.down) return this.#fail();
		socket.accept();
		this.#socket = socket;
		socket.addEventListener("message", (event) => {
			if (this.readyState !== WireSocket.OPEN) return;
			const data = event.data as string;
			if (this.wire.loseAcks > 0 && JSON.parse(data).t === "ack") {
				this.wire.loseAcks--;
				return;
			}
			this.dispatchEvent(new MessageEvent("message", { data }));
		});
		socket.addEventListener("close", (event) => this.#closed(event.code, event.reason));
		this.readyState = WireSocket.OPEN;
		this.wire.opened++;
		this.wire.open.add(this);
		this.dispatchEvent(new Event("open"));
	}

	send(data: string): void {
		if (this.readyState !== WireSocket.OPEN) throw new Error("not open");
		this.#socket?.send(data);
	}

	close(code = 1000, reason = ""): void {
		if (this.readyState === WireSocket.CLOSED) return;
		try {
			this.#socket?.close(code, reason);
		} catch {
			// Already closing.
		}
		this.#closed(code, reason);
	}

	/** The connection is lost (not closed by either side). */
	drop(): void {
		try {
			this.#socket?.close(1011, "dropped");
		} catch {
			// Already closing.
		}
		this.#closed(1006, "dropped");
	}

	#fail(): void {
		this.dispatchEvent(new Event("error"));
		this.#closed(1006, "unreachable");
	}

	#closed(code: number, reason: string): void {
		if (this.readyState === WireSocket.CLOSED) return;
		this.readyState = WireSocket.CLOSED;
		this.wire.open.delete(this);
		this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean: code === 1000 }));
	}
}

function socketsOn(wire: Wire): WebSocketConstructor {
	return class extends WireSocket {
		constructor(url: string) {
			super(url, wire);
		}
	} as unknown as WebSocketConstructor;
}

interface Harness {
	session: SessionClient;
	wire: Wire;
	sent: SentBatch[];
	errors: SdkError[];
	log(): ReturnType<typeof allEvents>;
	org: string;
	key: string;
	sessionId: string;
}

async function harness(options: Partial<SessionOptions> = {}): Promise<Harness> {
	const { org, key } = await createOrg("SDK live tests");
	const sessionId = uniqueId("s");
	const wire = new Wire();
	const session = createSession({
		endpoint: BASE,
		apiKey: key,
		orgId: org,
		sessionId,
		storage: "memory",
		live: true,
		fetch: realServer,
		WebSocket: socketsOn(wire),
		flushIntervalMs: 10,
		closeTimeoutMs: 300,
		retry: { minDelayMs: 10, maxDelayMs: 40 },
		...options,
	});
	const h: Harness = {
		session,
		wire,
		sent: [],
		errors: [],
		org,
		key,
		sessionId,
		log: () => allEvents(`/v1/orgs/${org}/sessions/${sessionId}`, { headers: { authorization: `Bearer ${key}` } }),
	};
	session.on("sent", (b) => h.sent.push(b));
	session.on("error", (e) => h.errors.push(e));
	return h;
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error("timed out waiting");
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

describe("SDK live mode against the real Worker", () => {
	it("sends batches on the session's socket and waits for their acks", async () => {
		const h = await harness();
		await until(() => h.wire.opened === 1);
		const ids = [h.session.page("https://shop.example/"), h.session.track("session.clicked", { target: "a#home" })];
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(h.sent).toEqual([expect.objectContaining({ transport: "socket", accepted: 2, duplicates: 0, eventIds: ids })]);
		const log = await h.log();
		expect(log.slice(1).map((e) => e.id)).toEqual(ids);
		expect(log[1]?.meta.requestId).toMatch(/^ws:/);
		await h.session.close();
	});

	it("with an ingest key, batches go on the send-only socket and are acked, and nothing is pushed back", async () => {
		const { org, key } = await createOrg("SDK ingest key");
		const made = await exports.default.fetch(`${BASE}/v1/orgs/${org}/keys`, {
			method: "POST",
			headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
			body: JSON.stringify({ label: "website", role: "ingest" }),
		});
		const ingestKey = (await made.json<{ apiKey: string }>()).apiKey;
		const h = await harness({ apiKey: ingestKey, orgId: org });
		const received: EventEnvelope[] = [];
		h.session.subscribe((event) => received.push(event));
		await until(() => h.wire.opened === 1);
		const ids = [h.session.page("https://shop.example/"), h.session.track("add_to_cart", { sku: "S-1" })];
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(h.sent).toEqual([expect.objectContaining({ transport: "socket", accepted: 2, duplicates: 0, eventIds: ids })]);
		const log = await allEvents(`/v1/orgs/${org}/sessions/${h.sessionId}`, { headers: { authorization: `Bearer ${key}` } });
		expect(log.slice(1).map((e) => e.id)).toEqual(ids);
		expect(received).toEqual([]);
		expect(h.errors).toEqual([]);
		await h.session.close();
	});

	it("subscribers receive the session's events back, their own and other writers', once each in seq order", async () => {
		const h = await harness();
		const received: EventEnvelope[] = [];
		h.session.subscribe((event) => received.push(event));
		h.session.page("https://shop.example/");
		await h.session.flush();
		// Another writer: a second client on the same session, over HTTP.
		const other = createSession({
			endpoint: BASE,
			apiKey: h.key,
			orgId: h.org,
			sessionId: h.sessionId,
			storage: "memory",
			fetch: realServer,
		});
		other.track("from_elsewhere");
		await other.close();
		await until(() => received.length === 3);
		expect(received.map((e) => e.seq)).toEqual([1, 2, 3]);
		expect(received.map((e) => e.type)).toEqual(["session.started", "session.page_viewed", "session.custom"]);
		expect(received[0]?.actor).toEqual({ kind: "session", org: h.org, id: h.sessionId });
		await h.session.close();
	});

	it("falls back to HTTP while the socket is down, and resumes on the socket without repeating or missing pushed events", async () => {
		const h = await harness();
		const received: EventEnvelope[] = [];
		h.session.subscribe((event) => received.push(event));
		await until(() => h.wire.opened === 1);
		h.session.track("before");
		await h.session.flush();

		h.wire.cut();
		h.session.track("while_down");
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(h.sent.map((b) => b.transport)).toEqual(["socket", "http"]);

		h.wire.down = false;
		await until(() => h.wire.opened === 2, 10_000);
		h.session.track("after");
		await h.session.flush();
		expect(h.sent.map((b) => b.transport)).toEqual(["socket", "http", "socket"]);
		// The reconnect asked for the events after the last one seen: the one written while down arrives once.
		await until(() => received.length === 4);
		expect(received.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
		expect(received.slice(1).map((e) => (e.data as { name: string }).name)).toEqual(["before", "while_down", "after"]);
		await h.session.close();
	});

	it("a batch whose ack is lost is resent over HTTP after the ack timeout, reported as duplicates and stored once", async () => {
		const h = await harness({ ackTimeoutMs: 200 });
		await until(() => h.wire.opened === 1);
		h.wire.loseAcks = 1;
		const ids = [h.session.track("first"), h.session.track("second")];
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(h.sent).toEqual([expect.objectContaining({ transport: "http", accepted: 0, duplicates: 2, eventIds: ids })]);
		const log = await h.log();
		expect(log.slice(1).map((e) => e.id)).toEqual(ids);
		expect(h.session.stats).toMatchObject({ accepted: 0, duplicates: 2, buffered: 0 });
		await h.session.close();
	});

	it("a refused event on the socket is reported and dropped; the rest of the batch lands", async () => {
		const h = await harness();
		await until(() => h.wire.opened === 1);
		const good = h.session.track("ok");
		const bad = h.session.track("session.error", { message: "" });
		expect(await h.session.flush()).toEqual({ ok: true, pending: 0 });
		expect(h.errors).toEqual([expect.objectContaining({ kind: "rejected", status: 400, eventIds: [bad] })]);
		expect(h.sent).toEqual([expect.objectContaining({ transport: "socket", accepted: 1, eventIds: [good] })]);
		await h.session.close();
	});
});
