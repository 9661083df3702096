/** The deployment's list of orgs. */
import { z } from "zod";
import { defineEvent, EventCatalog } from "./catalog.ts";

export const orgRegistered = defineEvent(
	"registry.org_registered",
	z.object({ org: z.string().min(1).max(128), name: z.string().min(1).max(200) }),
	{ internal: true },
);

export const registryCatalog = new EventCatalog([orgRegistered]);
