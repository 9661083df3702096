/**
 * Given / when / then for deciders (emmett's DeciderSpecification): given these events, when this command, then
 * these events, or this refusal. Given events are checked against the kind's catalog and folded as the kernel
 * would (seq from 1, data as the catalog parses it), so a spec cannot start from a state the log could not hold.
 */
import { expect } from "vitest";
import type { EventCatalog } from "../../src/events/catalog.ts";
import type { ProposedEvent, RecordedEvent } from "../../src/events/envelope.ts";
import { type ActorDefinition, type DecideContext, fold, isRefusal, type Refusal } from "../../src/reducers/definition.ts";

/** Proposed events as the kernel records them: validated, upcast to the current version, numbered from `firstSeq`. */
export function recorded(catalog: EventCatalog, events: readonly ProposedEvent[], firstSeq = 1): RecordedEvent[] {
	return events.map((event, i) => {
		const checked = catalog.validate(event.type, event.data, event.v);
		if (!checked.ok) throw new Error(`given ${event.type} is not valid: ${JSON.stringify(checked.errors)}`);
		const lifted = catalog.upcast(event.type, checked.v, checked.data);
		return { seq: firstSeq + i, id: event.id, type: event.type, v: lifted.v, ts: event.ts, data: lifted.data, meta: event.meta ?? {} };
	});
}

type ContextDefaults<X> = Omit<X, keyof DecideContext> & Partial<DecideContext>;
type Decide<S, C, X, P extends ProposedEvent> = (command: C, state: S, context: X) => P[] | Refusal;

export interface Then<S, P extends ProposedEvent = ProposedEvent> {
	/** The decided events, compared field by field (ids, types, times and data). */
	thenDecides(expected: readonly ProposedEvent[]): void;
	/** The command is refused with this kind of error (and a detail matching `detail`, when given). */
	thenRefuses(kind: Refusal["kind"], detail?: string | RegExp): void;
	/** The decision and the state it leads to, for assertions the two above do not cover. */
	decided(): { events: P[]; state: S } | { refusal: Refusal; state: S };
}

/**
 * `spec(definition, decide, context)` returns `given(...events).when(command)`; `context` fills in what the
 * command's context leaves out (`now` defaults to the last given event's time, `version` to their count). Pass a
 * function to get a fresh context for each `when` (e.g. an id generator that starts again).
 */
export function deciderSpec<S, C, X extends DecideContext, P extends ProposedEvent = ProposedEvent>(
	definition: ActorDefinition<S>,
	decide: Decide<S, C, X, P>,
	defaults: ContextDefaults<X> | (() => ContextDefaults<X>),
) {
	return {
		given(...events: ProposedEvent[]) {
			const history = recorded(definition.catalog, events);
			const state = fold(definition, history);
			return {
				state,
				when(command: C, context: Partial<X> = {}): Then<S, P> {
					const full = {
						now: history.at(-1)?.ts ?? 0,
						version: history.length,
						...(typeof defaults === "function" ? defaults() : defaults),
						...context,
					} as X;
					const decide_ = () => decide(command, state, full);
					return {
						thenDecides(expected) {
							const result = decide_();
							if (isRefusal(result)) throw new Error(`expected events, got a refusal: ${result.kind}: ${result.detail}`);
							expect(result.map(comparable)).toEqual(expected.map(comparable));
						},
						thenRefuses(kind, detail) {
							const result = decide_();
							if (!isRefusal(result)) throw new Error(`expected a ${kind} refusal, got ${result.length} events`);
							expect(result.kind).toBe(kind);
							if (detail !== undefined) expect(result.detail).toMatch(detail);
						},
						decided() {
							const result = decide_();
							if (isRefusal(result)) return { refusal: result, state };
							return {
								events: result,
								state: fold(definition, recorded(definition.catalog, result, history.length + 1), state),
							};
						},
					};
				},
			};
		},
	};
}

/** The fields a decision is judged by: `at` (where the event sat in the input) and undefined keys are left out. */
function comparable(event: ProposedEvent): Record<string, unknown> {
	const { at: _at, ...rest } = event;
	return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
}
