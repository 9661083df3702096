/**
 * A session client: events get their UUIDv7 id when they are made, wait in the bounded buffer, and go
 * out oldest first, one batch at a time, over the session's socket in live mode or HTTP otherwise. An
 * event leaves the buffer only when the server acknowledged it (as accepted or as a duplicate) or
 * refused it for good, so a lost answer means a resend the server reports as duplicates, never a loss.
 */
import pRetry from "p-retry";
import { uuidv7 } from "uuidv7";
import { type AutocaptureOptions, browserWindow, startAutocapture } from "./autocapture.ts";
import { EventBuffer, type StorageLike } from "./buffer.ts";
import {
	type ClientEvent,
	type ClientEventType,
	clip,
	type EventEnvelope,
	isClientEventType,
	LIMITS,
	newEvent,
	type Props,
	pathOf,
	type SessionEventData,
} from "./events.ts";
import { type BatchAck, batchUrl, DeliveryError, type FetchLike, type Problem, postBatch } from "./http.ts";
import { LiveChannel, type WebSocketConstructor } from "./live.ts";

export interface RetryOptions {
	/** First delay after a failed attempt. Default 1000 ms. */
	minDelayMs?: number;
	/** Longest delay between attempts. Default 60 000 ms. */
	maxDelayMs?: number;
	/** Growth of the delay per attempt. Default 2. */
	factor?: number;
}

export interface SessionOptions {
	/** Where Roost runs, e.g. `https://roost.example.com` (no `/v1`). */
	endpoint: string;
	/** An API key of the org. In a browser it is visible to the page's visitors: use a key made for ingest. */
	apiKey: string;
	orgId: string;
	/** Default: kept per tab in sessionStorage (so a reload continues it), or a new UUIDv7. */
	sessionId?: string;
	/** Most events in one batch (1..500). Default 50. */
	batchSize?: number;
	/** Longest an event waits for others to share its batch. Default 2000 ms. */
	flushIntervalMs?: number;
	/** Largest batch body; the server takes 1 MiB. Default 512 KiB. */
	maxBatchBytes?: number;
	/** Events kept while they cannot be sent; the oldest are dropped beyond it. Default 1000. */
	maxBufferEvents?: number;
	/** "auto": localStorage in browsers, memory elsewhere. Or any getItem/setItem/removeItem store. */
	storage?: "auto" | "memory" | StorageLike;
	retry?: RetryOptions;
	/** A request without an answer after this long counts as a network error. Default 15 000 ms. */
	requestTimeoutMs?: number;
	/** Send batches over the session's WebSocket (HTTP when it is down). Default false. */
	live?: boolean;
	/** A socket batch without an ack after this long is resent. Default 10 000 ms. */
	ackTimeoutMs?: number;
	/** Browsers only: capture page views and clicks. Default off. */
	autocapture?: boolean | AutocaptureOptions;
	/** Longest close() waits for the buffer to drain. Default 5000 ms. */
	closeTimeoutMs?: number;
	/** Replaces the global fetch (tests, proxies, custom agents). */
	fetch?: FetchLike;
	/** Replaces the global WebSocket class used in live mode. */
	WebSocket?: WebSocketConstructor;
	/** Shorthand for `on("error", ...)`. */
	onError?: (error: SdkError) => void;
}

/** Something the client could not do, reported on `on("error")`; it never throws into the page. */
export type SdkError =
	/** The server refused events (4xx other than 429); they were removed from the buffer. */
	| { kind: "rejected"; status: number | undefined; message: string; eventIds: string[]; problem?: Problem }
	/** The buffer was full: its oldest events were dropped. `total` counts every drop so far. */
	| { kind: "overflow"; dropped: number; total: number; eventIds: string[] }
	/** An event was not made: bad arguments to track/page/identify, or the client is closed. */
	| { kind: "invalid"; message: string }
	/** The buffer could not be written to storage; it keeps working in memory. */
	| { kind: "storage"; message: string }
	/** The session's socket reported an error that answers no batch. */
	| { kind: "socket"; status: number; message: string; problem: Problem };

export interface SentBatch extends BatchAck {
	eventIds: string[];
	transport: "http" | "socket";
}

