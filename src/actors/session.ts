/** The web session actor: SDK batches in over HTTP or its socket, one visit at a time, ended by inactivity. */
import type { Connection } from "partyserver";
import { z } from "zod";
import { errorDetails, type Outcome, statusOf } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import type { EventMeta } from "../events/envelope.ts";
import {
	INTERACTION_MESSAGE,
	type Interaction,
	VISIT_STARTED_MESSAGE,
	type VisitStarted,
	visitInteractionId,
} from "../events/interaction.ts";
import { type SessionBatchInput, sessionBatchInput, type VisitSummary } from "../events/session.ts";
import { isRefusal } from "../reducers/definition.ts";
import {
	DEFAULT_VISIT_BUDGET,
	decideSession,
	needsStoredIds,
	type SessionContext,
	type SessionProposal,
	type SessionState,
	sessionDefinition,
	type VisitBudget,
} from "../reducers/session.ts";
import { EventSourcedActor, positiveInt, type TimerPlan } from "./actor.ts";
import { orgSettings } from "./org-settings-cache.ts";
import type { OutboxMessage } from "./outbox.ts";
import type { SocketState } from "./socket-guard.ts";
import type { ClientMessage } from "./socket-messages.ts";
import type { Timer, TimerChange } from "./timers.ts";

export interface BatchResult {
	accepted: number;
	duplicates: number;
	version: number;
}

export const INACTIVITY_TIMER = "inactivity";
const DEFAULT_INACTIVITY_MS = 60 * 60_000;

