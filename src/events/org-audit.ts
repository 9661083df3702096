/**
 * The org events that make its audit trail: changes to who may do what (the org, its keys, its members and their
 * roles), to its data policy and to its settings. `GET /v1/orgs/{org}/audit` lists them newest first with who made each one
 * (`meta.principal`). A new access or policy event joins this list, so the trail never misses it.
 */

import type { EventOf } from "./catalog.ts";
import type { orgCatalog } from "./org.ts";

export const AUDITED_ORG_EVENTS = [
	"org.created",
	"org.key_created",
	"org.key_revoked",
	"org.member_added",
	"org.member_removed",
	"org.policy_set",
	"org.settings_set",
	"org.deletion_requested",
] as const satisfies readonly EventOf<typeof orgCatalog>["type"][];
