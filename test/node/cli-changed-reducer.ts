/**
 * A changed session reducer for the what-if replay tests (`roost replay --definition <this file>`): it counts
 * every page view twice but keeps reducerVersion, as a careless edit of src/reducers/session.ts would.
 */
import type { ActorDefinition } from "../../src/reducers/definition.ts";
import { type SessionEvent, type SessionState, sessionDefinition } from "../../src/reducers/session.ts";

export const changedSessionDefinition: ActorDefinition<SessionState> = {
	...sessionDefinition,
	evolve(state: SessionState, event: SessionEvent): SessionState {
		const next = sessionDefinition.evolve(state, event);
		return event.type === "session.page_viewed" && next.visit
			? { ...next, visit: { ...next.visit, pageViews: next.visit.pageViews + 1 } }
			: next;
	},
};

export default changedSessionDefinition;
