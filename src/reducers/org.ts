import type { RecordedEvent } from "../events/envelope.ts";
import { orgCatalog } from "../events/org.ts";
import type { ActorDefinition } from "./definition.ts";

export interface OrgState {
	name: string | null;
	createdAt: number | null;
}

export function evolveOrg(state: OrgState, event: RecordedEvent): OrgState {
	switch (event.type) {
		case "org.created": {
			if (state.createdAt !== null) throw new Error("org already created");
			const { name } = event.data as { name: string };
			return { ...state, name, createdAt: event.ts };
		}
		default:
			throw new Error(`org has no reducer for ${event.type}`);
	}
}

export const orgDefinition: ActorDefinition<OrgState> = {
	kind: "org",
	catalog: orgCatalog,
	reducerVersion: 1,
	initialState: () => ({ name: null, createdAt: null }),
	evolve: evolveOrg,
};
