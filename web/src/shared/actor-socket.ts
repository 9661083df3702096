/**
 * One actor's live log over its WebSocket: partysocket reconnects it by itself, and every connection
 * asks for the events after the last seq this socket saw (`?after=`), so a reconnect resumes where it
 * stopped: missed events arrive in order, and none twice. Events at or below the cursor are dropped all
 * the same (and counted), in case a server ever resends one. A heartbeat ping notices a connection that
 * died without a close (a laptop waking up, a network that vanished) and reconnects it.
 */
import ReconnectingWebSocket from "partysocket/ws";
import type { ActorRef, EventEnvelope, RoostApi } from "./api.ts";

export type SocketState = "connecting" | "open" | "down" | "closed";

type ServerFrame =
	| { t: "hello"; version: number }
	| { t: "event"; event: EventEnvelope }
	| { t: "pong" }
	| { t: "error"; status?: number; title?: string; detail?: string }
	| { t: string };

export interface ActorSocketOptions {
	/** Resume after this seq (0: the whole log). */
	after?: number;
	onEvent: (event: EventEnvelope) => void;
	/** The actor's version when a connection opens; every event up to it is a replay. */
	onHello?: (version: number) => void;
	onState?: (state: SocketState) => void;
}

/** What a socket has done, for the page's status line and the tests. */
export interface SocketStats {
	name: string;
	state: SocketState;
	cursor: number;
	/** Event frames received, duplicates included. */
	received: number;
	/** Events at or below the cursor, dropped. */
	duplicates: number;
	/** Connections opened (1 + reconnects). */
	connections: number;
}

const HEARTBEAT_EVERY_MS = 20_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

export class ActorSocket {
	readonly name: string;
	#socket: ReconnectingWebSocket;
	#cursor: number;
	#state: SocketState = "connecting";
	#received = 0;
	#duplicates = 0;
	#connections = 0;
	#heartbeat: ReturnType<typeof setInterval> | undefined;
	#lastFrameAt = 0;

	constructor(
		api: RoostApi,
		readonly actor: ActorRef,
		private readonly options: ActorSocketOptions,
	) {
		this.name = actor.kind === "org" ? "org" : `${actor.kind}/${actor.id}`;
		this.#cursor = options.after ?? 0;
		this.#socket = new ReconnectingWebSocket(() => api.socketUrl(actor, this.#cursor), undefined, {
			minReconnectionDelay: 500 + Math.random() * 500,
			maxReconnectionDelay: 10_000,
			reconnectionDelayGrowFactor: 1.5,
			connectionTimeout: 5000,
			// Nothing is sent but pings; a ping that cannot go now is not worth keeping.
			maxEnqueuedMessages: 0,
		});
		this.#socket.addEventListener("open", () => {
			this.#connections++;
			this.#lastFrameAt = Date.now();
			this.#setState("open");
		});
		this.#socket.addEventListener("close", () => {
			if (this.#state !== "closed") this.#setState("down");
		});
		this.#socket.addEventListener("message", (message) => this.#onFrame(message.data));
		this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_EVERY_MS);
	}

	get state(): SocketState {
		return this.#state;
	}

	/** The last seq received; the next connection asks for the events after it. */
	get cursor(): number {
		return this.#cursor;
	}

	get stats(): SocketStats {
		return {
			name: this.name,
			state: this.#state,
			cursor: this.#cursor,
			received: this.#received,
			duplicates: this.#duplicates,
			connections: this.#connections,
		};
	}

	/** Drops the connection and makes a new one at once (it resumes after the cursor). */
	reconnect(): void {
		if (this.#state !== "closed") this.#socket.reconnect();
	}

	close(): void {
		this.#setState("closed");
		clearInterval(this.#heartbeat);
		this.#socket.close(1000, "done");
	}

	#setState(state: SocketState): void {
		if (this.#state === state || this.#state === "closed") return;
		this.#state = state;
		this.options.onState?.(state);
	}

	#beat(): void {
		if (this.#state !== "open") return;
		if (Date.now() - this.#lastFrameAt > HEARTBEAT_EVERY_MS + HEARTBEAT_TIMEOUT_MS) {
			this.#socket.reconnect();
			return;
		}
		this.#socket.send(JSON.stringify({ t: "ping" }));
	}

	#onFrame(data: unknown): void {
		this.#lastFrameAt = Date.now();
		if (typeof data !== "string") return;
		let frame: ServerFrame;
		try {
			frame = JSON.parse(data) as ServerFrame;
		} catch {
			return;
		}
		if (frame.t === "hello" && "version" in frame) {
			this.options.onHello?.(frame.version);
		} else if (frame.t === "event" && "event" in frame) {
			this.#received++;
			if (frame.event.seq <= this.#cursor) {
				this.#duplicates++;
				return;
			}
			this.#cursor = frame.event.seq;
			this.options.onEvent(frame.event);
		}
	}
}
