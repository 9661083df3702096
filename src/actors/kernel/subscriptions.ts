/**
 * WebSocket subscriptions: a socket catches up from `after` and then gets every committed event exactly once by
 * seq (its cursor lives in its attachment, so it survives hibernation). Client frames spend a per-socket and a
 * per-key budget and are handled one after another, in arrival order, each after its key is re-checked.
 */
import type { Connection, ConnectionContext, WSMessage } from "partyserver";
import type { EventEnvelope } from "../../events/envelope.ts";
import type { StoredEvent } from "../log.ts";
import {
	type Bucket,
	CLOSE,
	KEY_CHECK_EVERY_MS,
	KEY_RATE,
	MAX_REFUSED_IN_A_ROW,
	MAX_SOCKETS_PER_KEY,
	parseSocketKey,
	SOCKET_KEY_HEADER,
	SOCKET_RATE,
	type SocketState,
	takeToken,
} from "../socket-guard.ts";
import { type ClientMessage, parseClientMessage, type ServerMessage } from "../socket-messages.ts";
import type { KernelHost } from "./host.ts";
import { closeSocket, type KeyChecks, keyTag, SOCKET_CHECK_TIMER } from "./socket-keys.ts";
import type { TimerPart } from "./timer-part.ts";

export const MAX_PAGE = 1000;

export interface SubscriptionHooks {
	connections<T>(tag?: string): Iterable<Connection<T>>;
	send(connection: Connection, message: ServerMessage): void;
	/** A stored event as readers see it (redacted). */
	envelope(row: StoredEvent): EventEnvelope;
	clientMessageSchemas(): Parameters<typeof parseClientMessage>[1];
	onClientMessage(connection: Connection, message: ClientMessage): void;
}

export class Subscriptions<S> {
	/** Per-key frame budgets on this actor (memory only: each socket's own budget is in its attachment). */
	readonly #keyBudgets = new Map<string, Bucket>();
	/** Client frames are handled one after another, in arrival order, even when one waits for a key check. */
	#inbox: Promise<void> = Promise.resolve();

	constructor(
		private readonly host: KernelHost<S>,
		private readonly keys: KeyChecks<S>,
		private readonly timers: TimerPart<S>,
		private readonly hooks: SubscriptionHooks,
	) {}

	/** Sets or cancels the timer that re-checks open sockets' keys. */
	checkTimer(armed: boolean): void {
		if (armed) this.timers.ensure(SOCKET_CHECK_TIMER, { every: KEY_CHECK_EVERY_MS });
		else this.timers.cancel(SOCKET_CHECK_TIMER);
	}

	/** The refusal of a key's upgrade past MAX_SOCKETS_PER_KEY open sockets on this actor, or null to accept it. */
	refuseUpgrade(request: Request): Response | null {
		const key = parseSocketKey(request.headers.get(SOCKET_KEY_HEADER));
		if (!key || request.headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
		let open = 0;
		for (const _ of this.hooks.connections(keyTag(key.id))) open++;
		if (open < MAX_SOCKETS_PER_KEY) return null;
		const detail = `This API key already holds ${MAX_SOCKETS_PER_KEY} sockets open on this actor; close one first.`;
		return Response.json(
			{ type: "about:blank", title: "Too many sockets", status: 429, detail },
			{ status: 429, headers: { "content-type": "application/problem+json", "retry-after": "60" } },
		);
	}

	tags(ctx: ConnectionContext): string[] {
		const key = parseSocketKey(ctx.request.headers.get(SOCKET_KEY_HEADER));
		return key ? [keyTag(key.id)] : [];
	}

	connect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
		const { head, actor } = this.host;
		// Only the Worker sets the key header (it replaces any client value); an ingest key's socket is send-only.
		const key = parseSocketKey(ctx.request.headers.get(SOCKET_KEY_HEADER));
		const opened: SocketState = { ...(key ? { key } : {}), openedAt: this.host.now() };
		if (key) this.checkTimer(true);
		if (key?.role === "ingest") {
			// Its frames are answered (acks, errors), and no events are pushed to it.
			this.hooks.send(connection, { t: "hello", version: head.version, actor, sendOnly: true });
			connection.setState({ ...opened, sendOnly: true });
			return;
		}
		const after = Number(new URL(ctx.request.url).searchParams.get("after") ?? "0");
		const from = Number.isSafeInteger(after) && after >= 0 ? after : 0;
		this.hooks.send(connection, { t: "hello", version: head.version, actor });
		if (from > head.version) {
			const detail = `after=${from} is beyond the current version ${head.version}`;
			this.hooks.send(connection, { t: "error", status: 409, title: "Ahead of the log", detail });
		}
		this.#sendRange(connection, from, head.version);
		connection.setState({ ...opened, cursor: Math.max(from, head.version) });
	}