export interface RetryNotice {
	attempt: number;
	/** Wait before the next attempt, Retry-After included. */
	delayMs: number;
	error: DeliveryError;
}

export interface SessionStats {
	/** Events waiting in the buffer (in flight included). */
	buffered: number;
	/** Events the server stored. */
	accepted: number;
	/** Events the server already had: a resend after a lost answer. */
	duplicates: number;
	/** Events dropped because the buffer was full (kept across reloads with storage). */
	dropped: number;
	/** Events the server refused (4xx other than 429). */
	rejected: number;
	/** Failed attempts that were retried. */
	retries: number;
}

export interface FlushResult {
	/** True when everything buffered at the flush was delivered or refused. */
	ok: boolean;
	/** Events still in the buffer. */
	pending: number;
}

interface Listeners {
	error: (error: SdkError) => void;
	sent: (batch: SentBatch) => void;
	retry: (notice: RetryNotice) => void;
	event: (event: EventEnvelope) => void;
}

const DEFAULTS = {
	batchSize: 50,
	flushIntervalMs: 2000,
	maxBatchBytes: 512 * 1024,
	maxBufferEvents: 1000,
	requestTimeoutMs: 15_000,
	ackTimeoutMs: 10_000,
	closeTimeoutMs: 5000,
	retry: { minDelayMs: 1000, maxDelayMs: 60_000, factor: 2 },
} as const;

/** A keepalive request may carry at most 64 KiB, for all such requests of the page together. */
const KEEPALIVE_BYTES = 60 * 1024;

export class SessionClient {
	readonly sessionId: string;
	readonly orgId: string;

