/** The web session actor: SDK batches in over HTTP or its socket, one visit at a time, ended by inactivity. */
import type { Connection } from "partyserver";
import { z } from "zod";
import type { Env } from "../env.ts";
import type { EventEnvelope, EventMeta } from "../events/envelope.ts";
import {
	INTERACTION_MESSAGE,
	type Interaction,
	VISIT_STARTED_MESSAGE,
	type VisitStarted,
	visitInteractionId,
} from "../events/interaction.ts";
import { eventTimeErrors, type SessionBatchInput, sessionBatchInput, type VisitSummary } from "../events/session.ts";
import {
	decideInactivityEnd,
	decideSession,
	MAX_VISIT_DATA_CHARS,
	MAX_VISIT_EVENTS,
	overVisitBudget,
	type SessionState,
	sessionDefinition,
	type VisitBudget,
} from "../reducers/session.ts";
import { EventSourcedActor, type Plan, positiveInt } from "./actor.ts";
import type { OutboxMessage } from "./outbox.ts";
import { errorDetails, type Outcome, statusOf } from "./outcome.ts";
import type { ClientMessage } from "./socket-messages.ts";
import type { Timer } from "./timers.ts";

export interface BatchResult {
	accepted: number;
	duplicates: number;
	version: number;
}

export const INACTIVITY_TIMER = "inactivity";
const DEFAULT_INACTIVITY_MS = 60 * 60_000;

export class SessionActor extends EventSourcedActor<SessionState> {
	readonly inactivityMs: number;
	readonly visitBudget: VisitBudget;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, sessionDefinition);
		const configured = Number(env.SESSION_INACTIVITY_MS);
		this.inactivityMs = Number.isSafeInteger(configured) && configured > 0 ? configured : DEFAULT_INACTIVITY_MS;
		this.visitBudget = {
			events: positiveInt(env.SESSION_MAX_VISIT_EVENTS) ?? MAX_VISIT_EVENTS,
			dataChars: positiveInt(env.SESSION_MAX_VISIT_DATA_CHARS) ?? MAX_VISIT_DATA_CHARS,
		};
	}

	/**
	 * Appends an SDK batch: repeated event ids are counted as duplicates and not stored again. Timestamps must
	 * fall in the window around the server's clock (400), and the open visit must have room for the batch (422).
	 */
	recordBatch(input: SessionBatchInput, meta: EventMeta = {}): Outcome<BatchResult> {
		const { events, clientActionId, expectedVersion } = input;
		return this.execute({ clientActionId, expectedVersion, meta: { ...meta, clientActionId } }, (state) => {
			const late = eventTimeErrors(events, this.now());
			if (late.length > 0) return { kind: "invalid", detail: "Event times must be near the server's clock.", errors: late };
			// With no visit open, the first new event starts one, so which ids are stored must be known first. In an
			// open visit the kernel's own duplicate check at commit is enough (and costs no lookup).
			const known = state.status === "active" ? new Set<string>() : this.log.existingIds(events.map((e) => e.id));
			const fresh = events
				.map((event, i) => ({ ...event, at: `events[${i}]` }))
				.filter((event) => {
					if (known.has(event.id)) return false;
					known.add(event.id);
					return true;
				});
			const over = overVisitBudget(fresh, state, this.visitBudget);
			if (over.length > 0) return { kind: "rejected", detail: "The open visit has no room for these events.", errors: over };
			return {
				events: decideSession({ kind: "record", events: fresh }, state),
				result: (receipt) => {
					const duplicates = events.length - fresh.length + receipt.duplicates.length;
					return { accepted: events.length - duplicates, duplicates, version: receipt.version };
				},
				// Every new event re-arms the inactivity timer, measured from when the server received it; a new visit is announced to the org.
				effects: (receipt) =>
					receipt.appended.length > 0
						? {
								timers: [{ name: INACTIVITY_TIMER, spec: { once: this.now() + this.inactivityMs } }],
								outbox: this.#announce(receipt.appended),
							}
						: {},
			};
		});
	}

	protected override onTimer(timer: Timer, state: SessionState): Plan<unknown, SessionState> | null {
		if (timer.name !== INACTIVITY_TIMER) throw new Error(`session has no timer "${timer.name}"`);
		const events = decideInactivityEnd(state, timer.scheduledAt);
		const ended = events[0];
		if (!ended) return null;
		return {
			events,
			result: () => null,
			effects: (receipt) =>
				receipt.appended.length > 0 ? { outbox: this.#handOver(ended.data as { summary: VisitSummary }, timer.scheduledAt, ended.id) } : {},
		};
	}

	/** Tells the org about a visit that started in these events, so its directory lists the session as active. */
	#announce(appended: readonly EventEnvelope[]): OutboxMessage[] {
		const started = appended.find((e) => e.type === "session.started");
		if (!started) return [];
		const { org, id } = this.actor;
		const visit = (started.data as { visit: number }).visit;
		const data: VisitStarted = { session: id, visit, startedAt: started.ts };
		return [
			{
				id: `${visitInteractionId(id, visit)}>started`,
				target: { actor: { kind: "org", org, id: org } },
				type: VISIT_STARTED_MESSAGE,
				data,
			},
		];
	}

	/** The ended visit as an interaction, for the org and for the interactions queue. */
	#handOver({ summary }: { summary: VisitSummary }, endedAt: number, causedBy: string): OutboxMessage[] {
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

	protected override onClientMessage(connection: Connection, message: ClientMessage): void {
		const input = message as unknown as SessionBatchInput;
		const echo = input.clientActionId ? { clientActionId: input.clientActionId } : {};
		const outcome = this.recordBatch(input, { requestId: `ws:${connection.id}` });
		if (outcome.ok) this.send(connection, { t: "ack", ...outcome.value, ...echo });
		else this.send(connection, { t: "error", ...statusOf(outcome.error), ...errorDetails(outcome.error), ...echo });
	}
}
