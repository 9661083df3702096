/**
 * The event-sourced actor kernel. Every actor kind is one of these, given its event catalog,
 * initial state and pure evolve. The kernel owns the log, snapshots, idempotency, optimistic
 * concurrency, the hash chain, reads at any version and WebSocket subscriptions.
 *
 * Everything between reading state and committing a batch is synchronous (DO SQLite is), so
 * two requests can never interleave inside an append, and a socket's catch-up and its live
 * events can never overlap or leave a gap.
 */

import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { type DrizzleSqliteDODatabase, drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { diff as diffJson } from "jsondiffpatch";
import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import migrations from "../../migrations/migrations.js";
import type { Env } from "../env.ts";
import type { FieldError } from "../events/catalog.ts";
import {
	type ActorRef,
	compactMeta,
	type EventEnvelope,
	type EventMeta,
	type ProposedEvent,
	type RecordedEvent,
} from "../events/envelope.ts";
import type { KeyScope } from "../events/org.ts";
import { eventForFold, recordedFromRow } from "../events/stored.ts";
import type { ActorDefinition } from "../reducers/definition.ts";
import { backoffDelay } from "./backoff.ts";
import { actorStub } from "./directory.ts";
import { faultPoint } from "./faults.ts";
import { chainText, GENESIS_HASH, type HashedFields } from "./hash.ts";
import { actorName, parseActorName } from "./identity.ts";
import { EventLog, type StoredEvent } from "./log.ts";
import { type ActorMessage, type OutboxMessage, OutboxStore, type PendingMessage } from "./outbox.ts";
import { type ActorError, fail, invalid, type Outcome, ok } from "./outcome.ts";
import { actorMeta, clientActions } from "./schema.ts";
import { type SnapshotInfo, SnapshotStore } from "./snapshots.ts";
import {
	type Bucket,
	CLOSE,
	KEY_CHECK_EVERY_MS,
	KEY_RATE,
	MAX_REFUSED_IN_A_ROW,
	MAX_SOCKET_LIFETIME_MS,
	MAX_SOCKETS_PER_KEY,
	parseSocketKey,
	SOCKET_KEY_HEADER,
	SOCKET_RATE,
	type SocketKey,
	type SocketState,
	takeToken,
} from "./socket-guard.ts";
import { type ClientMessage, parseClientMessage, type ServerMessage } from "./socket-messages.ts";
import { checkSpec, type Timer, type TimerChange, TimerStore } from "./timers.ts";

export interface AppendOptions {
	/** The version the caller last saw; a mismatch is a conflict, never an overwrite. */
	expectedVersion?: number;
	/** A retried action with the same id returns the first result instead of acting again. */
	clientActionId?: string;
	/** Merged into every event's metadata (each event's own meta wins). */
	meta?: EventMeta;
}

export interface AppendReceipt {
	version: number;
	appended: EventEnvelope[];
	/** Ids that were already in the log (or repeated in the batch) and were not appended again. */
	duplicates: string[];
}

/** Effects that must outlive the request, written in the same transaction as the events. */
export interface Effects {
	timers?: TimerChange[];
	outbox?: OutboxMessage[];
}

/** What a command decides: the events to append, the effects they cause, and the answer to give. */
export interface Plan<R, S = unknown> {
	events: ProposedEvent[];
	/** The answer; sees the receipt (seqs, duplicates) and the state after the events. */
	result: (receipt: AppendReceipt, state: S) => R;
	/** Effects of the appended events; sees the receipt (seqs, duplicates) and the state after them. */
	effects?: (receipt: AppendReceipt, state: S) => Effects;
}

/** What a timer's firing means: a plan, an error (retry later), or null (nothing to record). */
export type TimerPlan<S> = Plan<unknown, S> | ActorError | null;

export interface EventPage {
	events: EventEnvelope[];
	/** Pass as `after` for the next page; null when this page reached the end. */
	next: number | null;
}

export interface ChainReport {
	ok: boolean;
	version: number;
	headHash: string;
	brokenAt?: number;
	reason?: string;
}

export interface ReplayReport {
	version: number;
	/** The reducer version this code has, as `<kind>@<n>`. */
	reducerVersion: string;
	checked: number;
	snapshots: number;
	/** Where the replayed state differs: at which version, from what, and the JSON delta (jsondiffpatch format). */
	mismatches: { version: number; against: string; delta: unknown }[];
	ok: boolean;
}

/** An exported event as `GET .../events?raw=true` gives it (the envelope without `actor`; the hash, if kept, is checked). */
export type ImportedEvent = RecordedEvent & { hash?: string };

/** An imported event whose recomputed hash differs from the one it was exported with. */
class ImportMismatch extends Error {
	constructor(
		readonly index: number,
		readonly seq: number,
		message = `events[${index}] (seq ${seq}) hashes differently than it was exported: the export was altered`,
		readonly field = "hash",
	) {
		super(message);
	}
}

export interface KernelStatus {
	outbox: { pending: number; oldestAt: number | null; nextAttemptAt: number | null };
	/** The next timers by due time (at most 20); a parked one has `parkedAt` and does not fire. */
	timers: Pick<Timer, "name" | "kind" | "scheduledAt" | "dueAt" | "attempts" | "lastError" | "parkedAt">[];
}

export const MAX_PAGE = 1000;
/** Largest event data accepted, as JSON text; SQLite refuses rows over 2 MB. */
export const MAX_EVENT_DATA_BYTES = 1_000_000;
const MAX_ID_LENGTH = 200;
/** The last instant a JavaScript Date can hold: every stored `ts` is a valid date (kinds bound theirs more tightly). */
export const MAX_EVENT_TS = 8_640_000_000_000_000;
const DEFAULT_SNAPSHOT_EVERY = 200;
const MAX_TIMERS_PER_ALARM = 1000;
const OUTBOX_BATCH = 50;
const MAX_OUTBOX_ROUNDS = 20;
const NO_IDS: ReadonlySet<string> = new Set();
/** The actor_meta key that marks a sandbox. */
const SANDBOX_MARK = "sandbox";
/** The kernel's timer that re-checks open sockets' keys and lifetimes; armed only while a socket is open. */
export const SOCKET_CHECK_TIMER = "~sockets";
const keyTag = (keyId: string) => `key:${keyId}`;

/** SQLite's refusal of a second row with a stored event id (the events table's unique id index). */
function isDuplicateIdError(error: unknown): boolean {
	return error instanceof Error && error.message.includes("UNIQUE constraint failed: events.id");
}

export abstract class EventSourcedActor<S> extends Server<Env> {
	static override options = { hibernate: true };

	protected readonly db: DrizzleSqliteDODatabase;
	protected readonly log: EventLog;
	protected readonly snapshots: SnapshotStore;
	protected readonly timers: TimerStore;
	protected readonly outbox: OutboxStore;
	readonly snapshotEvery: number;

	#state: S;
	#draining: Promise<void> | undefined;
	/** When the alarm is set for, as far as this instance knows (null: none). */
	#armedAt: number | null = null;
	#version = 0;
	#head = GENESIS_HASH;
	#identity: ActorRef | undefined;
	#identityStored = false;
	/** Marked in actor_meta by the first import (or fork): a sandbox runs no timers, sends nothing and takes no live writes. */
	#sandbox = false;
	/** The org's last answer on each socket key: its live scope (null: not live), when it was asked, and a question in flight. */
	readonly #keyChecks = new Map<
		string,
		{ at: number; scope: KeyScope | null | undefined; pending?: Promise<KeyScope | null | undefined> }
	>();
	/** Per-key frame budgets on this actor (memory only: each socket's own budget is in its attachment). */
	readonly #keyBudgets = new Map<string, Bucket>();
	/** Client frames are handled one after another, in arrival order, even when one waits for a key check. */
	#inbox: Promise<void> = Promise.resolve();
	/** Fault-injection seam between the statements of an append's rows (src/actors/faults.ts; no-op unless a test arms it). */
	readonly #afterRows = () => faultPoint("append.after-rows", this.ctx);

	constructor(
		ctx: DurableObjectState,
		env: Env,
		protected readonly definition: ActorDefinition<S>,
	) {
		super(ctx, env);
		this.db = drizzle(ctx.storage);
		this.log = new EventLog(ctx.storage.sql);
		this.snapshots = new SnapshotStore(this.db, ctx.storage.sql);
		this.timers = new TimerStore(this.db, ctx.storage.sql);
		this.outbox = new OutboxStore(this.db, ctx.storage.sql);
		this.snapshotEvery = positiveInt(env.SNAPSHOT_EVERY) ?? DEFAULT_SNAPSHOT_EVERY;
		this.#state = definition.initialState();
		void ctx.blockConcurrencyWhile(async () => {
			await migrate(this.db, migrations);
			this.#loadIdentity();
			this.#rebuild();
			this.onWake();
			// Timers that came due while the object was down fire on this wake.
			this.#armedAt = await ctx.storage.getAlarm();
			await this.rearm();
		});
	}

	/**
	 * Runs once per wake, after state is rebuilt and before any request is served (and after the subclass's
	 * constructor, since the rebuild follows an await). An actor kind may append here, e.g. to close work that
	 * an earlier instance left open when it stopped.
	 */
	protected onWake(): void {}

	// ---- identity and state -------------------------------------------------------------

	/** Who this actor is; stored with its first event so a wake by alarm alone knows it. */
	get actor(): ActorRef {
		if (!this.#identity) this.#identity = parseActorName(this.definition.kind, this.name);
		return this.#identity;
	}

	get version(): number {
		return this.#version;
	}

	/** Current state. Treat as read-only: evolve returns new state, it never edits this one. */
	protected get state(): S {
		return this.#state;
	}

	get #tag(): string {
		return `${this.definition.kind}@${this.definition.reducerVersion}`;
	}

	#loadIdentity(): void {
		const row = this.db.select().from(actorMeta).where(eq(actorMeta.key, "identity")).get();
		if (row) {
			this.#identity = JSON.parse(row.value) as ActorRef;
			this.#identityStored = true;
		}
		this.#sandbox = this.db.select().from(actorMeta).where(eq(actorMeta.key, SANDBOX_MARK)).get() !== undefined;
	}

	/** Whether this actor is a sandbox (marked in storage by its first import), inert and closed to live writes. */
	protected get isSandbox(): boolean {
		return this.#sandbox;
	}

	/** The refusal every live write to a sandbox gets, or null for an ordinary actor; check it before any side effect. */
	protected refuseIfSandbox(): { ok: false; error: ActorError } | null {
		if (!this.#sandbox) return null;
		const { kind, id } = this.actor;
		const detail = `${kind} ${id} is a sandbox: it takes imports only, never live writes, and runs no timers, messages or models.`;
		return fail({ kind: "read_only", detail, errors: [{ path: "path.id", message: `${id} is a sandbox` }] });
	}

	/** Newest snapshot written by this reducer version, then the tail of the log after it. */
	#rebuild(): void {
		const head = this.log.head();
		const snapshot = this.snapshots.latest<S>(this.#tag, head.version);
		let state = snapshot?.state ?? this.definition.initialState();
		const from = snapshot?.version ?? 0;
		for (const row of this.log.range(from, head.version)) state = this.definition.evolve(state, eventForFold(row, this.definition.catalog));
		this.#state = state;
		this.#version = head.version;
		this.#head = head.hash;
		// A replay longer than the snapshot interval (new reducer, lost snapshot) is not repeated on the next wake.
		if (head.version - from >= this.snapshotEvery) {
			this.ctx.storage.transactionSync(() => {
				this.snapshots.write(head.version, this.#tag, state);
				faultPoint("wake.snapshot", this.ctx);
			});
		}
	}

	/** An event as readers see it: redacted by the kind's definition unless `unredacted` (server-side copies only). */
	#envelope(row: StoredEvent, raw = false, unredacted = false): EventEnvelope {
		const recorded = recordedFromRow(row, raw ? undefined : this.definition.catalog);
		const shown = unredacted ? recorded : (this.definition.redactEvent?.(recorded) ?? recorded);
		return { ...shown, actor: this.actor, hash: row.hash, ...(shown !== recorded ? { redacted: true as const } : {}) };
	}

	/** A state as readers see it. */
	#shownState<T>(state: T): T {
		return this.definition.redactState ? (this.definition.redactState(state as unknown as S) as unknown as T) : state;
	}

	// ---- appending ----------------------------------------------------------------------

	/**
	 * Runs a command: returns the first result again for a known client action id, checks
	 * expectedVersion, lets `plan` decide events from the current state, then validates, dedupes,
	 * reduces and commits them with their effects in one transaction, and pushes them to subscribers.
	 */
	protected execute<R>(options: AppendOptions, plan: (state: S, version: number) => Plan<R, S> | ActorError): Outcome<R> {
		return this.refuseIfSandbox() ?? this.#run(options, plan);
	}

	/** `firing`: the timer this command handles; it is moved on in the same transaction. */
	#run<R>(options: AppendOptions, plan: (state: S, version: number) => Plan<R, S> | ActorError, firing?: Timer): Outcome<R> {
		if (options.clientActionId) {
			const prior = this.db.select().from(clientActions).where(eq(clientActions.id, options.clientActionId)).get();
			if (prior) return ok(JSON.parse(prior.result) as R);
		}
		if (options.expectedVersion !== undefined && options.expectedVersion !== this.#version) {
			return fail({
				kind: "conflict",
				detail: `expected version ${options.expectedVersion} but the actor is at ${this.#version}`,
				currentVersion: this.#version,
			});
		}
		const decided = plan(this.#state, this.#version);
		if ("kind" in decided) return fail(decided);
		// Optimistic duplicate check: the first attempt assumes no proposed id is stored yet, and the events
		// table's unique id index settles it inside the commit. A batch that does repeat a stored id (an SDK
		// retry) rolls back and is staged again knowing which ids exist. That saves a lookup on every append.
		try {
			return this.#commit(decided, options, NO_IDS, firing);
		} catch (error) {
			if (!isDuplicateIdError(error)) throw error;
			const ids = decided.events.map((event) => event.id).filter((id) => typeof id === "string");
			return this.#commit(decided, options, this.log.existingIds(ids), firing);
		}
	}

	/** Stages the plan's events (`existing`: ids known to be stored) and commits them with their effects. */
	#commit<R>(decided: Plan<R, S>, options: AppendOptions, existing: ReadonlySet<string>, firing?: Timer): Outcome<R> {
		const staged = this.#stage(decided.events, options.meta, existing);
		if (!staged.ok) return staged;
		const { rows, envelopes, state, duplicates } = staged.value;
		const version = this.#version + rows.length;
		const receipt: AppendReceipt = { version, appended: envelopes, duplicates };
		const result = decided.result(receipt, state);
		// A sandbox's events cause nothing outside it: no timers, no messages to the org or to queues.
		const effects = this.#sandbox ? {} : (decided.effects?.(receipt, state) ?? {});
		const badTimer = invalidTimers(effects.timers);
		if (badTimer) return badTimer;
		const snapshotDue = rows.length > 0 && Math.floor(version / this.snapshotEvery) > Math.floor(this.#version / this.snapshotEvery);
		const now = this.now();

		// faultPoint: test-only seams (src/actors/faults.ts), no-ops unless a reliability test arms them.
		faultPoint("append.before-commit", this.ctx);
		let earliestSet: number | null = null;
		this.ctx.storage.transactionSync(() => {
			this.log.insert(rows, this.#afterRows);
			if (options.clientActionId) {
				this.db
					.insert(clientActions)
					.values({ id: options.clientActionId, result: JSON.stringify(result), version })
					.run();
			}
			if (!this.#identityStored && rows.length > 0) {
				this.db
					.insert(actorMeta)
					.values({ key: "identity", value: JSON.stringify(this.actor) })
					.onConflictDoNothing()
					.run();
			}
			if (firing) this.timers.advance(firing, now);
			if (effects.timers?.length) earliestSet = this.timers.apply(effects.timers, now);
			if (effects.outbox?.length) this.outbox.add(effects.outbox, now);
			if (snapshotDue) {
				faultPoint("append.before-snapshot", this.ctx);
				this.snapshots.write(version, this.#tag, state);
				faultPoint("append.after-snapshot", this.ctx);
			}
		});
		if (rows.length > 0) this.#identityStored = true;
		this.#state = state;
		this.#version = version;
		this.#head = rows.at(-1)?.hash ?? this.#head;
		this.#publish(envelopes);
		if (firing || effects.outbox?.length || (effects.timers?.length && !this.#alarmCovers(earliestSet))) this.ctx.waitUntil(this.rearm());
		return ok(result);
	}

	/** Appends events as they are; the receipt is the result. */
	protected append(events: ProposedEvent[], options: AppendOptions = {}): Outcome<AppendReceipt> {
		return this.execute(options, () => ({ events, result: (receipt) => receipt }));
	}

	/** Validates, dedupes and reduces proposed events without writing anything. */
	#stage(
		proposed: readonly ProposedEvent[],
		meta: EventMeta | undefined,
		existing: ReadonlySet<string>,
	): Outcome<{ rows: StoredEvent[]; envelopes: EventEnvelope[]; state: S; duplicates: string[] }> {
		const { catalog } = this.definition;
		const errors: FieldError[] = [];
		const checked: { event: ProposedEvent; at: string; v: number; data: unknown; dataText: string }[] = [];
		proposed.forEach((event, i) => {
			const at = event.at ?? `events[${i}]`;
			if (typeof event.id !== "string" || event.id.length === 0 || event.id.length > MAX_ID_LENGTH) {
				errors.push({ path: `${at}.id`, message: `must be a string of 1 to ${MAX_ID_LENGTH} characters` });
			}
			if (!Number.isSafeInteger(event.ts) || event.ts < 0 || event.ts > MAX_EVENT_TS) {
				errors.push({ path: `${at}.ts`, message: `must be an integer from 0 to ${MAX_EVENT_TS} (milliseconds since the epoch)` });
			}
			const result = catalog.validate(event.type, event.data, event.v, at);
			if (!result.ok) {
				errors.push(...result.errors);
				return;
			}
			const dataText = JSON.stringify(result.data);
			if (overBytes(dataText, MAX_EVENT_DATA_BYTES)) {
				errors.push({ path: `${at}.data`, message: `is larger than ${MAX_EVENT_DATA_BYTES} bytes of JSON` });
				return;
			}
			checked.push({ event, at, v: result.v, data: result.data, dataText });
		});
		if (errors.length > 0) return invalid(errors);

		const seen = new Set<string>();
		const duplicates: string[] = [];
		const rows: StoredEvent[] = [];
		const envelopes: EventEnvelope[] = [];
		let state = this.#state;
		let seq = this.#version;
		let prev = this.#head;
		for (const { event, at, v, data, dataText } of checked) {
			if (existing.has(event.id) || seen.has(event.id)) {
				duplicates.push(event.id);
				continue;
			}
			seen.add(event.id);
			seq++;
			const eventMeta = compactMeta({ ...meta, ...event.meta });
			const lifted = catalog.upcast(event.type, v, data);
			const recorded: RecordedEvent = {
				seq,
				id: event.id,
				type: event.type,
				v: lifted.v,
				ts: event.ts,
				data: lifted.data,
				meta: eventMeta,
			};
			try {
				state = this.definition.evolve(state, recorded);
			} catch (error) {
				const message = error instanceof Error ? error.message : String(error);
				return fail({
					kind: "rejected",
					detail: `${event.type} at ${at} was refused, so the whole batch was rejected: ${message}`,
					errors: [{ path: at, message }],
				});
			}
			const row: StoredEvent = {
				seq,
				id: event.id,
				type: event.type,
				v,
				ts: event.ts,
				data: dataText,
				meta: JSON.stringify(eventMeta),
				hash: "",
			};
			row.hash = fastChainHash(prev, row);
			prev = row.hash;
			rows.push(row);
			envelopes.push({ ...recorded, actor: this.actor, hash: row.hash });
		}
		return ok({ rows, envelopes, state, duplicates });
	}

	// ---- time: timers and the outbox ----------------------------------------------------

	/** The kernel's clock. Reducers never read it: time reaches them on events. */
	protected now(): number {
		return Date.now();
	}

	/**
	 * Handles a due timer: returns the events its firing means (and their effects), or null for
	 * none. Throwing, or returning an error, keeps the timer and retries it with backoff; a plan whose events
	 * fail validation (`invalid`) parks it instead (a retry of the same state would fail the same way).
	 */
	protected onTimer(timer: Timer, _state: S): TimerPlan<S> | Promise<TimerPlan<S>> {
		throw new Error(`${this.definition.kind} has no handler for timer "${timer.name}"`);
	}

	/** Turns a message from another actor into events. Its id makes a repeated delivery a no-op. */
	protected onActorMessage(message: ActorMessage, _state: S): Plan<unknown, S> | ActorError {
		return {
			kind: "invalid",
			detail: `${this.definition.kind} does not accept ${message.type} messages`,
			errors: [{ path: "type", message: "not accepted" }],
		};
	}

	/** Sets or cancels timers outside a command (no events). */
	protected changeTimers(changes: TimerChange[]): Outcome<{ timers: number }> {
		const refused = this.refuseIfSandbox();
		if (refused) return refused;
		const bad = invalidTimers(changes);
		if (bad) return bad;
		this.ctx.storage.transactionSync(() => this.timers.apply(changes, this.now()));
		this.ctx.waitUntil(this.rearm());
		return ok({ timers: this.timers.count() });
	}

	/** RPC: a message from another actor's outbox. Delivered at least once, acted on once. */
	receive(message: ActorMessage): Outcome<{ version: number }> {
		// The sender names the event that caused the message; the message id stands in when it does not.
		const meta = {
			...message.meta,
			causationId: message.meta.causationId ?? message.id,
			causationActor: `${message.from.kind}:${message.from.id}`,
		};
		return this.execute({ clientActionId: `~outbox:${message.id}`, meta }, (state) => {
			const planned = this.onActorMessage(message, state);
			if ("kind" in planned) return planned;
			return { ...planned, result: (receipt) => ({ version: receipt.version }) };
		});
	}

	override async onAlarm(): Promise<void> {
		// The alarm that is running is spent; the rearm at the end sets the next one.
		this.#armedAt = null;
		if (this.#sandbox) return;
		await this.#fireDueTimers(this.now());
		await this.#drainOutbox();
		await this.rearm();
	}

	/**
	 * Makes sure the single alarm fires no later than the earliest due timer or outbox retry, overdue
	 * ones included. An alarm already set earlier is left alone: when it fires with nothing due, the
	 * alarm handler re-arms for what is. So most appends, which only push a deadline later, cost no
	 * alarm write.
	 */
	protected async rearm(): Promise<void> {
		if (this.#sandbox) return;
		const timer = this.timers.earliestDue();
		const retry = this.outbox.nextAttemptAt();
		const next = timer === null ? retry : retry === null ? timer : Math.min(timer, retry);
		if (next === null) {
			if (this.#armedAt !== null) {
				this.#armedAt = null;
				await this.ctx.storage.deleteAlarm();
			}
			return;
		}
		if (this.#armedAt !== null && this.#armedAt <= next) return;
		this.#armedAt = next;
		await this.ctx.storage.setAlarm(next);
	}

	/**
	 * Whether the armed alarm already fires no later than timers just set to be due at `earliest` (null: only
	 * cancels). The armed alarm is never later than any due timer (rearm keeps it so), so then it still is, and
	 * rearm's two reads can be skipped. This is the common append: a session pushing its inactivity deadline on.
	 */
	#alarmCovers(earliest: number | null): boolean {
		return this.#armedAt !== null && (earliest === null || this.#armedAt <= earliest);
	}

	async #fireDueTimers(now: number): Promise<void> {
		let fired = 0;
		// Bounded per alarm so one wake never runs unbounded; the re-armed alarm picks up the rest at once.
		while (fired < MAX_TIMERS_PER_ALARM) {
			const due = this.timers.due(now, Math.min(200, MAX_TIMERS_PER_ALARM - fired));
			if (due.length === 0) return;
			for (const timer of due) {
				await this.#fire(timer, now);
				fired++;
			}
		}
	}

	async #fire(timer: Timer, now: number): Promise<void> {
		if (timer.name === SOCKET_CHECK_TIMER) return this.#socketCheckFired(timer);
		let outcome: Outcome<unknown>;
		try {
			faultPoint("timer.before-handler", this.ctx);
			const pending = this.onTimer(timer, this.#state);
			// Only an async handler yields here; its plan must not rely on state read before its await.
			const planned = pending instanceof Promise ? await pending : pending;
			faultPoint("timer.after-handler", this.ctx);
			outcome = this.#run({}, () => planned ?? { events: [], result: () => null }, timer);
		} catch (error) {
			outcome = fail({ kind: "rejected", detail: error instanceof Error ? error.message : String(error) });
		}
		if (outcome.ok) return;
		if (outcome.error.kind === "invalid") {
			// Its plan failed validation: the same state gives the same plan, so a retry would fail forever. Surface it instead.
			const detail = `${outcome.error.detail} ${outcome.error.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`.trim();
			console.error(`${this.definition.kind} timer "${timer.name}" parked after attempt ${timer.attempts + 1}: ${detail}`);
			this.ctx.storage.transactionSync(() => this.timers.park(timer, detail, now));
			return;
		}
		const retryAt = now + backoffDelay(timer.attempts + 1);
		console.warn(
			`${this.definition.kind} timer "${timer.name}" failed (attempt ${timer.attempts + 1}), retrying at ${new Date(retryAt).toISOString()}: ${outcome.error.detail}`,
		);
		this.ctx.storage.transactionSync(() => this.timers.failed(timer, outcome.error.detail, retryAt));
	}

	/** Delivers ready outbox messages; one drain at a time per object. */
	#drainOutbox(): Promise<void> {
		if (this.#sandbox) return Promise.resolve();
		// Cleared when the drain settles (asynchronously, after this assignment), even if it found nothing to send.
		this.#draining ??= this.#drainOnce().finally(() => {
			this.#draining = undefined;
		});
		return this.#draining;
	}

	async #drainOnce(): Promise<void> {
		for (let round = 0; round < MAX_OUTBOX_ROUNDS; round++) {
			const ready = this.outbox.ready(this.now(), OUTBOX_BATCH);
			if (ready.length === 0) return;
			for (const message of ready) await this.#deliver(message);
			if (ready.length < OUTBOX_BATCH) return;
		}
	}

	async #deliver(message: PendingMessage): Promise<void> {
		const envelope: ActorMessage = { id: message.id, from: this.actor, type: message.type, data: message.data, meta: message.meta ?? {} };
		try {
			faultPoint("outbox.before-delivery", this.ctx);
			if ("queue" in message.target) {
				await this.env[message.target.queue].send(envelope);
			} else {
				const outcome = await actorStub(this.env, message.target.actor).receive(envelope);
				if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.detail}`);
			}
			faultPoint("outbox.after-delivery", this.ctx);
			this.outbox.acknowledged(message.id);
		} catch (error) {
			const detail = error instanceof Error ? error.message : String(error);
			const retryAt = this.now() + backoffDelay(message.attempts + 1);
			console.warn(`${this.definition.kind} outbox message ${message.id} not delivered (attempt ${message.attempts + 1}): ${detail}`);
			this.outbox.failed(message, detail, retryAt);
		}
	}

	// ---- reading ------------------------------------------------------------------------

	/**
	 * Events after `after` in seq order; upcast to current versions unless `raw`. Redacted for readers unless
	 * `unredacted`, which only server code copying a log inside its org sets (a fork), never a route's query.
	 */
	readEvents(query: { after?: number; limit?: number; type?: string; raw?: boolean; unredacted?: boolean } = {}): EventPage {
		const after = Math.max(0, query.after ?? 0);
		const limit = Math.min(Math.max(1, query.limit ?? 100), MAX_PAGE);
		const rows = this.log.page(after, limit + 1, query.type);
		const more = rows.length > limit;
		const page = more ? rows.slice(0, limit) : rows;
		return { events: page.map((row) => this.#envelope(row, query.raw, query.unredacted)), next: more ? (page.at(-1)?.seq ?? null) : null };
	}

	/** One event by its id, or null. */
	eventById(id: string, raw = false): EventEnvelope | null {
		const row = this.log.byId(id);
		return row ? this.#envelope(row, raw) : null;
	}

	/** The state a stored snapshot holds, as written (null if it is missing or fails its checks). */
	snapshotAt(version: number): { version: number; reducerVersion: string; state: unknown } | null {
		const info = this.snapshots.list().find((s) => s.version === version);
		if (!info) return null;
		const state = this.snapshots.read<unknown>(version);
		return state === undefined ? null : { version, reducerVersion: info.reducerVersion, state: this.#shownState(state) };
	}

	/**
	 * What-if replay: folds the whole log again with the reducer this code has and compares the
	 * result with every stored snapshot and with the state in memory. A difference means evolve is
	 * not deterministic, or changed meaning without a new reducerVersion.
	 */
	replayCheck(): ReplayReport {
		const snapshots = new Map(this.snapshots.list().map((s) => [s.version, s]));
		const mismatches: ReplayReport["mismatches"] = [];
		let state = this.definition.initialState();
		let checked = 0;
		const compare = (version: number, stored: unknown, label: string) => {
			if (diffJson(stored, state) === undefined) return;
			// The delta is shown to readers: redacted, and named as such when only hidden fields differ.
			const delta = diffJson(this.#shownState(stored), this.#shownState(state)) ?? "differs only in redacted fields";
			mismatches.push({ version, against: label, delta });
		};
		for (const row of this.log.range(0, this.#version)) {
			state = this.definition.evolve(state, eventForFold(row, this.definition.catalog));
			checked++;
			const snapshot = snapshots.get(row.seq);
			if (!snapshot) continue;
			const stored = this.snapshots.read<unknown>(row.seq);
			if (stored === undefined) mismatches.push({ version: row.seq, against: `snapshot ${snapshot.reducerVersion}`, delta: "unreadable" });
			else compare(row.seq, stored, `snapshot ${snapshot.reducerVersion}`);
		}
		compare(this.#version, this.#state, "state in memory");
		return {
			version: this.#version,
			reducerVersion: this.#tag,
			checked,
			snapshots: snapshots.size,
			mismatches,
			ok: mismatches.length === 0,
		};
	}

	/**
	 * Appends exported events as they were (ids, timestamps, versions, data and meta kept), after
	 * validating and folding them like any append; effects are not run, so an imported actor is
	 * inert. The rows must continue this log's seq, and given hashes must come out the same, so an
	 * export imported into an empty actor reproduces its chain exactly.
	 */
	importEvents(rows: readonly ImportedEvent[]): Outcome<{ version: number; headHash: string; imported: number }> {
		if (!this.#sandbox && this.#version > 0) {
			const detail = `${this.actor.id} already has a live log: only an empty actor or a sandbox takes imports`;
			return fail({ kind: "read_only", detail, errors: [{ path: "path.id", message: "is not a sandbox" }] });
		}
		const errors: FieldError[] = [];
		rows.forEach((row, i) => {
			if (row.seq !== this.#version + i + 1)
				errors.push({ path: `events[${i}].seq`, message: `must be ${this.#version + i + 1}: imports continue the log without gaps` });
		});
		if (errors.length > 0) return invalid(errors, "The events do not continue this log.");
		const proposed: ProposedEvent[] = rows.map((row, i) => ({
			id: row.id,
			type: row.type,
			v: row.v,
			ts: row.ts,
			data: row.data,
			meta: row.meta,
			at: `events[${i}]`,
		}));
		try {
			return this.#importNow(rows, proposed);
		} catch (error) {
			// Raised while the answer is computed, before anything is written.
			if (error instanceof ImportMismatch)
				return invalid([{ path: `events[${error.index}].${error.field}`, message: error.message }], error.message);
			throw error;
		}
	}

	#importNow(rows: readonly ImportedEvent[], proposed: ProposedEvent[]): Outcome<{ version: number; headHash: string; imported: number }> {
		this.#markSandbox();
		// Straight to #run: execute refuses sandboxes, and imports are the one way a sandbox is written.
		return this.#run({}, () => ({
			events: proposed,
			result: (receipt) => {
				const repeated = receipt.duplicates[0];
				if (repeated !== undefined) {
					const index = rows.findIndex((row) => row.id === repeated);
					throw new ImportMismatch(index, rows[index]?.seq ?? 0, `events[${index}] has id ${repeated}, which this log already holds`, "id");
				}
				receipt.appended.forEach((event, i) => {
					const given = rows[i]?.hash;
					if (given !== undefined && given !== event.hash) throw new ImportMismatch(i, event.seq);
				});
				return { version: receipt.version, headHash: receipt.appended.at(-1)?.hash ?? this.#head, imported: receipt.appended.length };
			},
		}));
	}

	/** Marks this actor a sandbox in storage, before its first imported event: from then on it is inert for good. */
	#markSandbox(): void {
		if (this.#sandbox) return;
		// Only an empty actor gets here (importEvents refuses a live one), so there are no timers or messages to drop.
		this.db.insert(actorMeta).values({ key: SANDBOX_MARK, value: "true" }).onConflictDoNothing().run();
		this.#sandbox = true;
	}

	/** State now, or as it was at version `at` (from the nearest snapshot at or below it). */
	readState(at?: number): Outcome<{ version: number; state: S; kernel?: KernelStatus }> {
		if (at === undefined) return ok({ version: this.#version, state: this.#shownState(this.#state), kernel: this.kernelStatus() });
		if (at === this.#version) return ok({ version: this.#version, state: this.#shownState(this.#state) });
		if (!Number.isSafeInteger(at) || at < 0 || at > this.#version) {
			return invalid([{ path: "at", message: `must be an integer from 0 to the current version ${this.#version}` }]);
		}
		return ok({ version: at, state: this.#shownState(this.stateAt(at)) });
	}

	/** Timers and outbox depth: the work this actor still owes the world. */
	kernelStatus(): KernelStatus {
		return {
			outbox: this.outbox.depth(),
			timers: this.timers.list(20).map(({ name, kind, scheduledAt, dueAt, attempts, lastError, parkedAt }) => ({
				name,
				kind,
				scheduledAt,
				dueAt,
				attempts,
				lastError,
				parkedAt,
			})),
		};
	}

	/** The fold of the log's first `at` events. */
	protected stateAt(at: number): S {
		const snapshot = this.snapshots.latest<S>(this.#tag, at);
		let state = snapshot?.state ?? this.definition.initialState();
		for (const row of this.log.range(snapshot?.version ?? 0, at))
			state = this.definition.evolve(state, eventForFold(row, this.definition.catalog));
		return state;
	}

	/** Recomputes the hash chain end to end. */
	verifyChain(): ChainReport {
		const check = this.log.verify();
		const base = { version: this.#version, headHash: this.#head };
		if (!check.ok) return { ok: false, ...base, brokenAt: check.brokenAt, reason: check.reason };
		// A chain that verifies but stops short of the version this actor committed has lost its tail.
		const head = this.log.head();
		if (head.version !== this.#version || head.hash !== this.#head) {
			return {
				ok: false,
				...base,
				brokenAt: head.version + 1,
				reason: `the log ends at seq ${head.version} but the actor committed ${this.#version}`,
			};
		}
		return { ok: true, ...base };
	}

	describe(): { actor: ActorRef; version: number; headHash: string; snapshotEvery: number; snapshots: SnapshotInfo[] } {
		return {
			actor: this.actor,
			version: this.#version,
			headHash: this.#head,
			snapshotEvery: this.snapshotEvery,
			snapshots: this.snapshots.list(),
		};
	}

	// ---- subscriptions ------------------------------------------------------------------

	/** Refuses a key's upgrade past MAX_SOCKETS_PER_KEY open sockets on this actor, before the socket is accepted. */
	override async fetch(request: Request): Promise<Response> {
		const key = parseSocketKey(request.headers.get(SOCKET_KEY_HEADER));
		if (key && request.headers.get("upgrade")?.toLowerCase() === "websocket" && this.#socketCount(key.id) >= MAX_SOCKETS_PER_KEY) {
			const detail = `This API key already holds ${MAX_SOCKETS_PER_KEY} sockets open on this actor; close one first.`;
			return Response.json(
				{ type: "about:blank", title: "Too many sockets", status: 429, detail },
				{ status: 429, headers: { "content-type": "application/problem+json", "retry-after": "60" } },
			);
		}
		return super.fetch(request);
	}

	override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
		const key = parseSocketKey(ctx.request.headers.get(SOCKET_KEY_HEADER));
		return key ? [keyTag(key.id)] : [];
	}

	#socketCount(keyId: string): number {
		let n = 0;
		for (const _ of this.getConnections(keyTag(keyId))) n++;
		return n;
	}

	override onConnect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
		// Only the Worker sets the key header (it replaces any client value); an ingest key's socket is send-only.
		const key = parseSocketKey(ctx.request.headers.get(SOCKET_KEY_HEADER));
		const opened: SocketState = { ...(key ? { key } : {}), openedAt: this.now() };
		if (key) this.#armSocketCheck();
		if (key?.scope === "ingest") {
			// Its frames are answered (acks, errors), and no events are pushed to it.
			this.send(connection, { t: "hello", version: this.#version, actor: this.actor, sendOnly: true });
			connection.setState({ ...opened, sendOnly: true });
			return;
		}
		const after = Number(new URL(ctx.request.url).searchParams.get("after") ?? "0");
		const from = Number.isSafeInteger(after) && after >= 0 ? after : 0;
		this.send(connection, { t: "hello", version: this.#version, actor: this.actor });
		if (from > this.#version) {
			this.send(connection, {
				t: "error",
				status: 409,
				title: "Ahead of the log",
				detail: `after=${from} is beyond the current version ${this.#version}`,
			});
		}
		this.#sendRange(connection, from, this.#version);
		connection.setState({ ...opened, cursor: Math.max(from, this.#version) });
	}

	override onMessage(connection: Connection<SocketState>, message: WSMessage): Promise<void> {
		if (!this.#withinBudget(connection)) return Promise.resolve();
		const handled = this.#inbox.then(() => this.#handleFrame(connection, message));
		this.#inbox = handled.catch(() => {});
		return handled;
	}

	override onClose(connection: Connection): void {
		for (const other of this.getConnections()) if (other.id !== connection.id) return;
		this.#disarmSocketCheck();
	}

	async #handleFrame(connection: Connection<SocketState>, message: WSMessage): Promise<void> {
		if (!(await this.#socketStillAllowed(connection))) return;
		const parsed = parseClientMessage(message, this.clientMessageSchemas());
		if (!parsed.ok) {
			this.send(connection, { t: "error", status: 400, title: "Invalid message", detail: parsed.detail, errors: parsed.errors });
			return;
		}
		if (parsed.message.t === "ping") {
			this.send(connection, { t: "pong" });
			return;
		}
		this.onClientMessage(connection, parsed.message);
	}

	/**
	 * Spends a token of the socket's budget (kept in its attachment, so it survives hibernation) and of its key's
	 * on this actor. A refused frame is answered 429 with retry-after; too many refused in a row close the socket.
	 */
	#withinBudget(connection: Connection<SocketState>): boolean {
		const state = connection.state ?? {};
		const now = this.now();
		const own = takeToken(state.budget, SOCKET_RATE, now);
		const keyId = state.key?.id;
		const shared = own.ok && keyId !== undefined ? takeToken(this.#keyBudgets.get(keyId), KEY_RATE, now) : undefined;
		if (shared && keyId !== undefined) this.#keyBudgets.set(keyId, shared.bucket);
		const refusal = !own.ok ? own : shared && !shared.ok ? shared : undefined;
		const refused = refusal ? (state.refused ?? 0) + 1 : 0;
		connection.setState({ ...state, budget: own.bucket, refused });
		if (!refusal) return true;
		if (refused > MAX_REFUSED_IN_A_ROW) {
			this.#close(connection, CLOSE.tooManyMessages);
			return false;
		}
		this.send(connection, {
			t: "error",
			status: 429,
			title: "Too many messages",
			detail: `This ${refusal === own ? "socket" : "API key"} sent more frames than its budget; retry after ${refusal.retryAfterSeconds} seconds.`,
			retryAfter: refusal.retryAfterSeconds,
		});
		return false;
	}

	// ---- socket credentials: live keys and lifetimes -------------------------------------

	/** Whether the socket may still be used: within its lifetime, and its key live with the scope it was opened with. Closes it if not. */
	async #socketStillAllowed(connection: Connection<SocketState>, fresh = false): Promise<boolean> {
		const state = connection.state;
		if (state?.openedAt !== undefined && this.now() - state.openedAt >= MAX_SOCKET_LIFETIME_MS) {
			this.#close(connection, CLOSE.lifetime);
			return false;
		}
		if (!state?.key) return true;
		const scope = await this.#liveScope(state.key.id, fresh);
		return this.#keyVerdict(connection, state.key, scope);
	}

	#keyVerdict(connection: Connection, key: SocketKey, scope: KeyScope | null | undefined): boolean {
		if (scope === undefined || scope === key.scope) return true;
		this.#close(connection, scope === null ? CLOSE.revoked : CLOSE.scopeChanged);
		return false;
	}

	/**
	 * The key's live scope (null: not live; undefined: the org could not be asked), asked of the org when the last
	 * answer is older than KEY_CHECK_EVERY_MS, or always if `fresh`. One question per key at a time.
	 */
	#liveScope(keyId: string, fresh = false): Promise<KeyScope | null | undefined> {
		const known = this.#keyChecks.get(keyId);
		if (known?.pending) return known.pending;
		if (known && !fresh && this.now() - known.at < KEY_CHECK_EVERY_MS) return Promise.resolve(known.scope);
		const pending = this.liveKeyScope(keyId).then(
			(scope) => {
				this.#keyChecks.set(keyId, { at: this.now(), scope });
				return scope;
			},
			(error) => {
				// The org did not answer: keep the last verdict until the next check; an outage never closes a socket.
				console.warn(`${this.definition.kind}: key check failed: ${error instanceof Error ? error.message : error}`);
				this.#keyChecks.set(keyId, { at: this.now(), scope: known?.scope });
				return known?.scope;
			},
		);
		this.#keyChecks.set(keyId, { at: known?.at ?? 0, scope: known?.scope, pending });
		return pending;
	}

	/** The scope of the org's key `keyId` if it is live, else null. The org actor answers from its own state. */
	protected liveKeyScope(keyId: string): Promise<KeyScope | null> {
		const { org } = this.actor;
		return this.env.ORG.getByName(actorName(org, org)).liveKeyScope(keyId);
	}

	/** Closes every socket opened with `keyId` now (the org does on revocation). */
	protected closeSocketsOfKey(keyId: string): void {
		this.#keyChecks.set(keyId, { at: this.now(), scope: null });
		for (const connection of this.getConnections(keyTag(keyId))) this.#close(connection, CLOSE.revoked);
	}

	#close(connection: Connection, why: { code: number; reason: string }): void {
		try {
			connection.close(why.code, why.reason);
		} catch {
			// Already closing.
		}
	}

	/** The timer's firing: asks the org afresh about every open socket's key and closes what is no longer allowed. */
	async #socketCheckFired(timer: Timer): Promise<void> {
		const sockets = [...this.getConnections<SocketState>()];
		await Promise.all([...new Set(sockets.flatMap((c) => (c.state?.key ? [c.state.key.id] : [])))].map((id) => this.#liveScope(id, true)));
		for (const connection of sockets) await this.#socketStillAllowed(connection);
		if (sockets.some((c) => c.state?.key)) this.#run({}, () => ({ events: [], result: () => null }), timer);
		else this.#disarmSocketCheck();
	}

	#armSocketCheck(): void {
		if (this.timers.get(SOCKET_CHECK_TIMER)) return;
		this.ctx.storage.transactionSync(() =>
			this.timers.apply([{ name: SOCKET_CHECK_TIMER, spec: { every: KEY_CHECK_EVERY_MS } }], this.now()),
		);
		this.ctx.waitUntil(this.rearm());
	}

	#disarmSocketCheck(): void {
		if (!this.timers.get(SOCKET_CHECK_TIMER)) return;
		this.ctx.storage.transactionSync(() => this.timers.apply([{ name: SOCKET_CHECK_TIMER, cancel: true }], this.now()));
		this.ctx.waitUntil(this.rearm());
	}

	/** Message types beyond ping that this actor kind accepts, as zod schemas by `t`. */
	protected clientMessageSchemas(): Parameters<typeof parseClientMessage>[1] {
		return {};
	}

	protected onClientMessage(connection: Connection, message: ClientMessage): void {
		this.send(connection, { t: "error", status: 400, title: "Invalid message", detail: `unsupported message type "${message.t}"` });
	}

	protected send(connection: Connection, message: ServerMessage): void {
		try {
			connection.send(JSON.stringify(message));
		} catch {
			// The socket closed under us; its client resumes from its last seq when it reconnects.
		}
	}

	/** Sends the events in (after, upTo] to one socket, paged so a long backlog is never loaded at once. */
	#sendRange(connection: Connection, after: number, upTo: number): void {
		let cursor = after;
		while (cursor < upTo) {
			const page = this.log.page(cursor, MAX_PAGE).filter((row) => row.seq <= upTo);
			if (page.length === 0) break;
			for (const row of page) this.send(connection, { t: "event", event: this.#envelope(row) });
			cursor = page.at(-1)?.seq ?? upTo;
		}
	}

	/**
	 * Publishing cannot wait for the org: a socket past its lifetime, or whose key the last answer says is not
	 * live, is closed and skipped; a key whose answer is stale is asked again in the background.
	 */
	#mayReceive(connection: Connection<SocketState>, state: SocketState | null): boolean {
		if (state?.openedAt !== undefined && this.now() - state.openedAt >= MAX_SOCKET_LIFETIME_MS) {
			this.#close(connection, CLOSE.lifetime);
			return false;
		}
		const key = state?.key;
		if (!key) return true;
		const known = this.#keyChecks.get(key.id);
		if (known && known.at > 0 && !this.#keyVerdict(connection, key, known.scope)) return false;
		if (!known || (!known.pending && this.now() - known.at >= KEY_CHECK_EVERY_MS))
			this.ctx.waitUntil(this.#liveScope(key.id).then((scope) => void this.#keyVerdict(connection, key, scope)));
		return true;
	}

	/** Pushes newly committed events to every subscribed socket, each exactly once by seq. */
	#publish(envelopes: readonly EventEnvelope[]): void {
		const first = envelopes[0];
		if (!first) return;
		let frames: string[] | undefined;
		for (const connection of this.getConnections<SocketState>()) {
			const state = connection.state;
			if (!this.#mayReceive(connection, state)) continue;
			// A socket still inside onConnect has no cursor yet (its catch-up covers these events); a send-only socket never has one.
			const cursor = state && "cursor" in state ? state.cursor : undefined;
			if (cursor === undefined || cursor >= this.#version) continue;
			if (cursor >= first.seq - 1) {
				frames ??= envelopes.map((event) => JSON.stringify({ t: "event", event } satisfies ServerMessage));
				for (let i = cursor - first.seq + 1; i < frames.length; i++) {
					try {
						connection.send(frames[i] as string);
					} catch {
						break;
					}
				}
			} else {
				this.#sendRange(connection, cursor, this.#version);
			}
			connection.setState({ ...state, cursor: this.#version });
		}
	}
}

const encoder = new TextEncoder();

/** The chain hash of hash.ts, computed with the runtime's native SHA-256 (node:crypto under nodejs_compat): the hot path. */
function fastChainHash(prev: string, row: HashedFields): string {
	return createHash("sha256").update(chainText(prev, row)).digest("hex");
}

/** Checks timer specs before anything is written, so a bad one is an error value, not a failed transaction. */
function invalidTimers(changes: readonly TimerChange[] | undefined): { ok: false; error: ActorError } | undefined {
	const errors: FieldError[] = [];
	changes?.forEach((change, i) => {
		if ("cancel" in change) return;
		try {
			checkSpec(change.spec);
		} catch (error) {
			errors.push({ path: `timers[${i}].spec`, message: `${change.name}: ${error instanceof Error ? error.message : String(error)}` });
		}
	});
	return errors.length > 0 ? invalid(errors, "A timer cannot be scheduled.") : undefined;
}

/** Whether text is longer than `max` bytes as UTF-8; only encodes when it could be. */
export function overBytes(text: string, max: number): boolean {
	return text.length * 3 > max && encoder.encode(text).length > max;
}

/** A positive integer from an environment variable, or undefined when it is unset or not one. */
export function positiveInt(value: string | undefined): number | undefined {
	const n = Number(value);
	return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
