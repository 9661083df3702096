/** What the kernel needs to know about an actor kind. Pure: imported by workerd, Node and the browser. */
import type { EventCatalog } from "../events/catalog.ts";
import type { ActorKind, RecordedEvent } from "../events/envelope.ts";

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
}

/** Folds events over the initial state (or a given one): the definition of state at a version. */
export function fold<S>(definition: ActorDefinition<S>, events: Iterable<RecordedEvent>, from: S = definition.initialState()): S {
	let state = from;
	for (const event of events) state = definition.evolve(state, event);
	return state;
}
