/**
 * What an org's events mean, and what its commands decide. Pure: no clock, no randomness, no I/O;
 * key ids, hashes and timestamps come in on the commands and events.
 */
import type { DataOf, EventOf, ProposalOf } from "../events/catalog.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { type CameraStatus, type Interaction, type VisitStarted, visitInteractionId } from "../events/interaction.ts";
import { type KeyRole, MAX_HISTORY_AGE_MS, type MemberRole, orgCatalog } from "../events/org.ts";
import type { Finding } from "../patterns/detect.ts";
import type { Period, Window } from "../patterns/windows.ts";
import { type ActorDefinition, type DecideContext, type Decider, REDACTED, type Refusal } from "./definition.ts";
import { decideErasure, type ErasureCommand, type Erasures, recordErasureStep, requestErasure } from "./org-erasure.ts";
import { decidePolicy, evolvePolicy, initialPolicyState, type PolicyCommand, type PolicyState } from "./org-policy.ts";
import { interactionsProjection } from "./org-projections.ts";
import {
	applyPattern,
	applyReport,
	applyRollup,
	decideRollups,
	initialRollups,
	type RollupState,
	recordInteraction,
	rollupsFrom,
} from "./org-rollups.ts";
import { decideSettings, evolveSettings, initialSettingsState, type SettingsCommand, type SettingsState } from "./org-settings.ts";
import { decideWebhooks, evolveWebhooks, type WebhookCommand, type Webhooks } from "./org-webhooks.ts";

/** Every event an org's log can hold, by type: `evolve` narrows `data` by switching on `type`. */
export type OrgEvent = EventOf<typeof orgCatalog>;
/** An event the org's decider may propose. */
export type OrgProposal = ProposalOf<typeof orgCatalog>;

export interface OrgKey {
	label: string | null;
	role: KeyRole;
	createdAt: number;
	revokedAt: number | null;
	/** From this instant the key no longer opens anything; null: it never expires. */
	expiresAt: number | null;
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

/**
 * `policy`, `policySetAt` and `deletion`: the data policy and the org's deletion (src/reducers/org-policy.ts);
 * `settings` and `settingsSetAt`: its operating settings (src/reducers/org-settings.ts).
 */
export interface OrgState extends PolicyState, SettingsState {
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
	/** Webhook endpoints by id (src/reducers/org-webhooks.ts); their salts never leave the actor. */
	webhooks: Webhooks;
	/** The people who may sign in through Cloudflare Access, by lowercased email. */
	members: Record<string, OrgMember>;
	/** Erasures of data subjects, by erasure id (src/reducers/org-erasure.ts). */
	erasures: Erasures;
}

export interface OrgMember {
	role: MemberRole;
	/** When the member was added, or their role last changed. */
	since: number;
}

/** A key as the org's owners see it: never its hash. */
export interface KeyView {
	id: string;
	label: string | null;
	role: KeyRole;
	createdAt: number;
	revokedAt: number | null;
	expiresAt: number | null;
}

export const initialOrgState = (): OrgState => ({
	name: null,
	createdAt: null,
	createdBy: null,
	keys: {},
	members: {},
	interactions: { total: 0, web: 0, cctv: 0, chat: 0, lastRecordedAt: null },
	rollups: initialRollups(),
	activeSessions: {},
	cameras: {},
	webhooks: {},
	erasures: {},
	...initialPolicyState(),
	...initialSettingsState(),
});

/** A key minted outside the reducer (randomness is not pure): its id, its hash, and an optional label. */
export interface NewKey {
	keyId: string;
	hash: string;
	label?: string;
	role: KeyRole;
	expiresAt?: number;
}

/** What an org can be asked to do: manage its keys, record what its actors hand over, roll up, and record analyses and reports. */
export type OrgCommand =
	/** `historyFrom`: where rollups start, when before now (history to backfill; at most MAX_HISTORY_AGE_MS back). */
	| { kind: "create"; name: string; key: NewKey; clientActionId?: string; historyFrom?: number }
	| { kind: "issue_key"; key: NewKey; clientActionId?: string }
	| { kind: "revoke_key"; keyId: string }
	/** Adds a member, or changes their role. */
	| { kind: "add_member"; email: string; role: MemberRole }
	| { kind: "remove_member"; email: string }
	/** An interaction another actor handed over; its id is the event's, so a re-sent one is a duplicate. */
	| { kind: "record_interaction"; interaction: Interaction }
	/** `ended`: the visit's interaction is already in the log (a start delivered after its own end). */
	| { kind: "record_visit_started"; visit: VisitStarted; ended: boolean }
	/** `id`: the outbox message's, so a re-sent change is a duplicate. */
	| { kind: "record_camera_status"; id: string; status: CameraStatus }
	/** The rollups due now (a timer), or forced up to `forceUpTo` for its last complete `window` (an ad hoc run). */
	| { kind: "roll_up"; detect: boolean; forceUpTo?: { period: Period; window: Window } }
	| { kind: "record_patterns"; findings: Finding[] }
	| {
			kind: "record_report";
			ref: { period: Period } & Window;
			written: Omit<DataOf<typeof orgCatalog, "org.report_written">, "period" | keyof Window>;
	  }
	| WebhookCommand
	| ErasureCommand
	| PolicyCommand
	| SettingsCommand;

/** Besides time and version, an org's decisions need fresh event ids for key changes (random, so minted by the actor). */
export interface OrgContext extends DecideContext {
	newId(): string;
}

type KeyChange = Extract<OrgProposal, { type: "org.created" | "org.key_created" | "org.key_revoked" }>;

const keyCreated = (key: NewKey, clientActionId: string | undefined, context: OrgContext): KeyChange => ({
	id: context.newId(),
	type: "org.key_created",
	ts: context.now,
	data: {
		keyId: key.keyId,
		hash: key.hash,
		...(key.label ? { label: key.label } : {}),
		...(clientActionId ? { clientActionId } : {}),
		role: key.role,
		...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}),
	},
});

