/** What can happen to an org. More types arrive with keys, interactions and rollups. */
import { z } from "zod";
import { defineEvent, EventCatalog } from "./catalog.ts";

export const orgCreated = defineEvent("org.created", z.object({ name: z.string().min(1).max(200) }), { internal: true });

export const orgCatalog = new EventCatalog([orgCreated]);
