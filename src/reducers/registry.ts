import type { EventOf } from "../events/catalog.ts";
import { registryCatalog } from "../events/registry.ts";
import type { ActorDefinition } from "./definition.ts";

export interface RegistryState {
	orgs: Record<string, { name: string; registeredAt: number }>;
}

export type RegistryEvent = EventOf<typeof registryCatalog>;

export function evolveRegistry(state: RegistryState, event: RegistryEvent): RegistryState {
	switch (event.type) {
		case "registry.org_registered": {
			const { org, name } = event.data;
			if (state.orgs[org]) throw new Error(`org ${org} is already registered`);
			return { orgs: { ...state.orgs, [org]: { name, registeredAt: event.ts } } };
		}
		default:
			throw new Error(`registry has no reducer for ${(event as { type: string }).type}`);
	}
}

export const registryDefinition: ActorDefinition<RegistryState, RegistryEvent> = {
	kind: "registry",
	catalog: registryCatalog,
	reducerVersion: 1,
	initialState: () => ({ orgs: {} }),
	evolve: evolveRegistry,
};