const keyRevoked = (keyId: string, context: OrgContext): KeyChange => ({
	id: context.newId(),
	type: "org.key_revoked",
	ts: context.now,
	data: { keyId },
});

/** Keys are shown once and never stored, so a retried action cannot return its first key: it revokes it and issues another. */
function replaceActionKeys(state: OrgState, key: NewKey, clientActionId: string | undefined, context: OrgContext): KeyChange[] {
	const stale = clientActionId ? activeKeyIds(state).filter((id) => state.keys[id]?.clientActionId === clientActionId) : [];
	return [...stale.map((keyId) => keyRevoked(keyId, context)), keyCreated(key, clientActionId, context)];
}

/** What an org being deleted still decides: its deletion's own steps. */
const DURING_DELETION = new Set<OrgCommand["kind"]>(["request_erasure", "record_erasure_step", "request_deletion", "record_deleted"]);

/** The org's decisions: pure, with time and fresh ids from the context. */
export function decideOrg(command: OrgCommand, state: OrgState, context: OrgContext): OrgProposal[] | Refusal {
	if (state.deletion !== null && !DURING_DELETION.has(command.kind))
		return { kind: "rejected", detail: `the org is ${state.deletion.status === "deleted" ? "deleted" : "being deleted"}` };
	switch (command.kind) {
		case "create":
		case "issue_key":
		case "revoke_key":
			return decideKeys(command, state, context);
		case "add_member":
		case "remove_member":
			return decideMembers(command, state, context);
		case "record_interaction":
			return [{ id: command.interaction.id, type: "org.interaction_recorded", ts: context.now, data: command.interaction }];
		case "record_visit_started": {
			const { visit, ended } = command;
			// A start delivered after its own end (a retried delivery) must not list an ended visit as active.
			if (ended) return [];
			return [{ id: `${visitInteractionId(visit.session, visit.visit)}:started`, type: "org.visit_started", ts: context.now, data: visit }];
		}
		case "record_camera_status":
			return [{ id: command.id, type: "org.camera_status", ts: context.now, data: command.status }];
		case "roll_up":
			return decideRollUp(command, state, context);
		case "record_patterns":
			return command.findings.map((finding) => ({ id: finding.id, type: "org.pattern_detected", ts: context.now, data: finding }));
		case "record_report": {
			const { ref, written } = command;
			return [{ id: `report:${ref.period}:${ref.start}`, type: "org.report_written", ts: context.now, data: { ...ref, ...written } }];
		}
		case "request_erasure":
		case "record_erasure_step":
		case "record_subject_export":
			if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
			return decideErasure(command, state.erasures, context);
		case "set_settings":
			return decideSettings(command, state, context);
		case "set_policy":
		case "request_deletion":
		case "record_deleted":
			return decidePolicy(command, state, context);
		default:
			return decideWebhooks(command, state.webhooks, state.createdAt !== null, context);
	}
}

