/**
 * The org actor: its profile and its API keys (as SHA-256 hashes only). Every request to an org's
 * routes asks this actor whether its key is good, so a revocation takes effect on the next request.
 */
import { uuidv7 } from "uuidv7";
import { memberKeyId } from "../core/identity.ts";
import { type ActorError, fail, type Outcome, ok } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import type { EventMeta } from "../events/envelope.ts";
import { ERASURE_STEP_MESSAGE } from "../events/erasure.ts";
import type { KeyRole, MemberRole } from "../events/org.ts";
import { AUDITED_ORG_EVENTS } from "../events/org-audit.ts";
import type { Period, PeriodOrAll } from "../patterns/windows.ts";
import { isRefusal } from "../reducers/definition.ts";
import {
	decideOrg,
	type KeyView,
	keyViews,
	type NewKey,
	type OrgCommand,
	type OrgContext,
	type OrgProposal,
	type OrgState,
	orgDefinition,
} from "../reducers/org.ts";
import type { ErasureView } from "../reducers/org-erasure.ts";
import { type OrgSettings, type SetSettings, settingsInForce } from "../reducers/org-settings.ts";
import { type AppendReceipt, type Effects, EventSourcedActor, type Plan, type TimerPlan } from "./actor.ts";
import type { ExternalVerdict } from "./kernel/courier.ts";
import { OrgAccess, type SocketTicket } from "./org-access.ts";
import {
	ERASURE_KEYS_TIMER,
	type ErasureKeysPayload,
	type ErasureTarget,
	erasureEffects,
	erasureOf,
	erasureRequest,
	shredKeys,
} from "./org-erasures.ts";
import { type IntakeAnswer, intakeDeadLetter, messageCommand, receiveIntake } from "./org-messages.ts";
import { type DeletionView, deletionView, OrgRetention, type PolicyView, RETENTION_TIMER } from "./org-retention.ts";
import { OrgRollupRunner, ROLLUP_TIMERS } from "./org-rollup-runner.ts";
import { type InteractionSearch, type InteractionSearchPage, searchInteractions } from "./org-search.ts";
import {
	listSessions,
	RECENT_CHATS_SCAN,
	recentChats,
	type SessionHit,
	type SessionList,
	type SessionListQuery,
	type SessionSearch,
	sessionHits,
	storedInteractions,
} from "./org-sessions.ts";
import { type SubjectExportPage, type SubjectExportQuery, subjectExportRequest } from "./org-subject-export.ts";
import {
	type AuditEntry,
	auditPage,
	type CameraListing,
	cameraList,
	keyOf,
	type OrgProfile,
	type OrgView,
	type PatternsView,
	patternsView,
	type RecordedInteraction,
	type RollupRun,
	recordedInteractions,
} from "./org-views.ts";
import { OrgWebhooks } from "./org-webhook-commands.ts";
import type { ActorMessage, PendingMessage, QueueBinding } from "./outbox.ts";
import { SubjectKeys } from "./subject-keys.ts";
import type { Timer } from "./timers.ts";

export { ROLLUP_TIMERS } from "./org-rollup-runner.ts";
export type { SessionHit, SessionList, SessionListing, SessionListQuery, SessionSearch } from "./org-sessions.ts";
export type { AuditEntry, OrgProfile, OrgView, PatternsView, RecordedInteraction, RollupRun, RollupView } from "./org-views.ts";

