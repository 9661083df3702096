import type { Env } from "../env.ts";
import { type ChatState, chatDefinition } from "../reducers/chat.ts";
import { EventSourcedActor } from "./actor.ts";

export class ChatActor extends EventSourcedActor<ChatState> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, chatDefinition);
	}
}
