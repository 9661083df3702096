/**
 * Every actor socket a page holds, in one place: it opens and closes them, tells the page when any of them
 * is down (the offline banner), and hands every event to page-wide listeners (e.g. an event-rate chart).
 */
import { ActorSocket, type ActorSocketOptions, type SocketStats } from "./actor-socket.ts";
import type { ActorRef, EventEnvelope, RoostApi } from "./api.ts";

export interface Connectivity {
	/** The sockets that are down now (closed by the network or the server, reconnecting). */
	down: string[];
	/** The browser says it has no network. */
	browserOffline: boolean;
	/** Since when at least one socket is down (ms), or null. */
	since: number | null;
}

export class LiveHub {
	readonly #sockets = new Set<ActorSocket>();
	readonly #changeListeners = new Set<(status: Connectivity) => void>();
	readonly #eventListeners = new Set<(event: EventEnvelope, socket: ActorSocket) => void>();
	#since: number | null = null;

	constructor(private readonly api: RoostApi) {
		addEventListener("online", () => this.#changed());
		addEventListener("offline", () => this.#changed());
	}

	open(actor: ActorRef, options: ActorSocketOptions): ActorSocket {
		const socket: ActorSocket = new ActorSocket(this.api, actor, {
			...options,
			onEvent: (event) => {
				options.onEvent(event);
				for (const listener of this.#eventListeners) listener(event, socket);
			},
			onState: (state) => {
				options.onState?.(state);
				this.#changed();
			},
		});
		this.#sockets.add(socket);
		return socket;
	}

	close(socket: ActorSocket | undefined): void {
		if (!socket) return;
		this.#sockets.delete(socket);
		socket.close();
		this.#changed();
	}

	closeAll(): void {
		for (const socket of [...this.#sockets]) this.close(socket);
	}

	/** Drops every connection at once; each resumes from its own cursor. */
	reconnectAll(): void {
		for (const socket of this.#sockets) socket.reconnect();
	}

	get status(): Connectivity {
		const down = [...this.#sockets].filter((socket) => socket.state === "down").map((socket) => socket.name);
		return { down, browserOffline: !navigator.onLine, since: this.#since };
	}

	get stats(): SocketStats[] {
		return [...this.#sockets].map((socket) => socket.stats);
	}

	get openCount(): number {
		return [...this.#sockets].filter((socket) => socket.state === "open").length;
	}

	get size(): number {
		return this.#sockets.size;
	}

	onChange(listener: (status: Connectivity) => void): void {
		this.#changeListeners.add(listener);
	}

	onEvent(listener: (event: EventEnvelope, socket: ActorSocket) => void): void {
		this.#eventListeners.add(listener);
	}

	#changed(): void {
		const offline = [...this.#sockets].some((socket) => socket.state === "down") || !navigator.onLine;
		if (offline && this.#since === null) this.#since = Date.now();
		if (!offline) this.#since = null;
		const status = this.status;
		for (const listener of this.#changeListeners) listener(status);
	}
}
