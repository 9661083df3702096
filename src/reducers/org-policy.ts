/**
 * What an org's data policy and its deletion mean (docs/privacy.md). Pure: time and ids come in on the command
 * and context. The policy is the defaults until an admin sets it; a deletion is `deleting` from its request
 * (the org's keys open nothing from then on) until the tombstone `org.deleted` makes it `deleted`.
 */
import type { DataOf } from "../events/catalog.ts";
import type { orgCatalog } from "../events/org.ts";
import { type DataPolicy, DEFAULT_POLICY } from "../events/org-policy.ts";
import type { DecideContext, Refusal } from "./definition.ts";

export type PolicyCommand =
	| { kind: "set_policy"; policy: DataPolicy; setBy: string | null }
	| { kind: "request_deletion"; erasure: string; requestedBy: string | null }
	| { kind: "record_deleted"; data: DataOf<typeof orgCatalog, "org.deleted"> };

export interface OrgDeletion {
	status: "deleting" | "deleted";
	/** The erasure that carries the deletion's steps (its counts are the deletion's progress). */
	erasure: string | null;
	requestedAt: number;
	requestedBy: string | null;
	/** Set by the tombstone: what was erased in all. */
	deletedAt: number | null;
	actorsErased: number;
	objectsDeleted: number;
}

export interface PolicyState {
	/** The policy in force: DEFAULT_POLICY until set. */
	policy: DataPolicy;
	/** When it was last set; null: the defaults. */
	policySetAt: number | null;
	deletion: OrgDeletion | null;
}

export const initialPolicyState = (): PolicyState => ({ policy: DEFAULT_POLICY, policySetAt: null, deletion: null });

type PolicyProposal =
	| { id: string; type: "org.policy_set"; ts: number; data: DataOf<typeof orgCatalog, "org.policy_set"> }
	| { id: string; type: "org.deletion_requested"; ts: number; data: DataOf<typeof orgCatalog, "org.deletion_requested"> }
	| { id: string; type: "org.deleted"; ts: number; data: DataOf<typeof orgCatalog, "org.deleted"> };

const samePolicy = (a: DataPolicy, b: DataPolicy) =>
	a.sessionsDays === b.sessionsDays &&
	a.chatsDays === b.chatsDays &&
	a.framesDays === b.framesDays &&
	a.interactionsDays === b.interactionsDays &&
	a.archiveSessions === b.archiveSessions;

export function decidePolicy(
	command: PolicyCommand,
	state: PolicyState & { createdAt: number | null },
	context: DecideContext & { newId(): string },
): PolicyProposal[] | Refusal {
	switch (command.kind) {
		case "set_policy": {
			if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
			// The same policy again changes nothing once it was set; setting the defaults explicitly records them.
			if (state.policySetAt !== null && samePolicy(state.policy, command.policy)) return [];
			return [{ id: context.newId(), type: "org.policy_set", ts: context.now, data: { ...command.policy, setBy: command.setBy } }];
		}
		case "request_deletion": {
			if (state.deletion !== null) return [];
			if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
			const data = { erasure: command.erasure, requestedBy: command.requestedBy };
			return [{ id: `deletion:${command.erasure}`, type: "org.deletion_requested", ts: context.now, data }];
		}
		case "record_deleted":
			if (state.deletion?.status === "deleted") return [];
			return [{ id: "org-deleted", type: "org.deleted", ts: context.now, data: command.data }];
	}
}

export function evolvePolicy(state: PolicyState, event: PolicyProposal): PolicyState {
	switch (event.type) {
		case "org.policy_set": {
			const { setBy: _setBy, ...policy } = event.data;
			return { ...state, policy, policySetAt: event.ts };
		}
		case "org.deletion_requested": {
			const { erasure, requestedBy } = event.data;
			const deletion: OrgDeletion = {
				status: "deleting",
				erasure,
				requestedAt: event.ts,
				requestedBy,
				deletedAt: null,
				actorsErased: 0,
				objectsDeleted: 0,
			};
			return { ...state, deletion };
		}
		case "org.deleted": {
			const { requestedAt, actorsErased, objectsDeleted } = event.data;
			const deletion: OrgDeletion = {
				status: "deleted",
				erasure: null,
				requestedAt,
				requestedBy: null,
				deletedAt: event.ts,
				actorsErased,
				objectsDeleted,
			};
			return { ...state, deletion };
		}
	}
}
