/** What can happen in a chat. Message and token events arrive with the chat actor's issue. */
import { EventCatalog } from "./catalog.ts";

export const chatCatalog = new EventCatalog([]);
