import type { Env } from "../env.ts";
import { type RegistryState, registryDefinition } from "../reducers/registry.ts";
import { EventSourcedActor } from "./actor.ts";

export class RegistryActor extends EventSourcedActor<RegistryState> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, registryDefinition);
	}
}
