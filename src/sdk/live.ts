/**
 * Live mode: the session's WebSocket (partysocket reconnects it). Batches go out as `{t:"events"}` and
 * the next ack or error frame answers them: the actor handles a socket's frames in order and the client
 * has one batch in flight at a time, so answers need no ids. A batch whose answer is late gets the socket
 * reconnected, so that late answer can never be taken for the next batch's. Pushed events reach
 * subscribers once each by seq, across reconnects (the socket resumes with `?after=<last seq>`).
 */
import { WebSocket as ReconnectingWebSocket } from "partysocket";
import type { ClientEvent, EventEnvelope } from "./events.ts";
import { type BatchAck, DeliveryError, type Problem } from "./http.ts";

/** What partysocket needs of a WebSocket class; Node 22+ and browsers have one as a global. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

type ServerFrame =
	| { t: "hello"; version: number }
	| { t: "event"; event: EventEnvelope }
	| { t: "pong" }
	| ({ t: "ack" } & BatchAck)
	| ({ t: "error"; status: number } & Problem);

export interface LiveChannelOptions {
	url: (after: number) => string | Promise<string>;
	WebSocket?: WebSocketConstructor;
	ackTimeoutMs: number;
	onEvent: (event: EventEnvelope) => void;
	/** An error frame that answers no batch (e.g. a refused subscription). */
	onServerError: (frame: Problem & { status: number }) => void;
	onOpen: () => void;
}

interface Pending {
	resolve: (ack: BatchAck) => void;
	reject: (error: DeliveryError) => void;
	timer: ReturnType<typeof setTimeout>;
}

export class LiveChannel {
	readonly #socket: ReconnectingWebSocket;
	#cursor = 0;
	#pending: Pending | undefined;
	#closed = false;

	constructor(private readonly options: LiveChannelOptions) {
		this.#socket = new ReconnectingWebSocket(async () => options.url(this.#cursor), undefined, {
			...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
			minReconnectionDelay: 1000,
			maxReconnectionDelay: 30_000,
			// No queue: a batch that cannot go now goes over HTTP instead.
			maxEnqueuedMessages: 0,
		});
		this.#socket.addEventListener("message", (event) => this.#onFrame(event.data));
		this.#socket.addEventListener("open", () => options.onOpen());
		this.#socket.addEventListener("close", () => this.#fail("the socket closed before the batch was acknowledged"));
	}

	get isOpen(): boolean {
		return !this.#closed && this.#socket.readyState === ReconnectingWebSocket.OPEN;
	}

	/** The last seq received; a reconnect asks for the events after it. */
	get cursor(): number {
		return this.#cursor;
	}

	send(events: readonly ClientEvent[]): Promise<BatchAck> {
		if (!this.isOpen) return Promise.reject(socketDown("the socket is not open"));
		if (this.#pending) return Promise.reject(socketDown("a batch is already in flight on the socket"));
		return new Promise<BatchAck>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#fail(`no acknowledgement within ${this.options.ackTimeoutMs} ms`);
				// A late ack must not answer the next batch: start over on a fresh connection.
				if (!this.#closed) this.#socket.reconnect();
			}, this.options.ackTimeoutMs);
			this.#pending = { resolve, reject, timer };
			try {
				this.#socket.send(JSON.stringify({ t: "events", events }));
			} catch (error) {
				this.#fail(`send failed: ${error instanceof Error ? error.message : String(error)}`);
			}
		});
	}

	close(): void {
		this.#closed = true;
		this.#fail("the client was closed");
		this.#socket.close(1000, "client closed");
	}

	#onFrame(data: unknown): void {
		if (typeof data !== "string") return;
		let frame: ServerFrame;
		try {
			frame = JSON.parse(data) as ServerFrame;
		} catch {
			return;
		}
		switch (frame.t) {
			case "event":
				// Once each by seq: a reconnect resumes after the cursor, so anything at or below it is a repeat.
				if (frame.event.seq <= this.#cursor) return;
				this.#cursor = frame.event.seq;
				this.options.onEvent(frame.event);
				return;
			case "ack": {
				const pending = this.#take();
				pending?.resolve({ accepted: frame.accepted, duplicates: frame.duplicates, version: frame.version });
				return;
			}
			case "error": {
				const pending = this.#take();
				const { t: _, ...problem } = frame;
				if (!pending) {
					this.options.onServerError(problem);
					return;
				}
				const retryable = frame.status === 429 || frame.status >= 500;
				pending.reject(
					new DeliveryError(
						`socket ${frame.status}: ${frame.detail ?? frame.title ?? "error"}`,
						retryable,
						frame.status,
						undefined,
						problem,
					),
				);
				return;
			}
			default:
				return;
		}
	}

	#take(): Pending | undefined {
		const pending = this.#pending;
		if (pending) clearTimeout(pending.timer);
		this.#pending = undefined;
		return pending;
	}

	#fail(reason: string): void {
		this.#take()?.reject(socketDown(reason));
	}
}

function socketDown(reason: string): DeliveryError {
	return new DeliveryError(`socket: ${reason}`, true, undefined, undefined, undefined, true);
}
