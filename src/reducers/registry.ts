import type { RecordedEvent } from "../events/envelope.ts";
import { registryCatalog } from "../events/registry.ts";
import type { ActorDefinition } from "./definition.ts";

export interface RegistryState {
	orgs: Record<string, { name: string; registeredAt: number }>;
}

export function evolveRegistry(state: RegistryState, event: RecordedEvent): RegistryState {
	switch (event.type) {
		case "registry.org_registered": {
			const { org, name } = event.data as { org: string; name: string };
			if (state.orgs[org]) throw new Error(`org ${org} is already registered`);
			return { orgs: { ...state.orgs, [org]: { name, registeredAt: event.ts } } };
		}
		default:
			throw new Error(`registry has no reducer for ${event.type}`);
	}
}

export const registryDefinition: ActorDefinition<RegistryState> = {
	kind: "registry",
	catalog: registryCatalog,
	reducerVersion: 1,
	initialState: () => ({ orgs: {} }),
	evolve: evolveRegistry,
};
