import type { Env } from "../env.ts";
import { type OrgState, orgDefinition } from "../reducers/org.ts";
import { EventSourcedActor } from "./actor.ts";

export class OrgActor extends EventSourcedActor<OrgState> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, orgDefinition);
	}
}