export class SessionActor extends EventSourcedActor<SessionState, SessionProposal> {
	readonly inactivityMs: number;
	readonly visitBudget: VisitBudget;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, sessionDefinition);
		const configured = Number(env.SESSION_INACTIVITY_MS);
		this.inactivityMs = Number.isSafeInteger(configured) && configured > 0 ? configured : DEFAULT_INACTIVITY_MS;
		this.visitBudget = {
			events: positiveInt(env.SESSION_MAX_VISIT_EVENTS) ?? DEFAULT_VISIT_BUDGET.events,
			dataChars: positiveInt(env.SESSION_MAX_VISIT_DATA_CHARS) ?? DEFAULT_VISIT_BUDGET.dataChars,
		};
	}

	/**
	 * Appends an SDK batch: repeated event ids are counted as duplicates and not stored again. Timestamps must
	 * fall in the window around the server's clock (400), and the open visit must have room for the batch (422).
	 * A batch that opens a visit records the org's inactivity setting on its start (asked of the org, cached per
	 * isolate: src/actors/org-settings-cache.ts). `backfill`: past events (POST /v1/orgs/{org}/backfill), each
	 * marked `meta.backfilled`; times must be in the past 400 days, and the visit ends its inactivity after its
	 * last event's time rather than after the server received them.
	 */
	async recordBatch(input: SessionBatchInput, meta: EventMeta = {}, options: { backfill?: boolean } = {}): Promise<Outcome<BatchResult>> {
		const { events, clientActionId, expectedVersion } = input;
		const backfill = options.backfill === true;
		const inactivityMs = this.state.status === "active" ? undefined : await this.#orgInactivityMs();
		const receivedAt = this.now();
		const recorded: EventMeta = { ...meta, clientActionId, receivedAt, ...(backfill ? { backfilled: true } : {}) };
		return this.execute({ clientActionId, expectedVersion, meta: recorded }, (state, version) => {
			const stored = needsStoredIds(state) ? this.log.existingIds(events.map((e) => e.id)) : new Set<string>();
			const context = { ...this.#context(version), inactivityMs: inactivityMs ?? this.inactivityMs };
			const decided = decideSession({ kind: "record", events, stored, backfill }, state, context);
			if (isRefusal(decided)) return decided;
			const [first] = decided;
			const opened = first?.type === "session.started" ? first : null;
			const proposed = decided.length - (opened ? 1 : 0);
			return {
				events: decided,
				result: (receipt) => {
					const duplicates = events.length - proposed + receipt.duplicates.length;
					return { accepted: events.length - duplicates, duplicates, version: receipt.version };
				},
				// Every new event moves the visit's end later (#inactiveAt); a new visit is announced to the org.
				effects: (receipt, after) =>
					receipt.appended.length > 0
						? {
								timers: this.#inactivityTimer(this.#inactiveAt(after, backfill ? null : receivedAt)),
								outbox: opened && receipt.appended.some((e) => e.id === opened.id) ? this.#announce(opened.data.visit, opened.ts) : [],
							}
						: {},
			};
		});
	}

	/**
	 * When the open visit ends if nothing more arrives: its inactivity after the server received the last batch
	 * (`receivedAt`), or, for a backfill (null), after the visit's last event's own time (so a past visit ends in the
	 * past, at its true end).
	 */
	#inactiveAt(after: SessionState, receivedAt: number | null): number {
		const idle = after.visit?.inactivityMs ?? this.inactivityMs;
		return (receivedAt ?? after.visit?.lastEventAt ?? this.now()) + idle;
	}

	/**
	 * The inactivity timer a batch needs written, if any. A batch in an open visit only moves its end later, so the
	 * timer stays as the visit's first batch (or a backfill, or a firing) set it: when it fires, onTimer finds the end
	 * moved on (#idleUntil, from the last batch's `meta.receivedAt`) and sets it once for then. That keeps the timer's
	 * row and its index out of every batch's writes (docs/performance.md, "Rows written"). It is written when it is
	 * missing, would fire after `at`, or has failed or been parked (setting it again unparks it, as before).
	 */
	#inactivityTimer(at: number): TimerChange[] {
		const set = this.timers.liveAt(INACTIVITY_TIMER);
		if (set !== null && set <= at) return [];
		return [{ name: INACTIVITY_TIMER, spec: { once: at } }];
	}

	/**
	 * When the open visit ends as its last batch left it: that batch's `receivedAt` (or, for a backfill, the visit's
	 * last event's time) + the visit's inactivity. Null when the batch is not stored (compacted, or written before
	 * `receivedAt` was), which leaves the timer's own time, set by that batch, as the end.
	 */
	#idleUntil(state: SessionState): number | null {
		if (state.status !== "active" || !state.lastEvent) return null;
		const text = this.log.metaAt(state.lastEvent.seq);
		if (text === undefined) return null;
		const { backfilled, receivedAt } = JSON.parse(text) as EventMeta;
		if (backfilled === true) return this.#inactiveAt(state, null);
		return receivedAt === undefined ? null : this.#inactiveAt(state, receivedAt);
	}

	/** The org's `sessionInactivitySeconds` when an admin set it, else the deployment's default (SESSION_INACTIVITY_MS). */
	async #orgInactivityMs(): Promise<number> {
		const seconds = (await orgSettings(this.env, this.actor.org)).sessionInactivitySeconds;
		return seconds === undefined ? this.inactivityMs : seconds * 1000;
	}

	/**
	 * The inactivity timer fired for `timer.scheduledAt`. If a batch since the timer was set moved the visit's end later,
	 * the timer is set for that end and nothing is appended; otherwise the visit ends at the instant the timer was for.
	 */
	protected override onTimer(timer: Timer, state: SessionState): TimerPlan<SessionState, SessionProposal> {
		if (timer.name !== INACTIVITY_TIMER) throw new Error(`session has no timer "${timer.name}"`);
		const until = this.#idleUntil(state);
		if (until !== null && until > timer.scheduledAt) {
			return { events: [], result: () => null, effects: () => ({ timers: [{ name: INACTIVITY_TIMER, spec: { once: until } }] }) };
		}
		const decided = decideSession({ kind: "end_inactive", at: timer.scheduledAt }, state, this.#context(this.version));
		if (isRefusal(decided)) return decided;
		const [ended] = decided;
		if (ended?.type !== "session.ended") return null;
		return {
			events: decided,
			result: () => null,
			effects: (receipt) =>
				receipt.appended.length > 0 ? { outbox: this.#handOver(ended.data.summary, timer.scheduledAt, ended.id) } : {},
		};
	}

	#context(version: number): SessionContext {
		return { now: this.now(), version, budget: this.visitBudget };
	}

	/**
	 * Tells the org that visit `visit` started at `startedAt`, so its directory lists the session as active: through the
	 * org intake queue (src/intake.ts), which hands the org a batch's visit starts in one RPC, not one RPC per visit.
	 */
	#announce(visit: number, startedAt: number): OutboxMessage[] {
		const { id } = this.actor;
		const data: VisitStarted = { session: id, visit, startedAt };
		return [
			{
				id: `${visitInteractionId(id, visit)}>started`,
				target: { queue: "ORG_INTAKE_QUEUE" },
				type: VISIT_STARTED_MESSAGE,
				data,
			},
		];
	}

	/** The ended visit as an interaction, for the org and for the interactions queue. */
	#handOver(summary: VisitSummary, endedAt: number, causedBy: string): OutboxMessage[] {
		const { org, id } = this.actor;
		const interaction: Interaction = {
			id: visitInteractionId(id, summary.visit),
			source: "web",
			actor: { kind: "session", id },
			startedAt: summary.startedAt,
			endedAt,
			summary,
		};
		return [
			{
				id: `${interaction.id}>org`,
				target: { actor: { kind: "org", org, id: org } },
				type: INTERACTION_MESSAGE,
				data: interaction,
				meta: { causationId: causedBy },
			},
			{
				id: `${interaction.id}>queue`,
				target: { queue: "INTERACTIONS_QUEUE" },
				type: INTERACTION_MESSAGE,
				data: { org, interaction },
				meta: { causationId: causedBy },
			},
		];
	}

	protected override clientMessageSchemas() {
		return { events: sessionBatchInput.extend({ t: z.literal("events") }) };
	}

	protected override async onClientMessage(connection: Connection, message: ClientMessage): Promise<void> {
		const input = message as unknown as SessionBatchInput;
		const echo = input.clientActionId ? { clientActionId: input.clientActionId } : {};
		const key = (connection as Connection<SocketState>).state?.key;
		// Sending events in needs what POST .../events needs (src/http/roles.ts): an ingest or admin key.
		if (key && key.role !== "ingest" && key.role !== "admin") {
			const detail = `Sending events needs the ingest role (or admin); this socket's key has the ${key.role} role.`;
			this.send(connection, { t: "error", status: 403, title: "Forbidden", detail, ...echo });
			return;
		}
		const principal = key ? { principal: { kind: "key" as const, id: key.id } } : {};
		const outcome = await this.recordBatch(input, { requestId: `ws:${connection.id}`, ...principal });
		if (outcome.ok) this.send(connection, { t: "ack", ...outcome.value, ...echo });
		else this.send(connection, { t: "error", ...statusOf(outcome.error), ...errorDetails(outcome.error), ...echo });
	}
}