function decideKeys(
	command: Extract<OrgCommand, { kind: "create" | "issue_key" | "revoke_key" }>,
	state: OrgState,
	context: OrgContext,
): KeyChange[] | Refusal {
	switch (command.kind) {
		case "create": {
			const { name, key, clientActionId, historyFrom } = command;
			if (state.createdAt === null) {
				const history = historyFromError(historyFrom, context.now);
				if (history) return history;
				const created: KeyChange = {
					id: context.newId(),
					type: "org.created",
					ts: context.now,
					data: { name, ...(clientActionId ? { clientActionId } : {}), ...(historyFrom === undefined ? {} : { historyFrom }) },
				};
				return [created, keyCreated(key, clientActionId, context)];
			}
			if (clientActionId && state.createdBy === clientActionId) return replaceActionKeys(state, key, clientActionId, context);
			return { kind: "rejected", detail: "the org already exists" };
		}
		case "issue_key": {
			if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
			if (state.keys[command.key.keyId]) return { kind: "rejected", detail: `key id ${command.key.keyId} is taken` };
			if (command.key.expiresAt !== undefined && command.key.expiresAt <= context.now)
				return { kind: "invalid", detail: "expiresAt is in the past", errors: [{ path: "expiresAt", message: "must be in the future" }] };
			return replaceActionKeys(state, command.key, command.clientActionId, context);
		}
		case "revoke_key": {
			const key = state.keys[command.keyId];
			if (state.createdAt === null || !key) return { kind: "not_found", detail: `the org has no key ${command.keyId}` };
			if (key.revokedAt !== null) return [];
			// Only an admin key can manage keys: the last live one stays, whatever other keys there are.
			if (key.role === "admin" && liveAdminKeyIds(state, context.now).filter((id) => id !== command.keyId).length === 0) {
				return {
					kind: "conflict",
					detail: "this is the org's last active admin key: create another admin key before revoking it, or the org is locked out",
					currentVersion: context.version,
				};
			}
			return [keyRevoked(command.keyId, context)];
		}
	}
}

function decideMembers(
	command: Extract<OrgCommand, { kind: "add_member" | "remove_member" }>,
	state: OrgState,
	context: OrgContext,
): OrgProposal[] | Refusal {
	if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
	const email = command.email.toLowerCase();
	const member = Object.hasOwn(state.members, email) ? state.members[email] : undefined;
	if (command.kind === "add_member") {
		if (member?.role === command.role) return [];
		return [{ id: context.newId(), type: "org.member_added", ts: context.now, data: { email, role: command.role } }];
	}
	if (!member) return { kind: "not_found", detail: `the org has no member ${email}` };
	return [{ id: context.newId(), type: "org.member_removed", ts: context.now, data: { email } }];
}