	readonly #endpoint: string;
	readonly #apiKey: string;
	readonly #fetch: FetchLike;
	readonly #options: SessionOptions;
	readonly #batchSize: number;
	readonly #flushIntervalMs: number;
	readonly #maxBatchBytes: number;
	readonly #retry: Required<RetryOptions>;
	readonly #buffer: EventBuffer;
	readonly #listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = {
		error: new Set(),
		sent: new Set(),
		retry: new Set(),
		event: new Set(),
	};
	readonly #stats = { accepted: 0, duplicates: 0, rejected: 0, retries: 0 };
	readonly #cleanups: (() => void)[] = [];

	#live: LiveChannel | undefined;
	#flushTimer: ReturnType<typeof setTimeout> | undefined;
	#draining: Promise<void> | undefined;
	/** Aborting it cuts short a backoff wait: flush(), the network coming back, the socket opening. */
	#wake: AbortController | undefined;
	/** After a 413 the next batch is cut to this many events. */
	#batchCap: number | undefined;
	#closed = false;
	readonly #closing = new AbortController();
	/** No request before this time: the server asked for it with Retry-After. */
	#notBefore = 0;
	#flushWaiters: { mark: number; resolve: (result: FlushResult) => void; timer: ReturnType<typeof setTimeout> }[] = [];

	constructor(options: SessionOptions) {
		if (!options.endpoint || !options.apiKey || !options.orgId) throw new TypeError("createSession needs endpoint, apiKey and orgId");
		this.#options = options;
		this.#endpoint = options.endpoint.replace(/\/+$/, "");
		this.#apiKey = options.apiKey;
		this.orgId = options.orgId;
		this.sessionId = options.sessionId ?? defaultSessionId(options.orgId);
		const fetchFn = options.fetch ?? globalThis.fetch?.bind(globalThis);
		if (!fetchFn) throw new TypeError("no fetch: pass options.fetch");
		this.#fetch = fetchFn;
		this.#batchSize = clamp(options.batchSize ?? DEFAULTS.batchSize, 1, 500);
		this.#flushIntervalMs = Math.max(0, options.flushIntervalMs ?? DEFAULTS.flushIntervalMs);
		this.#maxBatchBytes = Math.max(1024, options.maxBatchBytes ?? DEFAULTS.maxBatchBytes);
		this.#retry = { ...DEFAULTS.retry, ...options.retry };
		if (options.onError) this.#listeners.error.add(options.onError);

		this.#buffer = new EventBuffer(
			Math.max(1, options.maxBufferEvents ?? DEFAULTS.maxBufferEvents),
			resolveStorage(options.storage),
			`roost:buffer:${options.orgId}:${this.sessionId}`,
			(count, eventIds, total) => this.#emit("error", { kind: "overflow", dropped: count, total, eventIds }),
			(error) => this.#emit("error", { kind: "storage", message: error instanceof Error ? error.message : String(error) }),
		);

		if (options.live) this.#openSocket();
		this.#watchBrowser();
		if (options.autocapture) {
			const win = browserWindow();
			if (win) {
				const capture = options.autocapture === true ? {} : options.autocapture;
				this.#cleanups.push(
					startAutocapture(win, capture, {
						page: (url, title, referrer) => this.page(url, title, referrer),
						click: (data) => this.#record("session.clicked", data),
					}),
				);
			}
		}
		// Events a previous page left behind go out now.
		if (this.#buffer.size > 0) this.#drain();
	}

	get stats(): SessionStats {
		return { buffered: this.#buffer.size, dropped: this.#buffer.dropped, ...this.#stats };
	}

	/**
	 * Records an event. A client type (`session.page_viewed`, `session.clicked`, `session.custom`,
	 * `session.identified`, `session.error`) is sent as it is, with `data` as its data; any other name is
	 * a custom event: `session.custom` with `{ name: type, props: data }`. Returns the event id, or null
	 * when nothing was recorded (the reason goes to `on("error")`).
	 */
	track<T extends ClientEventType>(type: T, data: SessionEventData[T]): string | null;
	track<N extends string>(name: N extends ClientEventType ? never : N, props?: Props): string | null;
	track(type: string, data?: object): string | null {
		if (isClientEventType(type)) return this.#record(type, (data ?? {}) as SessionEventData[typeof type]);
		if (type.startsWith("session.")) return this.#invalid(`"${type}" is not a type a client may send`);
		if (type.length === 0 || type.length > LIMITS.name)
			return this.#invalid(`a custom event name must have 1 to ${LIMITS.name} characters`);
		return this.#record("session.custom", data === undefined ? { name: type } : { name: type, props: data as Props });
	}

	/** A page view; `path` is derived from `url`. In a browser the url and title default to the current page's. */
	page(url?: string, title?: string, referrer?: string): string | null {
		const win = browserWindow();
		const href = url ?? win?.location.href;
		if (!href) return this.#invalid("page() needs a url outside a browser");
		const data: SessionEventData["session.page_viewed"] = { url: clip(href, LIMITS.url), path: clip(pathOf(href), LIMITS.url) };
		const pageTitle = title ?? (url === undefined ? win?.document.title : undefined);
		if (pageTitle) data.title = clip(pageTitle, LIMITS.title);
		if (referrer) data.referrer = clip(referrer, LIMITS.url);
		return this.#record("session.page_viewed", data);
	}

	identify(userId: string, traits?: Props): string | null {
		if (!userId) return this.#invalid("identify() needs a userId");
		return this.#record("session.identified", traits ? { userId, traits } : { userId });
	}

	/**
	 * Sends everything buffered now, retrying with backoff as usual, and resolves once those events were
	 * delivered (or refused), or after `timeoutMs` (default 10 s) with what is still pending.
	 */
	flush(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
		const mark = this.#buffer.mark;
		if (!this.#buffer.holdsUpTo(mark)) return Promise.resolve({ ok: true, pending: this.#buffer.size });
		const done = new Promise<FlushResult>((resolve) => {
			const waiter = {
				mark,
				resolve,
				timer: setTimeout(() => {
					this.#flushWaiters = this.#flushWaiters.filter((w) => w !== waiter);
					resolve({ ok: !this.#buffer.holdsUpTo(mark), pending: this.#buffer.size });
				}, options.timeoutMs ?? 10_000),
			};
			this.#flushWaiters.push(waiter);
		});
		this.#wakeNow();
		return done;
	}

	/**
	 * Stops capturing, flushes (for at most `closeTimeoutMs`), closes the socket. Events still pending stay
	 * in storage for the next page in a browser; in memory they are lost, and `pending` says how many.
	 */
	async close(): Promise<FlushResult> {
		if (this.#closed) return { ok: this.#buffer.size === 0, pending: this.#buffer.size };
		for (const cleanup of this.#cleanups.splice(0)) cleanup();
		const result = await this.flush({ timeoutMs: this.#options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs });
		this.#closed = true;
		this.#stopFlushTimer();
		this.#closing.abort();
		this.#wake?.abort();
		this.#live?.close();
		this.#buffer.save();
		return result;
	}

	/** Listens to `error`, `sent`, `retry` or `event` (the session's events, in live mode or with subscribe()). */
	on<K extends keyof Listeners>(type: K, listener: Listeners[K]): () => void {
		this.#listeners[type].add(listener);
		return () => this.#listeners[type].delete(listener);
	}

	/**
	 * Receives the session's events back from the server (everyone's, this client's included), once each
	 * in seq order, from the first. Opens the session's socket if live mode has not.
	 */
	subscribe(listener: (event: EventEnvelope) => void): () => void {
		const off = this.on("event", listener);
		if (!this.#closed) this.#openSocket();
		return off;
	}

	// ---- recording --------------------------------------------------------------------

	#record<T extends ClientEventType>(type: T, data: SessionEventData[T]): string | null {
		if (this.#closed) return this.#invalid("the client is closed");
		const event = newEvent(type, data);
		this.#buffer.push(event as ClientEvent);
		if (this.#buffer.size >= this.#batchSize) this.#drain();
		else this.#scheduleFlush();
		return event.id;
	}

	#invalid(message: string): null {
		this.#emit("error", { kind: "invalid", message });
		return null;
	}

	#scheduleFlush(): void {
		if (this.#flushTimer !== undefined) return;
		this.#flushTimer = setTimeout(() => {
			this.#flushTimer = undefined;
			this.#drain();
		}, this.#flushIntervalMs);
	}

	#stopFlushTimer(): void {
		if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
		this.#flushTimer = undefined;
	}

	// ---- delivery ---------------------------------------------------------------------

	/** Starts the delivery loop unless it runs; a running loop picks up new events by itself. */
	#drain(): void {
		if (this.#closed || this.#draining) return;
		this.#stopFlushTimer();
		this.#draining = this.#deliverAll().finally(() => {
			this.#draining = undefined;
			this.#settleFlushes();
			// Events that arrived as the loop ended.
			if (this.#buffer.size > 0 && !this.#closed) this.#scheduleFlush();
		});
	}

	#wakeNow(): void {
		if (this.#draining) this.#wake?.abort();
		else this.#drain();
	}

	/**
	 * p-retry drives the backoff; each attempt takes the buffer's head afresh, so a batch that waited out
	 * an outage goes out with the events that joined it meanwhile. Retries never run out: the events are
	 * kept until delivered or dropped on overflow, and a wake (flush, online, socket open) restarts the
	 * backoff from its first step.
	 */
	async #deliverAll(): Promise<void> {
		while (!this.#closed && this.#buffer.size > 0) {
			const wake = new AbortController();
			this.#wake = wake;
			try {
				await pRetry(() => this.#deliverHead(), {
					retries: Number.POSITIVE_INFINITY,
					minTimeout: this.#retry.minDelayMs,
					maxTimeout: this.#retry.maxDelayMs,
					factor: this.#retry.factor,
					// Jitter: each delay is scaled by a random factor in [1, 2), so clients that failed together spread out.
					randomize: true,
					signal: wake.signal,
					unref: true,
					shouldRetry: ({ error }) => error instanceof DeliveryError && error.retryable,
					onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
						this.#stats.retries++;
						if (!(error instanceof DeliveryError)) return;
						const retryAfter = error.retryAfterMs ?? 0;
						// Retry-After is a floor that no wake (flush, online) cuts short; #deliverHead waits for it.
						if (retryAfter > 0) this.#notBefore = Date.now() + retryAfter;
						this.#emit("retry", { attempt: attemptNumber, delayMs: Math.max(retryDelay, retryAfter), error });
					},
				});
			} catch (error) {
				if (wake.signal.aborted && !this.#closed) continue;
				if (!(error instanceof DeliveryError) && !this.#closed) {
					this.#emit("error", { kind: "invalid", message: `delivery stopped: ${error instanceof Error ? error.message : String(error)}` });
				}
				return;
			}
		}
	}

	/** Sends the oldest batch; refused events leave the buffer here, retryable failures are thrown. */
	async #deliverHead(): Promise<void> {
		const wait = this.#notBefore - Date.now();
		if (wait > 0) await sleep(wait, this.#closing.signal);
		if (this.#closed) return;
		const batch = this.#buffer.peek(this.#batchCap ?? this.#batchSize, this.#maxBatchBytes);
		if (batch.length === 0) return;
		const eventIds = batch.map((e) => e.id);
		let ack: BatchAck;
		let transport: SentBatch["transport"] = "http";
		try {
			const live = this.#live;
			if (live?.isOpen && this.#options.live) {
				try {
					ack = await live.send(batch);
					transport = "socket";
				} catch (error) {
					// The socket went down under the batch: HTTP carries it now instead of after a backoff.
					if (!(error instanceof DeliveryError && error.socketDown)) throw error;
					ack = await this.#post(batch);
				}
			} else ack = await this.#post(batch);
		} catch (error) {
			if (error instanceof DeliveryError && !error.retryable) {
				this.#refused(batch, error);
				return;
			}
			throw error;
		}
		this.#batchCap = undefined;
		this.#buffer.remove(eventIds);
		this.#stats.accepted += ack.accepted;
		this.#stats.duplicates += ack.duplicates;
		this.#emit("sent", { ...ack, eventIds, transport });
		this.#settleFlushes();
	}

	#post(batch: readonly ClientEvent[]): Promise<BatchAck> {
		return postBatch(
			this.#fetch,
			batchUrl(this.#endpoint, this.orgId, this.sessionId),
			this.#apiKey,
			batch,
			this.#options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
		);
	}

	/**
	 * A 4xx other than 429. When the problem names events (`events[3].data.url`), only those leave the
	 * buffer and the rest go in the next batch; otherwise the whole batch does. A 413 halves the batch first.
	 */
	#refused(batch: readonly ClientEvent[], error: DeliveryError): void {
		if (error.status === 413 && batch.length > 1) {
			this.#batchCap = Math.ceil(batch.length / 2);
			return;
		}
		const named = new Set<number>();
		for (const fieldError of error.problem?.errors ?? []) {
			const match = /^events\[(\d+)\]/.exec(fieldError.path);
			if (match) named.add(Number(match[1]));
		}
		const refused = named.size > 0 ? batch.filter((_, i) => named.has(i)) : batch;
		const eventIds = refused.map((e) => e.id);
		this.#buffer.remove(eventIds);
		this.#stats.rejected += refused.length;
		this.#emit("error", { kind: "rejected", status: error.status, message: error.message, eventIds, problem: error.problem });
		this.#settleFlushes();
	}

	/** Resolves the flushes whose events are all gone, and all of them when delivery stopped. */
	#settleFlushes(): void {
		const now = this.#flushWaiters;
		if (now.length === 0) return;
		this.#flushWaiters = [];
		for (const waiter of now) {
			const done = !this.#buffer.holdsUpTo(waiter.mark);
			if (done || !this.#draining) {
				clearTimeout(waiter.timer);
				waiter.resolve({ ok: done, pending: this.#buffer.size });
			} else this.#flushWaiters.push(waiter);
		}
	}

	// ---- live mode and the browser ----------------------------------------------------

	#openSocket(): void {
		if (this.#live) return;
		const wsBase = this.#endpoint.replace(/^http/i, "ws");
		const path = `/v1/orgs/${encodeURIComponent(this.orgId)}/sessions/${encodeURIComponent(this.sessionId)}/ws`;
		this.#live = new LiveChannel({
			// A single-use ticket per connection: the API key never goes in a URL, which proxies and servers log.
			url: async (after) => `${wsBase}${path}?after=${after}&ticket=${encodeURIComponent(await this.#socketTicket())}`,
			WebSocket: this.#options.WebSocket,
			ackTimeoutMs: this.#options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs,
			onEvent: (event) => this.#emit("event", event),
			onServerError: (problem) =>
				this.#emit("error", { kind: "socket", status: problem.status, message: problem.detail ?? problem.title ?? "error", problem }),
			onOpen: () => {
				if (this.#buffer.size > 0) this.#wakeNow();
			},
		});
	}

	async #socketTicket(): Promise<string> {
		const res = await this.#fetch(`${this.#endpoint}/v1/orgs/${encodeURIComponent(this.orgId)}/socket-tickets`, {
			method: "POST",
			headers: { authorization: `Bearer ${this.#apiKey}` },
		});
		if (res.status !== 201) throw new Error(`socket ticket: HTTP ${res.status}`);
		return ((await res.json()) as { ticket: string }).ticket;
	}

	/** In a browser: keep the buffer across a reload, send what we can as the page goes, resume when back online. */
	#watchBrowser(): void {
		const win = browserWindow();
		if (!win) return;
		const online = () => {
			if (this.#buffer.size > 0) this.#wakeNow();
		};
		const leaving = () => {
			this.#buffer.save();
			this.#sendKeepalive();
		};
		// A hidden tab may be frozen or killed without a pagehide (mobile): send now and keep a copy.
		const hidden = () => {
			if (win.document.visibilityState !== "hidden") return;
			this.#buffer.save();
			if (this.#buffer.size > 0) this.#wakeNow();
		};
		win.addEventListener("online", online);
		win.addEventListener("pagehide", leaving);
		win.document.addEventListener("visibilitychange", hidden);
		this.#cleanups.push(() => {
			win.removeEventListener("online", online);
			win.removeEventListener("pagehide", leaving);
			win.document.removeEventListener("visibilitychange", hidden);
		});
	}

	/**
	 * The page is going away: one keepalive request with the head of the buffer, which the browser sends
	 * even after the page is gone. Its answer is never seen, so the events stay buffered; the next page
	 * resends them and the server reports them as duplicates.
	 */
	#sendKeepalive(): void {
		const batch = this.#buffer.peek(this.#batchSize, KEEPALIVE_BYTES);
		if (batch.length === 0 || JSON.stringify({ events: batch }).length > KEEPALIVE_BYTES) return;
		postBatch(this.#fetch, batchUrl(this.#endpoint, this.orgId, this.sessionId), this.#apiKey, batch, 10_000, true).catch(() => {});
	}

	#emit<K extends keyof Listeners>(type: K, value: Parameters<Listeners[K]>[0]): void {
		for (const listener of this.#listeners[type]) {
			try {
				(listener as (value: Parameters<Listeners[K]>[0]) => void)(value);
			} catch {
				// A listener's bug must not stop delivery.
			}
		}
	}
}

