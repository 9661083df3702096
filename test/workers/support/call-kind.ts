/**
 * A test-only actor kind, a phone call, added the way docs/architecture.md's "Add an actor kind" says: a catalog,
 * a reducer, an actor class and one row in the kinds table. It is bound (`CALL`) only in vitest.config.ts, and
 * nothing in src/ names it: test/workers/kinds-registry.test.ts reads it through every generic surface.
 */
import { z } from "zod";
import { type AppendReceipt, EventSourcedActor } from "../../../src/actors/actor.ts";
import type { Outcome } from "../../../src/core/outcome.ts";
import type { Env } from "../../../src/env.ts";
import { defineEvent, EventCatalog, type ProposalOf } from "../../../src/events/catalog.ts";
import type { ActorKind, RecordedEvent } from "../../../src/events/envelope.ts";
import { registerKind } from "../../../src/kinds.ts";
import type { ActorDefinition } from "../../../src/reducers/definition.ts";

// events: what happened
const noted = defineEvent("call.noted", z.object({ text: z.string().min(1).max(200) }));

// reducer: what it means
export interface CallState {
	notes: string[];
}

const callCatalog = new EventCatalog([noted]);

export const callDefinition: ActorDefinition<CallState> = {
	// ActorKind names Roost's own kinds; a kind registered at run time is carried by the same field.
	kind: "call" as ActorKind,
	catalog: callCatalog,
	reducerVersion: 1,
	initialState: () => ({ notes: [] }),
	evolve: (state, event: RecordedEvent) => ({ notes: [...state.notes, (event.data as { text: string }).text] }),
};

// actor: where it lives
/** Its plans may propose only its catalog's events, with their data shapes (checked by tsc). */
export class CallActor extends EventSourcedActor<CallState, ProposalOf<typeof callCatalog>> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, callDefinition);
	}

	/** Notes `texts`, one event each, at `ts`. */
	note(texts: string[], ts: number): Outcome<AppendReceipt> {
		const events = texts.map((text, i) => ({ id: `note-${ts}-${i}`, type: "call.noted" as const, ts, data: { text } }));
		return this.execute({}, () => ({ events, result: (receipt) => receipt }));
	}
}

// the one row
registerKind({
	name: "call",
	segment: "calls",
	binding: "CALL",
	label: "phone call",
	definition: callDefinition as ActorDefinition<unknown>,
	readBy: { console: true, mcp: true, cli: true },
});
