/**
 * The event-sourced actor kernel. Every actor kind is one of these, given its event catalog, initial state and pure evolve. The
 * kernel composes parts with one concern each (src/actors/kernel/): the append path, timers, outbox delivery, socket subscriptions
 * and key checks, inline projections, the actor's own facts (identity, sandbox mark) and the reads. Parts with work due later
 * (timers, outbox, a projection's rebuild) share the one alarm, which is armed for the earliest any of them asks for.
 */

import { type DrizzleSqliteDODatabase, drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { type Connection, type ConnectionContext, Server, type WSMessage } from "partyserver";
import migrations from "../../migrations/migrations.js";
import { GENESIS_HASH } from "../core/hash.ts";
import type { ActorHealth } from "../core/health.ts";
import { actorName, parseActorName } from "../core/identity.ts";
import { metricsFor } from "../core/metrics.ts";
import type { ActorError, Outcome } from "../core/outcome.ts";
import { positiveInt } from "../core/settings.ts";
import type { Env } from "../env.ts";
import type { ActorRef, EventEnvelope, ProposedEvent, RecordedEvent } from "../events/envelope.ts";
import { ERASE_MESSAGE } from "../events/erasure.ts";
import { isKernelEventType } from "../events/kernel.ts";
import type { KeyRole } from "../events/org.ts";
import type { ActorDefinition } from "../reducers/definition.ts";
import { ClientActionLedger } from "./client-actions.ts";
import { ActorMeta } from "./kernel/actor-meta.ts";
import { type CompactionReport, compactLog } from "./kernel/compaction.ts";
import type { ExternalVerdict } from "./kernel/courier.ts";
import { clearActorStorage, eraseActor } from "./kernel/erase.ts";
import { rebuildHead } from "./kernel/fold.ts";
import { actorHealth } from "./kernel/health.ts";
import { type KernelHost, type LogHead, makeHost } from "./kernel/host.ts";
import { importEvents } from "./kernel/import.ts";
import type { DeadLetter, ParkedAction, ParkedActionResult } from "./kernel/parking.ts";
import { composeParts, type KernelParts } from "./kernel/parts.ts";
import type * as Kernel from "./kernel/types.ts";
import type { AppendOptions, ChainReport, EventPage, ImportedEvent, KernelStatus, Plan, ReplayReport, TimerPlan } from "./kernel/types.ts";
import { EventLog } from "./log.ts";
import { actorInteractionsPrefix, interactionArchive } from "./org-objects.ts";
import type { ActorMessage, PendingMessage } from "./outbox.ts";
import { OutboxStore } from "./outbox.ts";
import type { ParkedPage } from "./parked-index.ts";
import type { SnapshotInfo } from "./snapshots.ts";
import { SnapshotStore } from "./snapshots.ts";
import type { SocketState } from "./socket-guard.ts";
import type { ClientMessage, parseClientMessage, ServerMessage } from "./socket-messages.ts";
import { type Timer, type TimerChange, TimerStore } from "./timers.ts";

/** The kinds read their settings with it. */
export { positiveInt } from "../core/settings.ts";
/** The kernel's types (plans, receipts, effects, pages, reports) are part of the actor's surface. */
export type * from "./kernel/types.ts";

const DEFAULT_SNAPSHOT_EVERY = 200;

/** `P`: the events this kind may propose (`ProposalOf<typeof catalog>`); the default takes any. */
export abstract class EventSourcedActor<S, P extends ProposedEvent = ProposedEvent> extends Server<Env> {
	static override options = { hibernate: true };

	protected readonly db: DrizzleSqliteDODatabase;
	protected readonly log: EventLog;
	protected readonly snapshots: SnapshotStore;
	protected readonly timers: TimerStore;
	protected readonly outbox: OutboxStore;
	readonly snapshotEvery: number;

	readonly #head: LogHead<S>;
	readonly #meta: ActorMeta;
	#identity: ActorRef | undefined;
	readonly #host: KernelHost<S>;
	/** The kernel's parts (src/actors/kernel/parts.ts): append path, timers, outbox courier and alarm, parking, sockets, reads. */
	readonly #parts: KernelParts<S>;

	constructor(
		ctx: DurableObjectState,
		env: Env,
		protected readonly definition: ActorDefinition<S>,
	) {
		super(ctx, env);
		this.db = drizzle(ctx.storage);
		this.log = new EventLog(ctx.storage.sql);
		this.snapshotEvery = positiveInt(env.SNAPSHOT_EVERY) ?? DEFAULT_SNAPSHOT_EVERY;
		this.snapshots = new SnapshotStore(this.db, ctx.storage.sql, this.snapshotEvery);
		this.timers = new TimerStore(this.db, ctx.storage.sql);
		this.outbox = new OutboxStore(this.db, ctx.storage.sql);
		this.#head = { state: definition.initialState(), version: 0, hash: GENESIS_HASH };
		this.#meta = new ActorMeta(this.db);
		const clientActions = new ClientActionLedger(this.db, ctx.storage.sql, env);
		this.#host = makeHost(
			{ definition: () => this.definition, actor: () => this.actor, now: () => this.now(), rearm: () => this.rearm() },
			{ ctx, env, db: this.db, log: this.log, snapshots: this.snapshots, timers: this.timers, outbox: this.outbox, clientActions },
			{ meta: this.#meta, head: this.#head, snapshotEvery: this.snapshotEvery },
		);
		this.#parts = composeParts(this.#host, {
			onTimer: (timer, state) => this.onTimer(timer, state),
			deliverExternal: (message) => this.deliverExternal(message),
			commitEffects: (receipt, state) => this.commitEffects(receipt, state),
			liveKeyRole: (keyId) => this.liveKeyRole(keyId),
			connections: (tag) => this.getConnections(tag),
			send: (connection, message) => this.send(connection, message),
			clientMessageSchemas: () => this.clientMessageSchemas(),
			onClientMessage: (connection, message) => this.onClientMessage(connection, message),
		});
		void ctx.blockConcurrencyWhile(async () => {
			await migrate(this.db, migrations);
			this.#meta.load();
			if (this.#meta.identity) this.#identity = this.#meta.identity;
			rebuildHead(this.#host, this.#parts.projections);
			this.onWake();
			// Timers that came due while the object was down fire on this wake.
			await this.#parts.schedule.load();
			await this.rearm();
		});
	}

	/**
	 * Runs once per wake, after state is rebuilt and before any request is served (and after the subclass's constructor, since
	 * the rebuild follows an await). An actor kind may append here, e.g. to close work an earlier instance left open.
	 */
	protected onWake(): void {}

	// ---- identity and state -------------------------------------------------------------

	/** Who this actor is; stored with its first event so a wake by alarm alone knows it. */
	get actor(): ActorRef {
		if (!this.#identity) this.#identity = parseActorName(this.definition.kind, this.name);
		return this.#identity;
	}

	get version(): number {
		return this.#head.version;
	}

	/** Current state. Treat as read-only: evolve returns new state, it never edits this one. */
	protected get state(): S {
		return this.#head.state;
	}

	/** Whether this actor is a sandbox (marked in storage by its first import), inert and closed to live writes. */
	protected get isSandbox(): boolean {
		return this.#meta.isSandbox;
	}

	/** The refusal every live write to a sandbox gets, or null for an ordinary actor; check it before any side effect. */
	protected refuseIfSandbox(): { ok: false; error: ActorError } | null {
		return this.#meta.refuseIfSandbox(this.actor);
	}

	// ---- commands -----------------------------------------------------------------------

	/**
	 * Runs a command: returns the first result again for a known client action id, checks expectedVersion, lets `plan` decide
	 * events from the current state, then validates, dedupes, reduces and commits them with their effects (and projections) in
	 * one transaction, and pushes them to subscribers.
	 */
	protected execute<R>(options: AppendOptions, plan: (state: S, version: number) => Plan<R, S, P> | ActorError): Outcome<R> {
		return this.refuseIfSandbox() ?? this.#parts.append.run(options, plan);
	}

	/** The kernel's clock. Reducers never read it: time reaches them on events. */
	protected now(): number {
		return Date.now();
	}

	/**
	 * Handles a due timer: returns the events its firing means (and their effects), or null for none. Throwing, or returning an
	 * error, keeps the timer and retries it with backoff; a plan whose events fail validation (`invalid`) parks it instead.
	 */
	protected onTimer(timer: Timer, _state: S): TimerPlan<S, P> | Promise<TimerPlan<S, P>> {
		throw new Error(`${this.definition.kind} has no handler for timer "${timer.name}"`);
	}

	/** Turns a message from another actor into events. Its id makes a repeated delivery a no-op. */
	protected onActorMessage(message: ActorMessage, _state: S): Plan<unknown, S, P> | ActorError {
		return {
			kind: "invalid",
			detail: `${this.definition.kind} does not accept ${message.type} messages`,
			errors: [{ path: "type", message: "not accepted" }],
		};
	}

	/** Effects every commit of this kind causes, whatever command made it (the org's webhook deliveries); none by default. */
	protected commitEffects(_receipt: Kernel.AppendReceipt, _state: S): Kernel.Effects {
		return {};
	}

	/** Sends an outbox message to the outside world (a `{ webhook }` target); only kinds that record such messages override it. */
	protected deliverExternal(message: PendingMessage): Promise<ExternalVerdict> {
		return Promise.reject(new Error(`${this.definition.kind} cannot deliver ${JSON.stringify(message.target)}`));
	}

	/** Sets or cancels timers outside a command (no events). */
	protected changeTimers(changes: TimerChange[]): Outcome<{ timers: number }> {
		return this.refuseIfSandbox() ?? this.#parts.timers.change(changes);
	}

	/** RPC: a message from another actor's outbox. Delivered at least once, acted on once. An `erase` from the org clears the actor. */
	receive(message: ActorMessage): Outcome<{ version: number }> | Promise<Outcome<{ version: number }>> {
		if (message.type === ERASE_MESSAGE) {
			return eraseActor(this.#host, message, {
				eraseObjects: () => this.eraseObjects(),
				clearStorage: () => clearActorStorage(this.#host, this.#parts, this.getConnections(), this.definition.initialState()),
			});
		}
		return this.recordMessage(message);
	}

	/** Records a message from another actor (any but `erase`), deduped by its id: what `receive` does with it, synchronously. */
	protected recordMessage(message: ActorMessage): Outcome<{ version: number }> {
		// The sender names the event that caused the message; the message id stands in when it does not.
		const meta = {
			...message.meta,
			causationId: message.meta.causationId ?? message.id,
			causationActor: `${message.from.kind}:${message.from.id}`,
		};
		const options = { clientActionId: `~outbox:${message.id}`, meta };
		// The kernel's own messages (an actor's parked work, reported to its org) never reach the kind.
		if (isKernelEventType(message.type))
			return this.refuseIfSandbox() ?? this.#parts.append.run(options, () => this.#parts.parking.received(message));
		return this.execute(options, (state) => {
			const planned = this.onActorMessage(message, state);
			if ("kind" in planned) return planned;
			return { ...planned, result: (receipt) => ({ version: receipt.version }) };
		});
	}

	// ---- parked work (src/actors/kernel/parking.ts, docs/operations.md) ----------------------

	/** Retries or discards the work this actor parked with the `kernel.work_parked` event at `seq`; idempotent. */
	actOnParked(seq: number, how: ParkedAction): Outcome<ParkedActionResult> {
		return this.refuseIfSandbox() ?? this.#parts.parking.act(seq, how);
	}

	/** The org's list of parked work across its actors (empty on other actors). */
	parkedWork(query: { after?: number; limit?: number } = {}): ParkedPage {
		return this.#parts.parking.page(query.after ?? 0, Math.min(Math.max(query.limit ?? 100, 1), 500));
	}

	/** Records a dead letter as this actor's parked work (the org's, from src/dead-letters.ts). */
	protected parkDeadLetter(input: DeadLetter): Outcome<null> {
		return this.#parts.parking.parkDeadLetter(input);
	}

	/** Moves the log's prefix older than `before` (ms) to R2 segments and keeps a checkpoint (src/actors/kernel/compaction.ts). */
	async compactLog(query: { before: number }): Promise<Outcome<CompactionReport>> {
		return this.refuseIfSandbox() ?? compactLog(this.#host, query);
	}

	parkedByKind(): Record<string, number> {
		return this.#parts.parking.index.countsByKind();
	}

	/** Health figures: outbox, timers, parked work, sockets, snapshot lag, storage (docs/operations.md). */
	health(): ActorHealth {
		let sockets = 0;
		for (const _ of this.getConnections()) sockets++;
		return actorHealth(this.#host, sockets);
	}

	/** What the kind keeps outside its storage that an erasure deletes (default: its archived interactions in R2); answers how many went. */
	protected eraseObjects(): Promise<number> {
		const { org, kind, id } = this.actor;
		return interactionArchive(this.env.ARCHIVE, org).deleteAll(actorInteractionsPrefix(kind, id));
	}

	override async onAlarm(): Promise<void> {
		// A sandbox runs nothing but its own expiry (src/actors/kernel/sandbox-expiry.ts).
		if (this.isSandbox) return this.#parts.expiry.fire();
		const { latenessMs, work } = await this.#parts.schedule.fire(() => this.now());
		metricsFor(this.env.METRICS).alarm(this.actor.org, this.actor.kind, latenessMs, work);
		await this.rearm();
	}

	/** Points the one alarm at the earliest work any part has due (timers, outbox retries); a sandbox's at its expiry. */
	protected async rearm(): Promise<void> {
		if (this.isSandbox) return this.#parts.expiry.arm();
		await this.#parts.schedule.rearm();
	}

	// ---- reading ------------------------------------------------------------------------
	/**
	 * Events after `after` in seq order; upcast to current versions unless `raw`. Redacted for readers unless
	 * `unredacted`, which only server code copying a log inside its org sets (a fork), never a route's query.
	 */
	readEvents(query: { after?: number; limit?: number; type?: string; raw?: boolean; unredacted?: boolean } = {}): EventPage {
		return this.#parts.reads.events(query);
	}

	/** Events of some types before seq `before`, newest first (upcast and redacted): an org's audit trail, say. */
	readEventsBackwards(query: { types: readonly string[]; before?: number; limit?: number }): EventPage {
		return this.#parts.reads.eventsBackwards(query);
	}

	/** One event by its id, or null. */
	eventById(id: string, raw = false): EventEnvelope | null {
		return this.#parts.reads.eventById(id, raw);
	}

	/** The state a stored snapshot holds, as written (null if it is missing or fails its checks). */
	snapshotAt(version: number): { version: number; reducerVersion: string; state: unknown } | null {
		return this.#parts.reads.snapshotAt(version);
	}

	/** What-if replay: the whole log folded again, compared with every stored snapshot and the state in memory. */
	replayCheck(): ReplayReport {
		return this.#parts.reads.replayCheck();
	}

	/** Appends exported events as they were, into an empty actor or a sandbox (which it marks one, expiring after its last import). */
	importEvents(rows: readonly ImportedEvent[]): Promise<Outcome<{ version: number; headHash: string; imported: number }>> {
		return importEvents(this.#host, this.#parts.append, rows);
	}

	/** State now, or as it was at version `at` (from the nearest snapshot at or below it). */
	readState(at?: number): Outcome<{ version: number; state: S; kernel?: KernelStatus }> {
		return this.#parts.reads.state(at);
	}

	/** The kind's inline projections (src/actors/kernel/projections.ts), after starting a rebuild of the one named `rebuild`. */
	projections(rebuild?: string): Outcome<Kernel.ProjectionStatus[]> {
		return (rebuild === undefined ? null : this.refuseIfSandbox()) ?? this.#parts.projections.statuses(rebuild);
	}

	/** Timers and outbox depth: the work this actor still owes the world. */
	kernelStatus(): KernelStatus {
		return this.#parts.reads.kernelStatus();
	}

	/** The fold of the log's first `at` events. */
	protected stateAt(at: number): S {
		return this.#parts.reads.stateAt(at);
	}

	/** Events of one type before seq `before`, newest first, read lazily and upcast (src/actors/kernel/reads.ts). */
	protected newestOfType<E extends RecordedEvent = RecordedEvent>(type: E["type"], limit: number, before?: number): Generator<E> {
		return this.#parts.reads.newestOfType<E>(type, limit, before);
	}

	/** Recomputes the hash chain from the checkpoint (or seq 1). */
	verifyChain(): ChainReport {
		return this.#parts.reads.verifyChain();
	}

	describe(): { actor: ActorRef; version: number; headHash: string; snapshotEvery: number; snapshots: SnapshotInfo[] } {
		return this.#parts.reads.describe();
	}

	// ---- subscriptions ------------------------------------------------------------------

	/** Refuses a key's upgrade past MAX_SOCKETS_PER_KEY open sockets on this actor, before the socket is accepted. */
	override async fetch(request: Request): Promise<Response> {
		return this.#parts.sockets.refuseUpgrade(request) ?? super.fetch(request);
	}

	override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
		return this.#parts.sockets.tags(ctx);
	}

	override onConnect(connection: Connection<SocketState>, ctx: ConnectionContext): void {
		this.#parts.sockets.connect(connection, ctx);
	}

	override onMessage(connection: Connection<SocketState>, message: WSMessage): Promise<void> {
		return this.#parts.sockets.message(connection, message);
	}

	override onClose(connection: Connection): void {
		this.#parts.sockets.closed(connection);
	}

	/** The role of the org's key `keyId` if it is live, else null. The org actor answers from its own state. */
	protected liveKeyRole(keyId: string): Promise<KeyRole | null> {
		const { org } = this.actor;
		return this.env.ORG.getByName(actorName(org, org)).liveKeyRole(keyId);
	}

	/** Closes every socket opened with `keyId` now (the org does on revocation). */
	protected closeSocketsOfKey(keyId: string): void {
		this.#parts.keys.closeKey(keyId);
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
}