/** Rollups due now; an ad hoc run of a window already rolled up decides nothing. */
function decideRollUp(command: Extract<OrgCommand, { kind: "roll_up" }>, state: OrgState, context: OrgContext): OrgProposal[] | Refusal {
	const { forceUpTo, detect } = command;
	if (!forceUpTo) return decideRollups(state.rollups, context.now, { detect });
	if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
	if (isRolledUp(state, forceUpTo.period, forceUpTo.window)) return [];
	return decideRollups(state.rollups, context.now, { forceUpTo: forceUpTo.period, detect });
}

/** Whether `window` of `period` is already rolled up. */
export function isRolledUp(state: OrgState, period: Period, window: Window): boolean {
	return (state.rollups.through[period] ?? Number.NEGATIVE_INFINITY) >= window.end;
}

export const orgDecider = { decide: decideOrg } satisfies Decider<OrgState, OrgCommand, OrgProposal, OrgContext>;

export function activeKeyIds(state: OrgState): string[] {
	return Object.keys(state.keys).filter((id) => state.keys[id]?.revokedAt === null);
}

/** Whether a key opens anything at `now`: not revoked, and not past its expiry. */
export function keyIsLive(key: OrgKey, now: number): boolean {
	return key.revokedAt === null && (key.expiresAt === null || now < key.expiresAt);
}

function liveAdminKeyIds(state: OrgState, now: number): string[] {
	return Object.keys(state.keys).filter((id) => {
		const key = state.keys[id];
		return key !== undefined && key.role === "admin" && keyIsLive(key, now);
	});
}

export function keyView(id: string, key: OrgKey): KeyView {
	return { id, label: key.label, role: key.role, createdAt: key.createdAt, revokedAt: key.revokedAt, expiresAt: key.expiresAt };
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
	const webhooks: Webhooks = {};
	for (const [id, endpoint] of Object.entries(state.webhooks))
		webhooks[id] = { ...endpoint, salt: REDACTED, previous: endpoint.previous && { ...endpoint.previous, salt: REDACTED } };
	return { ...state, keys, webhooks };
}

/** A web visit's interaction closes its session's entry, if that entry is for this visit or an earlier one. */
function withoutEndedVisit(active: ActiveSessions, interaction: Interaction): ActiveSessions {
	if (interaction.source !== "web") return active;
	const entry = active[interaction.actor.id];
	const visit = (interaction.summary as { visit?: unknown }).visit;
	if (!entry || (typeof visit === "number" && entry.visit > visit)) return active;
	const { [interaction.actor.id]: _ended, ...rest } = active;
	return rest;
}

/** A history start must be in the past, and not further back than a backfill may reach. */
function historyFromError(historyFrom: number | undefined, now: number): Refusal | null {
	if (historyFrom === undefined) return null;
	if (historyFrom <= now && historyFrom >= now - MAX_HISTORY_AGE_MS) return null;
	const message = historyFrom > now ? "is in the future" : "is more than 400 days ago";
	return { kind: "invalid", detail: "historyFrom must be in the past 400 days.", errors: [{ path: "historyFrom", message }] };
}