	message(connection: Connection<SocketState>, message: WSMessage): Promise<void> {
		if (!this.#withinBudget(connection)) return Promise.resolve();
		const handled = this.#inbox.then(() => this.#handleFrame(connection, message));
		this.#inbox = handled.catch(() => {});
		return handled;
	}

	closed(connection: Connection): void {
		for (const other of this.hooks.connections()) if (other.id !== connection.id) return;
		this.checkTimer(false);
	}

	async #handleFrame(connection: Connection<SocketState>, message: WSMessage): Promise<void> {
		if (!(await this.keys.stillAllowed(connection))) return;
		const parsed = parseClientMessage(message, this.hooks.clientMessageSchemas());
		if (!parsed.ok) {
			this.hooks.send(connection, { t: "error", status: 400, title: "Invalid message", detail: parsed.detail, errors: parsed.errors });
			return;
		}
		if (parsed.message.t === "ping") {
			this.hooks.send(connection, { t: "pong" });
			return;
		}
		this.hooks.onClientMessage(connection, parsed.message);
	}

	/**
	 * Spends a token of the socket's budget (kept in its attachment, so it survives hibernation) and of its key's
	 * on this actor. A refused frame is answered 429 with retry-after; too many refused in a row close the socket.
	 */
	#withinBudget(connection: Connection<SocketState>): boolean {
		const state = connection.state ?? {};
		const now = this.host.now();
		const own = takeToken(state.budget, SOCKET_RATE, now);
		const keyId = state.key?.id;
		const shared = own.ok && keyId !== undefined ? takeToken(this.#keyBudgets.get(keyId), KEY_RATE, now) : undefined;
		if (shared && keyId !== undefined) this.#keyBudgets.set(keyId, shared.bucket);
		const refusal = !own.ok ? own : shared && !shared.ok ? shared : undefined;
		const refused = refusal ? (state.refused ?? 0) + 1 : 0;
		connection.setState({ ...state, budget: own.bucket, refused });
		if (!refusal) return true;
		if (refused > MAX_REFUSED_IN_A_ROW) {
			closeSocket(connection, CLOSE.tooManyMessages);
			return false;
		}
		this.hooks.send(connection, {
			t: "error",
			status: 429,
			title: "Too many messages",
			detail: `This ${refusal === own ? "socket" : "API key"} sent more frames than its budget; retry after ${refusal.retryAfterSeconds} seconds.`,
			retryAfter: refusal.retryAfterSeconds,
		});
		return false;
	}

	/** Sends the events in (after, upTo] to one socket, paged so a long backlog is never loaded at once. */
	#sendRange(connection: Connection, after: number, upTo: number): void {
		let cursor = after;
		while (cursor < upTo) {
			const page = this.host.log.page(cursor, MAX_PAGE).filter((row) => row.seq <= upTo);
			if (page.length === 0) break;
			for (const row of page) this.hooks.send(connection, { t: "event", event: this.hooks.envelope(row) });
			cursor = page.at(-1)?.seq ?? upTo;
		}
	}

	/**
	 * Pushes newly committed events to every subscribed socket, each exactly once by seq. Every commit is published
	 * (imports go through the append path, an erasure closes the sockets), so a socket that caught up on connect has
	 * been sent everything since: its cursor is written once, on connect, and never again here (no attachment write
	 * per socket per event). The frames are built once for all sockets.
	 */
	publish(envelopes: readonly EventEnvelope[]): void {
		const first = envelopes[0];
		if (!first) return;
		let frames: string[] | undefined;
		for (const connection of this.hooks.connections<SocketState>()) {
			const state = connection.state;
			// A socket still inside onConnect has no cursor yet (its catch-up covers these events); a send-only socket never has one.
			const cursor = state?.cursor;
			if (cursor === undefined || !this.keys.mayReceive(connection, state)) continue;
			frames ??= envelopes.map((event) => JSON.stringify({ t: "event", event } satisfies ServerMessage));
			for (let i = Math.max(0, cursor - first.seq + 1); i < frames.length; i++) {
				try {
					connection.send(frames[i] as string);
				} catch {
					break;
				}
			}
		}
	}
}
