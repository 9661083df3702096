/**
 * What an org's events mean, and what its commands decide. Pure: no clock, no randomness, no I/O;
 * key ids, hashes and timestamps come in on the commands and events.
 */
import type { ActorError } from "../actors/outcome.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { CameraStatus, Interaction, VisitStarted } from "../events/interaction.ts";
import { type KeyScope, orgCatalog } from "../events/org.ts";
import type { Finding } from "../patterns/detect.ts";
import { type ActorDefinition, REDACTED } from "./definition.ts";
import {
	applyPattern,
	applyReport,
	applyRollup,
	initialRollups,
	type ReportRecord,
	type RollupCompleted,
	type RollupState,
	recordInteraction,
	rollupsFrom,
} from "./org-rollups.ts";

export interface OrgKey {
	label: string | null;
	scope: KeyScope;
	createdAt: number;
	revokedAt: number | null;
	/** The action that issued the key, so a retry of that action can replace it. */
	clientActionId: string | null;
	/** SHA-256 of the key (hex). Always set inside the actor; removed from every copy of the state that leaves it. */
	hash?: string;
}

/** Interactions received, by source; the interactions themselves stay in the log. */
export interface InteractionCounts {
	total: number;
	web: number;
	cctv: number;
	chat: number;
	lastRecordedAt: number | null;
}

/** Web sessions with a visit open, by session id: listed until the visit's interaction arrives. */
export type ActiveSessions = Record<string, { visit: number; startedAt: number }>;

/** The org's cameras by id: their last known status and since when. */
export type CameraDirectory = Record<string, { status: "online" | "offline"; since: number }>;

export interface OrgState {
	interactions: InteractionCounts;
	cameras: CameraDirectory;
	activeSessions: ActiveSessions;
	rollups: RollupState;
	name: string | null;
	createdAt: number | null;
	/** The admin action that created the org. */
	createdBy: string | null;
	/** Every key ever issued, by key id; revoked keys stay, with revokedAt. */
	keys: Record<string, OrgKey>;
}

/** A key as the org's owners see it: never its hash. */
export interface KeyView {
	id: string;
	label: string | null;
	scope: KeyScope;
	createdAt: number;
	revokedAt: number | null;
}

export const initialOrgState = (): OrgState => ({
	name: null,
	createdAt: null,
	createdBy: null,
	keys: {},
	interactions: { total: 0, web: 0, cctv: 0, chat: 0, lastRecordedAt: null },
	rollups: initialRollups(),
	activeSessions: {},
	cameras: {},
});

/** A key minted outside the reducer (randomness is not pure): its id, its hash, and an optional label. */
export interface NewKey {
	keyId: string;
	hash: string;
	label?: string;
	/** `full` when absent. */
	scope?: KeyScope;
}

export type OrgCommand =
	| { kind: "create"; name: string; key: NewKey; clientActionId?: string }
	| { kind: "issue_key"; key: NewKey; clientActionId?: string }
	| { kind: "revoke_key"; keyId: string };

/** An event a command decides, before the actor gives it an id and a timestamp. */
export type OrgChange =
	| { type: "org.created"; data: { name: string; clientActionId?: string } }
	| { type: "org.key_created"; data: { keyId: string; hash: string; label?: string; clientActionId?: string; scope?: KeyScope } }
	| { type: "org.key_revoked"; data: { keyId: string } };

const keyCreated = (key: NewKey, clientActionId: string | undefined): OrgChange => ({
	type: "org.key_created",
	data: {
		keyId: key.keyId,
		hash: key.hash,
		...(key.label ? { label: key.label } : {}),
		...(clientActionId ? { clientActionId } : {}),
		// Full keys are written as before scopes existed, so the event reads the same either way.
		...(key.scope && key.scope !== "full" ? { scope: key.scope } : {}),
	},
});

/** Keys are shown once and never stored, so a retried action cannot return its first key: it revokes it and issues another. */
function replaceActionKeys(state: OrgState, key: NewKey, clientActionId: string | undefined): OrgChange[] {
	const stale = clientActionId ? activeKeyIds(state).filter((id) => state.keys[id]?.clientActionId === clientActionId) : [];
	return [...stale.map((keyId): OrgChange => ({ type: "org.key_revoked", data: { keyId } })), keyCreated(key, clientActionId)];
}

export function decideOrg(command: OrgCommand, state: OrgState, version: number): OrgChange[] | ActorError {
	switch (command.kind) {
		case "create": {
			const { name, key, clientActionId } = command;
			if (state.createdAt === null) {
				return [{ type: "org.created", data: { name, ...(clientActionId ? { clientActionId } : {}) } }, keyCreated(key, clientActionId)];
			}
			if (clientActionId && state.createdBy === clientActionId) return replaceActionKeys(state, key, clientActionId);
			return { kind: "rejected", detail: "the org already exists" };
		}
		case "issue_key": {
			if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
			if (state.keys[command.key.keyId]) return { kind: "rejected", detail: `key id ${command.key.keyId} is taken` };
			return replaceActionKeys(state, command.key, command.clientActionId);
		}
		case "revoke_key": {
			const key = state.keys[command.keyId];
			if (state.createdAt === null || !key) return { kind: "not_found", detail: `the org has no key ${command.keyId}` };
			if (key.revokedAt !== null) return [];
			// Only a full key can manage keys: the last live one stays, whatever ingest keys there are.
			if (key.scope === "full" && activeKeyIds(state).filter((id) => state.keys[id]?.scope === "full").length === 1) {
				return {
					kind: "conflict",
					detail: "this is the org's last active full key: create another full key before revoking it, or the org is locked out",
					currentVersion: version,
				};
			}
			return [{ type: "org.key_revoked", data: { keyId: command.keyId } }];
		}
	}
}