function clamp(n: number, min: number, max: number): number {
	return Math.min(max, Math.max(min, Math.floor(n)));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve();
		const timer = setTimeout(done, ms);
		// Like p-retry's own waits (unref: true), a Retry-After wait does not keep Node running.
		(timer as { unref?: () => void }).unref?.();
		function done() {
			clearTimeout(timer);
			signal.removeEventListener("abort", done);
			resolve();
		}
		signal.addEventListener("abort", done);
	});
}

function browserStorage(name: "localStorage" | "sessionStorage"): StorageLike | undefined {
	try {
		// Reading the property throws where storage is blocked (privacy settings, sandboxed frames).
		return (globalThis as unknown as Record<string, StorageLike | undefined>)[name];
	} catch {
		return undefined;
	}
}

function resolveStorage(storage: SessionOptions["storage"]): StorageLike | undefined {
	if (storage === "memory") return undefined;
	if (storage && storage !== "auto") return storage;
	return browserWindow() ? browserStorage("localStorage") : undefined;
}

/** One session per tab: sessionStorage survives a reload but not a new tab. */
function defaultSessionId(orgId: string): string {
	const store = browserWindow() ? browserStorage("sessionStorage") : undefined;
	const key = `roost:session:${orgId}`;
	try {
		const existing = store?.getItem(key);
		if (existing) return existing;
		const id = uuidv7();
		store?.setItem(key, id);
		return id;
	} catch {
		return uuidv7();
	}
}