export function evolveOrg(state: OrgState, event: OrgEvent): OrgState {
	switch (event.type) {
		case "org.created": {
			if (state.createdAt !== null) throw new Error("org already created");
			const { name, clientActionId, historyFrom } = event.data;
			const from = Math.min(event.ts, historyFrom ?? event.ts);
			return { ...state, name, createdAt: event.ts, createdBy: clientActionId ?? null, rollups: rollupsFrom(from) };
		}
		case "org.key_created":
			return addKey(state, event);
		case "org.key_revoked": {
			const { keyId } = event.data;
			const key = state.keys[keyId];
			if (!key) throw new Error(`no key ${keyId}`);
			if (key.revokedAt !== null) throw new Error(`key ${keyId} is already revoked`);
			return { ...state, keys: { ...state.keys, [keyId]: { ...key, revokedAt: event.ts } } };
		}
		case "org.member_added": {
			const { email, role } = event.data;
			return { ...state, members: { ...state.members, [email]: { role, since: event.ts } } };
		}
		case "org.member_removed": {
			const { [event.data.email]: _removed, ...members } = state.members;
			return { ...state, members };
		}
		case "org.visit_started": {
			const { session, visit, startedAt } = event.data;
			return { ...state, activeSessions: { ...state.activeSessions, [session]: { visit, startedAt } } };
		}
		case "org.camera_status": {
			const { camera, status, at } = event.data;
			const known = state.cameras[camera];
			// A late delivery of an older change must not undo a newer one.
			if (known && known.since > at) return state;
			return { ...state, cameras: { ...state.cameras, [camera]: { status, since: at } } };
		}
		case "org.interaction_recorded": {
			const interaction = event.data;
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
			return { ...state, rollups: applyRollup(state.rollups, event.data) };
		case "org.pattern_detected":
			return { ...state, rollups: applyPattern(state.rollups, event.data) };
		case "org.report_written":
			return { ...state, rollups: applyReport(state.rollups, event.data) };
		case "org.webhook_created":
		case "org.webhook_updated":
		case "org.webhook_deleted":
		case "org.webhook_disabled":
		case "org.webhook_secret_rotated":
			return { ...state, webhooks: evolveWebhooks(state.webhooks, event) };
		case "org.erasure_requested":
			return { ...state, erasures: requestErasure(state.erasures, event.data, event.ts) };
		case "org.erasure_step_done":
			return { ...state, erasures: recordErasureStep(state.erasures, event.data, event.ts) };
		case "org.settings_set":
			return { ...state, ...evolveSettings(state, event) };
		case "org.policy_set":
		case "org.deletion_requested":
			return { ...state, ...evolvePolicy(state, event) };
		// An audit record only: what was exported is not the org's state.
		case "org.subject_exported":
			return state;
		case "org.deleted":
			// The tombstone: the only event of a deleted org's log.
			return { ...state, ...evolvePolicy(state, event), name: event.data.name, createdAt: event.data.createdAt };
		default:
			throw new Error(`org has no reducer for ${(event as { type: string }).type}`);
	}
}

function addKey(state: OrgState, event: Extract<OrgEvent, { type: "org.key_created" }>): OrgState {
	const { keyId, hash, label, clientActionId, role, expiresAt } = event.data;
	if (state.createdAt === null) throw new Error("a key needs a created org");
	if (state.keys[keyId]) throw new Error(`key ${keyId} already exists`);
	const key: OrgKey = {
		label: label ?? null,
		role,
		createdAt: event.ts,
		revokedAt: null,
		expiresAt: expiresAt ?? null,
		clientActionId: clientActionId ?? null,
		hash,
	};
	return { ...state, keys: { ...state.keys, [keyId]: key } };
}

export const orgDefinition: ActorDefinition<OrgState, OrgEvent> = {
	kind: "org",
	catalog: orgCatalog,
	// 2: keys and the creating action joined the state. 3: interaction counts. 4: rollups, patterns, reports. 5: active sessions. 6: cameras.
	// 7: key scopes. 8: webhook endpoints. 9: key roles and expiry, members. 10: erasures. 11: data policy, deletion.
	// 12: settings.
	reducerVersion: 12,
	initialState: initialOrgState,
	evolve: evolveOrg,
	redactEvent: redactKeyHash,
	redactState: publicOrgState,
	// Indexed tables beside the log (src/reducers/org-projections.ts); they change no state, so no reducer version.
	projections: [interactionsProjection],
};

/** Key hashes never leave the org actor, not even inside the events that recorded them. */
export function redactKeyHash(event: RecordedEvent): RecordedEvent {
	if (event.data === null || typeof event.data !== "object") return event;
	if (event.type === "org.key_created" && "hash" in event.data) return { ...event, data: { ...event.data, hash: REDACTED } };
	// A webhook's salt alone signs nothing (the secret also needs WEBHOOK_SECRET_KEY), but it stays inside too.
	if ((event.type === "org.webhook_created" || event.type === "org.webhook_secret_rotated") && "salt" in event.data)
		return { ...event, data: { ...event.data, salt: REDACTED } };
	return event;
}
