import { env, exports } from "cloudflare:workers";
import type { EventEnvelope } from "../../src/events/envelope.ts";

export const BASE = "http://roost.test";
export const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

export function call(path: string, init: RequestInit = {}): Promise<Response> {
	const headers = new Headers(init.headers);
	if (!headers.has("authorization")) headers.set("authorization", auth.authorization);
	if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
	return exports.default.fetch(`${BASE}${path}`, { ...init, headers });
}

export async function getJson<T = unknown>(path: string): Promise<T> {
	const res = await call(path);
	if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

export function uniqueId(prefix = "t"): string {
	return `${prefix}-${crypto.randomUUID()}`;
}

export interface ClientEvent {
	id: string;
	type: string;
	ts: number;
	v?: number;
	data: Record<string, unknown>;
}

let counter = 0;
export function pageView(path: string, ts = 1_800_000_000_000 + counter * 1000): ClientEvent {
	counter++;
	return { id: uniqueId("e"), type: "session.page_viewed", ts, data: { url: `https://shop.example${path}`, path } };
}

export function postBatch(org: string, session: string, body: Record<string, unknown>, headers: HeadersInit = {}): Promise<Response> {
	return call(`/v1/orgs/${org}/sessions/${session}/events`, { method: "POST", body: JSON.stringify(body), headers });
}

export async function allEvents(path: string): Promise<EventEnvelope[]> {
	const out: EventEnvelope[] = [];
	let after = 0;
	for (;;) {
		const page = await getJson<{ events: EventEnvelope[]; next: number | null }>(`${path}/events?after=${after}&limit=1000`);
		out.push(...page.events);
		if (page.next === null) return out;
		after = page.next;
	}
}

/** A WebSocket to an actor that records every frame it receives. */
export class Subscriber {
	readonly frames: Record<string, unknown>[] = [];
	#waiters: (() => void)[] = [];

	private constructor(readonly socket: WebSocket) {
		socket.addEventListener("message", (event) => {
			this.frames.push(JSON.parse(event.data as string));
			for (const wake of this.#waiters.splice(0)) wake();
		});
	}

	static async open(path: string, after = 0): Promise<Subscriber> {
		const res = await exports.default.fetch(`${BASE}${path}/ws?after=${after}&token=${env.ADMIN_TOKEN}`, {
			headers: { upgrade: "websocket" },
		});
		const socket = res.webSocket;
		if (!socket) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
		socket.accept();
		return new Subscriber(socket);
	}

	events(): EventEnvelope[] {
		return this.frames.filter((f) => f.t === "event").map((f) => f.event as EventEnvelope);
	}

	/** Waits until `predicate` holds over the frames received so far. */
	async until(predicate: (s: Subscriber) => boolean, timeoutMs = 5000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (!predicate(this)) {
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.slice(-5))}`);
			await new Promise<void>((resolve) => {
				this.#waiters.push(resolve);
				setTimeout(resolve, Math.min(left, 100));
			});
		}
	}

	send(message: unknown): void {
		this.socket.send(JSON.stringify(message));
	}

	close(): void {
		this.socket.close(1000, "done");
	}
}
