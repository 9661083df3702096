/** What the kernel needs to know about an actor kind. Pure: imported by workerd, Node and the browser. */
import type { EventCatalog } from "../events/catalog.ts";
import type { ActorKind, RecordedEvent } from "../events/envelope.ts";

export interface ActorDefinition<S> {
	kind: ActorKind;
	catalog: EventCatalog;
	/** Bump whenever evolve changes meaning: snapshots written by another version are ignored. */
	reducerVersion: number;
	initialState(): S;
	/** Pure and deterministic: no clock, no randomness, no I/O. Throwing rejects the whole batch. */
	evolve(state: S, event: RecordedEvent): S;
	/**
	 * What a reader may see of a stored event (secrets replaced by REDACTED): the kernel applies it on every read path
	 * it serves (pages, by id, sockets). Pure; returns the event itself when nothing is hidden.
	 */
	redactEvent?(event: RecordedEvent): RecordedEvent;
	/** What a reader may see of a state: now, at a version, in a snapshot. */
	redactState?(state: S): S;
}

/** What a redacted field reads as. The row keeps the real value, so the server's chain check is unchanged. */
export const REDACTED = "(redacted)";

/** Folds events over the initial state (or a given one): the definition of state at a version. */
export function fold<S>(definition: ActorDefinition<S>, events: Iterable<RecordedEvent>, from: S = definition.initialState()): S {
	let state = from;
	for (const event of events) state = definition.evolve(state, event);
	return state;
}