export class OrgActor extends EventSourcedActor<OrgState, OrgProposal> {
	// The org's parts, each in its own file: webhooks (org-webhook-commands.ts), the keys of sealed personal fields
	// (subject-keys.ts), keys/members/tickets (org-access.ts), rollups (org-rollup-runner.ts), policy (org-retention.ts).
	readonly #webhooks: OrgWebhooks;
	readonly #subjects: SubjectKeys;
	readonly #access: OrgAccess;
	readonly #rollups: OrgRollupRunner;
	readonly #retention: OrgRetention;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, orgDefinition);
		this.#subjects = new SubjectKeys(ctx.storage.sql);
		this.#access = new OrgAccess({ storage: ctx.storage, state: () => this.state, now: () => this.now() });
		this.#rollups = new OrgRollupRunner({
			env,
			org: () => this.actor.org,
			state: () => this.state,
			now: () => this.now(),
			timers: this.timers,
			version: () => this.version,
			decide: (command, state, version, asOf) => decideOrg(command, state, this.#context(version, asOf)),
			decided: (command) => this.#decided(command),
			execute: (meta, plan) => this.execute({ meta }, plan),
		});
		const decide = (command: OrgCommand, state: OrgState, version: number) => decideOrg(command, state, this.#context(version));
		this.#retention = new OrgRetention(
			{
				env,
				org: () => this.actor.org,
				state: () => this.state,
				now: () => this.now(),
				subjects: this.#subjects,
				version: () => this.version,
				decide,
				execute: (meta, plan) => this.execute({ meta }, plan),
				compactLog: (before) => this.compactLog({ before }),
				waitUntil: (work) => ctx.waitUntil(work),
			},
			ctx.storage.sql,
		);
		this.#webhooks = new OrgWebhooks(ctx.storage.sql, env, {
			org: () => this.actor.org,
			state: () => this.state,
			now: () => this.now(),
			execute: (plan) => this.execute({}, plan),
			decide: (command, state, version) => decideOrg(command, state, this.#context(version)),
			rearm: () => this.rearm(),
		});
	}

	createWebhook(input: Parameters<OrgWebhooks["create"]>[0]) {
		return this.#webhooks.create(input);
	}
	updateWebhook(webhookId: string, patch: Parameters<OrgWebhooks["update"]>[1]) {
		return this.#webhooks.update(webhookId, patch);
	}
	deleteWebhook(webhookId: string) {
		return this.#webhooks.delete(webhookId);
	}
	rotateWebhookSecret(webhookId: string) {
		return this.#webhooks.rotateSecret(webhookId);
	}
	listWebhooks() {
		return this.#webhooks.list();
	}
	webhook(webhookId: string) {
		return this.#webhooks.get(webhookId);
	}
	testWebhook(webhookId: string) {
		return this.#webhooks.test(webhookId);
	}
	webhookDeliveries(webhookId: string, query: Parameters<OrgWebhooks["deliveries"]>[1]) {
		return this.#webhooks.deliveries(webhookId, query);
	}
	retryWebhookDelivery(webhookId: string, deliveryId: string) {
		return this.#webhooks.retry(webhookId, deliveryId);
	}

	/** Every commit's events that webhook endpoints subscribe to become deliveries, in the same transaction. */
	protected override commitEffects(receipt: AppendReceipt, state: OrgState): Effects {
		const deletion = this.#retention.commitEffects(receipt, state);
		const hooks = this.#webhooks.deliveriesOf(receipt, state);
		return { outbox: [...(hooks.outbox ?? [])], timers: [...(hooks.timers ?? []), ...(deletion.timers ?? [])] };
	}

	protected override deliverExternal(message: PendingMessage): Promise<ExternalVerdict> {
		return this.#webhooks.deliver(message);
	}

	/** Creates the org with its first key; a retry of the same action keeps the org and replaces that key. */
	create(input: Omit<Extract<OrgCommand, { kind: "create" }>, "kind">, meta: EventMeta = {}): Outcome<{ org: OrgProfile; key: KeyView }> {
		return this.#run({ kind: "create", ...input }, meta, (after) => ({ org: this.#profile(after), key: keyOf(after, input.key.keyId) }));
	}

	/** Adds a key; a retry of the same action revokes the key it issued before and adds this one. */
	issueKey(input: { key: NewKey; clientActionId?: string }, meta: EventMeta = {}): Outcome<KeyView> {
		return this.#run({ kind: "issue_key", ...input }, meta, (after) => keyOf(after, input.key.keyId));
	}

	/** Revokes a key; revoking a revoked key changes nothing and answers the same. Its sockets on this actor close at once. */
	revokeKey(keyId: string, meta: EventMeta = {}): Outcome<KeyView> {
		const revoked = this.#run({ kind: "revoke_key", keyId }, meta, (after) => keyOf(after, keyId));
		if (revoked.ok) this.closeSocketsOfKey(keyId);
		return revoked;
	}

	/** A member's role, or null for someone who is not a member. */
	memberRole(email: string): MemberRole | null {
		return this.#access.memberRole(email);
	}

	/** The org's members, by email. */
	members(): { email: string; role: MemberRole; since: number }[] {
		return this.#access.members();
	}

	/** Adds a member or changes their role; the same role again changes nothing. A role change closes their sockets with 4003 at the next check. */
	addMember(input: { email: string; role: MemberRole }, meta: EventMeta = {}): Outcome<{ email: string; role: MemberRole; since: number }> {
		return this.#run({ kind: "add_member", ...input }, meta, (after) => {
			const email = input.email.toLowerCase();
			return { email, ...(after.members[email] as { role: MemberRole; since: number }) };
		});
	}

	/** Removes a member: their Access identity opens nothing from the next request on, and their sockets here close at once. */
	removeMember(email: string, meta: EventMeta = {}): Outcome<{ email: string }> {
		const removed = this.#run({ kind: "remove_member", email }, meta, () => ({ email: email.toLowerCase() }));
		if (removed.ok) this.closeSocketsOfKey(memberKeyId(email));
		return removed;
	}

	/** The role of a live key or member id, else null: what every actor's open sockets are re-checked against. */
	override liveKeyRole(keyId: string): Promise<KeyRole | null> {
		return Promise.resolve(this.#access.liveKeyRole(keyId));
	}

	/** The id and role of the live key with this SHA-256 (hex), or null; compared in constant time (src/actors/org-access.ts). */
	authenticate(hash: string): { keyId: string; role: KeyRole; expiresAt: number | null } | null {
		// An org being deleted opens nothing: at once where it was deleted, within the key cache's 10 s elsewhere.
		return this.state.deletion === null ? this.#access.authenticate(hash) : null;
	}

	/** Keeps a socket ticket's hash until it expires (src/api/socket-tickets.ts); false when too many are open. */
	storeSocketTicket(hash: string, ticket: SocketTicket): Promise<boolean> {
		return this.#access.storeSocketTicket(hash, ticket);
	}

	/** Spends a socket ticket: the key it was issued to while it is unexpired and the key still live with the same role. */
	redeemSocketTicket(hash: string): Promise<{ keyId: string; role: KeyRole } | null> {
		return this.#access.redeemSocketTicket(hash);
	}

	view(): Outcome<OrgView & { deletion?: DeletionView }> {
		if (this.state.createdAt === null) return fail({ kind: "not_found", detail: "the org does not exist" });
		const deletion = deletionView(this.state);
		return ok({ org: this.#profile(this.state), keys: keyViews(this.state), version: this.version, ...(deletion ? { deletion } : {}) });
	}

	policy(): PolicyView {
		return this.#retention.policy();
	}

	setPolicy(...args: Parameters<OrgRetention["setPolicy"]>): Outcome<PolicyView> {
		return this.#retention.setPolicy(...args);
	}

	/** The settings in force (docs/api.md, "Org settings"); `explicitSettings`: only those an admin set. */
	settings(state: OrgState = this.state): OrgSettings {
		return settingsInForce(state, this.env);
	}
	explicitSettings(): SetSettings {
		return this.state.settings;
	}
	setSettings(settings: SetSettings, meta: EventMeta, setBy: string | null): Outcome<OrgSettings> {
		return this.#run({ kind: "set_settings", settings, setBy }, meta, (after) => this.settings(after));
	}

	/** Deletes the org (docs/privacy.md): its keys stop at once; follow it on view(). Idempotent. */
	deleteOrg(meta: EventMeta, requestedBy: string | null): Outcome<DeletionView> {
		return this.#retention.requestDeletion(meta, requestedBy);
	}

	keys(): KeyView[] {
		return keyViews(this.state);
	}

	/** Access and policy changes before seq `before`, newest first; `next` is the `before` of the next page. */
	audit(query: { before?: number; limit?: number } = {}): { entries: AuditEntry[]; next: number | null } {
		return auditPage(this.readEventsBackwards({ types: AUDITED_ORG_EVENTS, ...query }));
	}

	/** Interactions received, in the order they arrived; `after` and `next` are seqs of the org's log. */
	interactions(query: { after?: number; limit?: number } = {}): { interactions: RecordedInteraction[]; next: number | null } {
		return recordedInteractions(this.readEvents({ ...query, type: "org.interaction_recorded" }), this.#subjects);
	}

	/** Runs the rollup of `period`'s last complete window now (and whatever it is built from); a window already rolled up is a duplicate. */
	runRollup(period: Period, meta: EventMeta = {}): Outcome<RollupRun> {
		return this.#rollups.run(period, meta);
	}

	/** Rollups of one period (newest first), the patterns found in them and the reports written on them; `all` is all time. */
	patterns(query: { period: PeriodOrAll; limit?: number }): PatternsView {
		return patternsView(this.state, query);
	}

	protected override onTimer(timer: Timer, state: OrgState): TimerPlan<OrgState, OrgProposal> | Promise<TimerPlan<OrgState, OrgProposal>> {
		if (timer.name.startsWith(ERASURE_KEYS_TIMER)) return this.#decided(shredKeys(timer.payload as ErasureKeysPayload, this.#subjects));
		return this.#rollups.onTimer(timer, state) ?? this.#retention.onTimer(timer, state) ?? super.onTimer(timer, state);
	}

	/**
	 * Starts erasing a data subject: records the request (counts only) with an `erase` outbox message per actor
	 * and a timer that shreds the subject's keys, so it resumes after a crash. Answers the erasure, `pending`.
	 */
	requestErasure(target: ErasureTarget, meta: EventMeta = {}, requestedBy: string | null = null): Outcome<ErasureView> {
		const { id, scope, command } = erasureRequest(this.actor.org, target, this.#subjects, requestedBy, uuidv7());
		return this.execute({ meta }, (state, version) => {
			const events = decideOrg(command, state, this.#context(version));
			if (isRefusal(events)) return events;
			return { events, result: (_receipt, after) => erasureOf(after, id), effects: () => erasureEffects(id, scope, this.now()) };
		});
	}

	/** A page of a subject access export (docs/privacy.md, org-subject-export.ts), recorded in the audit trail by counts only. */
	subjectExport(query: SubjectExportQuery, meta: EventMeta = {}, requestedBy: string | null = null): Outcome<SubjectExportPage> {
		const { page, command } = subjectExportRequest(this.#subjects, query, requestedBy, uuidv7());
		return this.#run(command, meta, () => page);
	}

	/** An erasure and how far it got. */
	erasure(id: string): Outcome<ErasureView> {
		if (!Object.hasOwn(this.state.erasures, id)) return fail({ kind: "not_found", detail: `the org has no erasure ${id}` });
		return ok(erasureOf(this.state, id));
	}

	/** Interactions by user, page, source and end time, newest first, from the `interactions` projection (org-search.ts). */
	searchInteractions(query: InteractionSearch = {}): Outcome<InteractionSearchPage> {
		return searchInteractions(this.ctx.storage.sql, this.#subjects, query);
	}

	/** Web visits that ended, newest first, matching every given filter (user id, page, end time), over the whole history. */
	searchSessions(query: SessionSearch = {}): { sessions: SessionHit[]; cursor: string | null; rebuilding?: true } {
		return sessionHits(this.searchInteractions({ ...query, source: "web" }));
	}

	/**
	 * The org's web sessions: `active` ones (a visit open now, newest first, from the directory),
	 * `ended` visits (newest first, from the interactions), or both; see `listSessions` in org-sessions.ts.
	 */
	listSessions(query: SessionListQuery = {}): SessionList {
		const ended = (q: InteractionSearch) => {
			const found = this.searchInteractions({ ...q, source: "web" });
			// While the projection rebuilds, the directory lists what is active and says so by its empty ended part.
			return found.ok ? found.value : { interactions: [], cursor: null };
		};
		return listSessions(this.state.activeSessions, ended, query);
	}

	/** RPC from the dead-letter queues' consumer (src/dead-letters.ts): a message of this org recorded as parked work. */
	recordDeadLetter(input: { queue: string; binding: QueueBinding; messageId: string; attempts: number; body: unknown }): Outcome<null> {
		return this.refuseIfSandbox() ?? this.parkDeadLetter(input);
	}

	/** RPC from the org intake's consumer (src/intake.ts): a queue batch's messages for this org, each answered (`receiveIntake`). */
	receiveBatch(messages: ActorMessage[], queue = "org-intake"): IntakeAnswer[] {
		return receiveIntake(messages, this.actor.org, this.refuseIfSandbox(), {
			record: (message) => this.recordMessage(message),
			park: (message, reason) => this.parkDeadLetter(intakeDeadLetter(message, queue, reason)),
		});
	}

	/** Chats the org has heard from (an answered question among its newest RECENT_CHATS_SCAN interactions), newest first. */
	recentChats(limit: number): { chats: string[] } {
		return { chats: recentChats(storedInteractions(this.log.reverseByType("org.interaction_recorded", RECENT_CHATS_SCAN)), limit) };
	}

	/** The org's cameras with their last known status, most recently changed first. */
	listCameras(): { cameras: CameraListing[] } {
		return { cameras: cameraList(this.state) };
	}

	/** What other actors' outboxes deliver: interactions, visit starts and camera changes, each validated, then decided. */
	protected override onActorMessage(message: ActorMessage): Plan<unknown, OrgState, OrgProposal> | ActorError {
		if (message.from.org === this.actor.org && message.type !== ERASURE_STEP_MESSAGE)
			this.#retention.actors.touch(message.from.kind, message.from.id, this.now());
		const command = messageCommand(message, this.#subjects, (id) => this.log.existingIds([id]).size > 0);
		if (command === null) return super.onActorMessage(message, this.state);
		return "refused" in command ? command.refused : this.#decided(command);
	}

	#context(version: number, now = this.now()): OrgContext {
		return { now, version, newId: uuidv7 };
	}

	/** A plan that appends what `command` decides and answers nothing. */
	#decided(command: OrgCommand): Plan<null, OrgState, OrgProposal> | ActorError {
		const events = decideOrg(command, this.state, this.#context(this.version));
		return isRefusal(events) ? events : { events, result: () => null };
	}

	/** Decides and appends; `answer` reads the state as it is once the events are folded in. */
	#run<R>(command: OrgCommand, meta: EventMeta, answer: (after: OrgState) => R): Outcome<R> {
		return this.execute({ meta }, (state, version) => {
			const events = decideOrg(command, state, this.#context(version));
			if (isRefusal(events)) return events;
			// An org starts its rollup schedule the moment it is created.
			const created = events.some((e) => e.type === "org.created");
			return {
				events,
				result: (_receipt, after) => answer(after),
				effects: () => (created ? { timers: [...ROLLUP_TIMERS, RETENTION_TIMER] } : {}),
			};
		});
	}

	#profile(state: OrgState): OrgProfile {
		return { id: this.actor.org, name: state.name ?? "", createdAt: state.createdAt ?? 0 };
	}
}