export function activeKeyIds(state: OrgState): string[] {
	return Object.keys(state.keys).filter((id) => state.keys[id]?.revokedAt === null);
}

export function keyView(id: string, key: OrgKey): KeyView {
	return { id, label: key.label, scope: key.scope, createdAt: key.createdAt, revokedAt: key.revokedAt };
}

/** Keys oldest first, as their owners see them. */
export function keyViews(state: OrgState): KeyView[] {
	return Object.entries(state.keys)
		.map(([id, key]) => keyView(id, key))
		.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** The state as it may leave the actor: everything but the key hashes, so new fields pass through unchanged. */
export function publicOrgState(state: OrgState): OrgState {
	const keys: Record<string, OrgKey> = {};
	for (const [id, { hash: _hash, ...key }] of Object.entries(state.keys)) keys[id] = key;
	return { ...state, keys };
}

type Data<T> = T & Record<string, unknown>;

/** A web visit's interaction closes its session's entry, if that entry is for this visit or an earlier one. */
function withoutEndedVisit(active: ActiveSessions, interaction: Interaction): ActiveSessions {
	if (interaction.source !== "web") return active;
	const entry = active[interaction.actor.id];
	const visit = (interaction.summary as { visit?: unknown }).visit;
	if (!entry || (typeof visit === "number" && entry.visit > visit)) return active;
	const { [interaction.actor.id]: _ended, ...rest } = active;
	return rest;
}

export function evolveOrg(state: OrgState, event: RecordedEvent): OrgState {
	switch (event.type) {
		case "org.created": {
			if (state.createdAt !== null) throw new Error("org already created");
			const { name, clientActionId } = event.data as Data<{ name: string; clientActionId?: string }>;
			return { ...state, name, createdAt: event.ts, createdBy: clientActionId ?? null, rollups: rollupsFrom(event.ts) };
		}
		case "org.key_created": {
			const { keyId, hash, label, clientActionId, scope } = event.data as Data<{
				keyId: string;
				hash: string;
				label?: string;
				clientActionId?: string;
				scope?: KeyScope;
			}>;
			if (state.createdAt === null) throw new Error("a key needs a created org");
			if (state.keys[keyId]) throw new Error(`key ${keyId} already exists`);
			const key: OrgKey = {
				label: label ?? null,
				scope: scope ?? "full",
				createdAt: event.ts,
				revokedAt: null,
				clientActionId: clientActionId ?? null,
				hash,
			};
			return { ...state, keys: { ...state.keys, [keyId]: key } };
		}
		case "org.key_revoked": {
			const { keyId } = event.data as Data<{ keyId: string }>;
			const key = state.keys[keyId];
			if (!key) throw new Error(`no key ${keyId}`);
			if (key.revokedAt !== null) throw new Error(`key ${keyId} is already revoked`);
			return { ...state, keys: { ...state.keys, [keyId]: { ...key, revokedAt: event.ts } } };
		}
		case "org.visit_started": {
			const { session, visit, startedAt } = event.data as VisitStarted;
			return { ...state, activeSessions: { ...state.activeSessions, [session]: { visit, startedAt } } };
		}
		case "org.camera_status": {
			const { camera, status, at } = event.data as CameraStatus;
			const known = state.cameras[camera];
			// A late delivery of an older change must not undo a newer one.
			if (known && known.since > at) return state;
			return { ...state, cameras: { ...state.cameras, [camera]: { status, since: at } } };
		}
		case "org.interaction_recorded": {
			const interaction = event.data as Interaction;
			const counts = state.interactions;
			return {
				...state,
				activeSessions: withoutEndedVisit(state.activeSessions, interaction),
				interactions: {
					...counts,
					total: counts.total + 1,
					[interaction.source]: counts[interaction.source] + 1,
					lastRecordedAt: event.ts,
				},
				rollups: recordInteraction(state.rollups, interaction, event.ts),
			};
		}
		case "org.rollup_completed":
			return { ...state, rollups: applyRollup(state.rollups, event.data as RollupCompleted) };
		case "org.pattern_detected":
			return { ...state, rollups: applyPattern(state.rollups, event.data as Finding) };
		case "org.report_written":
			return { ...state, rollups: applyReport(state.rollups, event.data as ReportRecord) };
		default:
			throw new Error(`org has no reducer for ${event.type}`);
	}
}

export const orgDefinition: ActorDefinition<OrgState> = {
	kind: "org",
	catalog: orgCatalog,
	// 2: keys and the creating action joined the state. 3: interaction counts. 4: rollups, patterns, reports. 5: active sessions. 6: cameras.
	// 7: key scopes.
	reducerVersion: 7,
	initialState: initialOrgState,
	evolve: evolveOrg,
	redactEvent: redactKeyHash,
	redactState: publicOrgState,
};

/** Key hashes never leave the org actor, not even inside the events that recorded them. */
export function redactKeyHash(event: RecordedEvent): RecordedEvent {
	if (event.type !== "org.key_created" || event.data === null || typeof event.data !== "object" || !("hash" in event.data)) return event;
	return { ...event, data: { ...event.data, hash: REDACTED } };
}
