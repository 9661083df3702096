/** What the kernel needs to know about an actor kind. Pure: imported by workerd, Node and the browser. */

import type { ActorError } from "../core/outcome.ts";
import type { EventCatalog } from "../events/catalog.ts";
import type { ActorKind, ProposedEvent, RecordedEvent } from "../events/envelope.ts";
import type { Projection } from "./projection.ts";

/**
 * `E` is the kind's event union (`EventOf<typeof catalog>`): evolve switches on `event.type` and reads `data`
 * narrowed, without casts. The kernel folds rows its catalog validated and upcast, so they are of that union.
 */
export interface ActorDefinition<S, E extends RecordedEvent = RecordedEvent> {
	kind: ActorKind;
	catalog: EventCatalog;
	/** Bump whenever evolve changes meaning: snapshots written by another version are ignored. */
	reducerVersion: number;
	initialState(): S;
	/** Pure and deterministic: no clock, no randomness, no I/O. Throwing rejects the whole batch. */
	evolve(state: S, event: E): S;
	/**
	 * What a reader may see of a stored event (secrets replaced by REDACTED): the kernel applies it on every read path
	 * it serves (pages, by id, sockets). Pure; returns the event itself when nothing is hidden.
	 */
	redactEvent?(event: RecordedEvent): RecordedEvent;
	/** What a reader may see of a state: now, at a version, in a snapshot. */
	redactState?(state: S): S;
	/** Indexed tables kept beside the log in the same transaction as its events (src/reducers/projection.ts). */
	projections?: readonly Projection[];
}

/** What a redacted field reads as. The row keeps the real value, so the server's chain check is unchanged. */
export const REDACTED = "(redacted)";

/** Folds events over the initial state (or a given one): the definition of state at a version. */
export function fold<S>(definition: ActorDefinition<S>, events: Iterable<RecordedEvent>, from: S = definition.initialState()): S {
	let state = from;
	for (const event of events) state = definition.evolve(state, event);
	return state;
}

/** Why a command was refused: an error value (never thrown), which the API maps to problem+json in one place. */
export type Refusal = ActorError;

/** What every decision may read besides the command and the state: when it is decided, and at which version. */
export interface DecideContext {
	/** The actor's clock when the command is decided (ms since the epoch); decisions never read a clock themselves. */
	now: number;
	/** The log's version the state is at. */
	version: number;
}

/**
 * A kind's decisions, in emmett's shape: `decide(command, state, context)` is pure and returns the events to
 * propose (of the kind's catalog: `ProposalOf<typeof catalog>`) or a typed refusal. The actor only does I/O
 * around it: timers, outbox, model and storage calls.
 */
export interface Decider<S, C, P extends ProposedEvent = ProposedEvent, X extends DecideContext = DecideContext> {
	decide(command: C, state: S, context: X): P[] | Refusal;
}

/** Whether a decision is a refusal rather than events. */
export const isRefusal = <P>(decided: P[] | Refusal): decided is Refusal => !Array.isArray(decided);
