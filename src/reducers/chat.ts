import { chatCatalog } from "../events/chat.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { ActorDefinition } from "./definition.ts";

/** Placeholder state until chat answers land: the chat actor exists and its log is readable. */
export type ChatState = Record<string, never>;

export const chatDefinition: ActorDefinition<ChatState> = {
	kind: "chat",
	catalog: chatCatalog,
	reducerVersion: 1,
	initialState: () => ({}),
	evolve: (_state, event: RecordedEvent) => {
		throw new Error(`chat has no reducer for ${event.type}`);
	},
};
