import type { EventOf, ProposalOf } from "../events/catalog.ts";
import { registryCatalog } from "../events/registry.ts";
import type { ActorDefinition, DecideContext, Decider, Refusal } from "./definition.ts";

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

export type RegistryProposal = ProposalOf<typeof registryCatalog>;

/** Registering an org under an id the actor minted (ids are random, so they come in with the command). */
export type RegistryCommand = { kind: "register"; org: string; name: string; eventId: string };

/** Records a new org, or refuses an id already taken (the actor then mints another). */
export function decideRegistry(command: RegistryCommand, state: RegistryState, context: DecideContext): RegistryProposal[] | Refusal {
	const { org, name, eventId } = command;
	if (Object.hasOwn(state.orgs, org)) return { kind: "conflict", detail: `org id ${org} is taken`, currentVersion: context.version };
	return [{ id: eventId, type: "registry.org_registered", ts: context.now, data: { org, name } }];
}

export const registryDecider = { decide: decideRegistry } satisfies Decider<RegistryState, RegistryCommand, RegistryProposal>;
