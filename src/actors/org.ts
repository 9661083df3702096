/**
 * The org actor: its profile and its API keys (as SHA-256 hashes only). Every request to an org's
 * routes asks this actor whether its key is good, so a revocation takes effect on the next request.
 */
import { uuidv7 } from "uuidv7";
import type { z } from "zod";
import { MEMBER_KEY_PREFIX, memberKeyId } from "../core/identity.ts";
import { errorText, log } from "../core/log.ts";
import { type ActorError, fail, type Outcome, ok } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import { zodErrors } from "../events/catalog.ts";
import type { EventMeta, Principal } from "../events/envelope.ts";
import { ERASURE_STEP_MESSAGE, erasureStepReport } from "../events/erasure.ts";
import {
	CAMERA_STATUS_MESSAGE,
	cameraStatusSchema,
	INTERACTION_MESSAGE,
	type Interaction,
	interactionSchema,
	type Summary,
	VISIT_STARTED_MESSAGE,
	visitInteractionId,
	visitStartedSchema,
} from "../events/interaction.ts";
import { type KeyRole, type MemberRole, orgCatalog } from "../events/org.ts";
import { AUDITED_ORG_EVENTS } from "../events/org-audit.ts";
import { eventOfType } from "../events/stored.ts";
import { analyze } from "../patterns/analyzer.ts";
import type { Finding, RollupRecord } from "../patterns/detect.ts";
import { describeMetrics } from "../patterns/metrics.ts";
import { PERIODS, type Period, type PeriodOrAll, SCHEDULE, type Window } from "../patterns/windows.ts";
import { writeReport } from "../patterns/write-report.ts";
import { isRefusal, type Refusal } from "../reducers/definition.ts";
import {
	decideOrg,
	isRolledUp,
	type KeyView,
	keyIsLive,
	keyView,
	keyViews,
	type NewKey,
	type OrgCommand,
	type OrgContext,
	type OrgProposal,
	type OrgState,
	orgDefinition,
} from "../reducers/org.ts";
import { type ErasureView, erasureView } from "../reducers/org-erasure.ts";
import { lastCompleteWindow } from "../reducers/org-rollups.ts";
import { type AppendReceipt, type Effects, EventSourcedActor, type Plan, type TimerPlan } from "./actor.ts";
import type { ExternalVerdict } from "./kernel/courier.ts";
import {
	ERASURE_KEYS_TIMER,
	type ErasureKeysPayload,
	type ErasureTarget,
	erasureEffects,
	erasureScope,
	opened,
	sealed,
} from "./org-erasures.ts";
import {
	listSessions,
	MAX_SEARCH_SCAN,
	type SessionHit,
	type SessionList,
	type SessionListQuery,
	type SessionSearch,
	searchSessions,
	storedInteractions,
} from "./org-sessions.ts";
import { type PatternsView, patternsView, type RollupRun, rollupView } from "./org-views.ts";
import { OrgWebhooks } from "./org-webhook-commands.ts";
import type { ActorMessage, PendingMessage, QueueBinding } from "./outbox.ts";
import { analyzeInContainer } from "./pattern-analyzer.ts";
import { SubjectKeys } from "./subject-keys.ts";
import type { Timer, TimerChange } from "./timers.ts";

export type { SessionHit, SessionList, SessionListing, SessionListQuery, SessionSearch } from "./org-sessions.ts";
export type { PatternsView, RollupRun, RollupView } from "./org-views.ts";

/** The rollup timers every org runs (UTC): hourly at :00, daily 02:00, weekly Monday 03:00, monthly the 1st 04:00, yearly 1 January 05:00. */
export const ROLLUP_TIMERS: TimerChange[] = PERIODS.map((period) => ({ name: `rollup:${period}`, spec: { cron: SCHEDULE[period].cron } }));

type RollupRecordRef = { period: Period } & Window;

/** An interaction as the org recorded it: where it sits in the org's log, and when it arrived. */
export interface RecordedInteraction extends Omit<Interaction, "summary"> {
	seq: number;
	recordedAt: number;
	summary: Summary;
}

export interface OrgProfile {
	id: string;
	name: string;
	createdAt: number;
}

/** One access or policy change, as the audit trail lists it: what happened, when, and who made it. */
export interface AuditEntry {
	seq: number;
	id: string;
	type: string;
	ts: number;
	/** The key or member that acted; null for changes made with the admin token or by the system. */
	principal: Principal | null;
	requestId: string | null;
	/** The event's data, redacted as every read of the org's log is (no key hashes). */
	data: unknown;
}

/** What GET /v1/orgs/:org shows: the profile, the keys without their hashes, and the log version. */
export interface OrgView {
	org: OrgProfile;
	keys: KeyView[];
	version: number;
}

const encoder = new TextEncoder();

/** A socket ticket as the org keeps it, under its SHA-256 (never the ticket itself). */
interface SocketTicket {
	keyId: string;
	role: KeyRole;
	expiresAt: number;
}
const TICKET_PREFIX = "socket-ticket:";
/** Unused, unexpired tickets an org may hold at once (a ticket lives 60 s). */
const MAX_OPEN_TICKETS = 1000;

export class OrgActor extends EventSourcedActor<OrgState, OrgProposal> {
	/** Webhook endpoints and their deliveries (src/actors/org-webhook-commands.ts). */
	readonly #webhooks: OrgWebhooks;
	/** Keys of the personal fields sealed in the org's records (src/actors/subject-keys.ts). */
	readonly #subjects: SubjectKeys;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, orgDefinition);
		this.#subjects = new SubjectKeys(ctx.storage.sql);
		this.#webhooks = new OrgWebhooks(ctx.storage.sql, env, {
			org: () => this.actor.org,
			state: () => this.state,
			now: () => this.now(),
			execute: (plan) => this.execute({}, plan),
			decide: (command, state, version) => decideOrg(command, state, this.#context(version)),
			rearm: () => this.rearm(),
		});
	}

	// ---- webhooks (RPC for src/api/webhooks.ts; the work is in src/actors/org-webhook-commands.ts) ----

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
		return this.#webhooks.deliveriesOf(receipt, state);
	}

	protected override deliverExternal(message: PendingMessage): Promise<ExternalVerdict> {
		return this.#webhooks.deliver(message);
	}

	/** Creates the org with its first key; a retry of the same action keeps the org and replaces that key. */
	create(input: { name: string; key: NewKey; clientActionId?: string }, meta: EventMeta = {}): Outcome<{ org: OrgProfile; key: KeyView }> {
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
		const key = email.toLowerCase();
		return Object.hasOwn(this.state.members, key) ? (this.state.members[key]?.role ?? null) : null;
	}

	/** The org's members, by email. */
	members(): { email: string; role: MemberRole; since: number }[] {
		return Object.entries(this.state.members)
			.map(([email, m]) => ({ email, ...m }))
			.sort((a, b) => a.email.localeCompare(b.email));
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

	/**
	 * The role of key `keyId` while it is live (not revoked, not expired), or of the member a `member:<email>` id names,
	 * else null: what every actor's open sockets are re-checked against.
	 */
	override liveKeyRole(keyId: string): Promise<KeyRole | null> {
		if (keyId.startsWith(MEMBER_KEY_PREFIX)) return Promise.resolve(this.memberRole(keyId.slice(MEMBER_KEY_PREFIX.length)));
		const key = Object.hasOwn(this.state.keys, keyId) ? this.state.keys[keyId] : undefined;
		return Promise.resolve(key && keyIsLive(key, this.now()) ? key.role : null);
	}

	/**
	 * The id and role of the live key (not revoked, not expired) with this SHA-256 (hex), or null. Every live key is
	 * compared, each in constant time, so the answer takes as long whichever key matches or none does.
	 */
	authenticate(hash: string): { keyId: string; role: KeyRole } | null {
		if (!/^[0-9a-f]{64}$/.test(hash)) return null;
		const given = encoder.encode(hash);
		const now = this.now();
		let match: { keyId: string; role: KeyRole } | null = null;
		for (const [id, key] of Object.entries(this.state.keys)) {
			if (!keyIsLive(key, now) || !key.hash) continue;
			if (crypto.subtle.timingSafeEqual(given, encoder.encode(key.hash))) match = { keyId: id, role: key.role };
		}
		return match;
	}

	/**
	 * Keeps a socket ticket's hash until it expires (src/api/socket-tickets.ts); false when the org already holds
	 * MAX_OPEN_TICKETS unused ones, so minting cannot grow storage without bound.
	 */
	async storeSocketTicket(hash: string, ticket: SocketTicket): Promise<boolean> {
		const now = this.now();
		const open = await this.ctx.storage.list<SocketTicket>({ prefix: TICKET_PREFIX, limit: MAX_OPEN_TICKETS + 1 });
		const expired = [...open].filter(([, t]) => t.expiresAt <= now).map(([name]) => name);
		if (expired.length > 0) await this.ctx.storage.delete(expired);
		if (open.size - expired.length >= MAX_OPEN_TICKETS) return false;
		await this.ctx.storage.put(`${TICKET_PREFIX}${hash}`, ticket);
		return true;
	}

	/** Spends a ticket: the key it was issued to, if it is unexpired and the key still live with the same role, else null. */
	async redeemSocketTicket(hash: string): Promise<{ keyId: string; role: KeyRole } | null> {
		if (!/^[0-9a-f]{64}$/.test(hash)) return null;
		const name = `${TICKET_PREFIX}${hash}`;
		const ticket = await this.ctx.storage.get<SocketTicket>(name);
		if (!ticket) return null;
		await this.ctx.storage.delete(name);
		if (ticket.expiresAt <= this.now()) return null;
		const role = await this.liveKeyRole(ticket.keyId);
		return role === ticket.role ? { keyId: ticket.keyId, role } : null;
	}

	view(): Outcome<OrgView> {
		if (this.state.createdAt === null) return fail({ kind: "not_found", detail: "the org does not exist" });
		return ok({ org: this.#profile(this.state), keys: keyViews(this.state), version: this.version });
	}

	keys(): KeyView[] {
		return keyViews(this.state);
	}

	/** Access and policy changes before seq `before`, newest first; `next` is the `before` of the next page. */
	audit(query: { before?: number; limit?: number } = {}): { entries: AuditEntry[]; next: number | null } {
		const page = this.readEventsBackwards({ types: AUDITED_ORG_EVENTS, ...query });
		return {
			entries: page.events.map((e) => ({
				seq: e.seq,
				id: e.id,
				type: e.type,
				ts: e.ts,
				principal: e.meta.principal ?? null,
				requestId: e.meta.requestId ?? null,
				data: e.data,
			})),
			next: page.next,
		};
	}

	/** Interactions received, in the order they arrived; `after` and `next` are seqs of the org's log. */
	interactions(query: { after?: number; limit?: number } = {}): { interactions: RecordedInteraction[]; next: number | null } {
		const page = this.readEvents({ ...query, type: "org.interaction_recorded" });
		return {
			interactions: page.events.map((event) => {
				const interaction = opened(eventOfType(event, orgCatalog, "org.interaction_recorded").data, this.#subjects);
				return { ...interaction, summary: interaction.summary as Summary, seq: event.seq, recordedAt: event.ts };
			}),
			next: page.next,
		};
	}

	/** Runs the rollup of `period`'s last complete window now (and whatever it is built from); a window already rolled up is a duplicate. */
	runRollup(period: Period, meta: EventMeta = {}): Outcome<RollupRun> {
		const asOf = this.now();
		const window = lastCompleteWindow(period, asOf);
		const command: OrgCommand = { kind: "roll_up", detect: !this.analyzeInContainer, forceUpTo: { period, window } };
		return this.execute({ meta }, (state, version): Plan<RollupRun, OrgState, OrgProposal> | ActorError => {
			const events = decideOrg(command, state, this.#context(version, asOf));
			if (isRefusal(events)) return events;
			const missing = ROLLUP_TIMERS.filter((t) => !this.timers.get(t.name));
			if (events.length === 0 && isRolledUp(state, period, window)) {
				const record = state.rollups.recent[period].find((r) => r.start === window.start);
				return {
					events: [],
					result: () => ({ period, window, duplicate: true, rollup: record ? rollupView(record) : null }),
					effects: () => ({ timers: missing }),
				};
			}
			const plan = this.#rollupPlan(events);
			return {
				...plan,
				result: (receipt) => {
					const done = appendedRollups(events, receipt).find((r) => r.period === period && r.start === window.start);
					return { period, window, duplicate: false, rollup: done ? rollupView(done) : null };
				},
				effects: (receipt, after) => ({ timers: [...(plan.effects?.(receipt, after).timers ?? []), ...missing] }),
			};
		});
	}

	/** Rollups of one period (newest first), the patterns found in them and the reports written on them; `all` is all time. */
	patterns(query: { period: PeriodOrAll; limit?: number }): PatternsView {
		return patternsView(this.state, query);
	}

	protected override onTimer(timer: Timer, state: OrgState): TimerPlan<OrgState, OrgProposal> | Promise<TimerPlan<OrgState, OrgProposal>> {
		if (timer.name.startsWith("rollup:")) {
			const events = decideOrg({ kind: "roll_up", detect: !this.analyzeInContainer }, state, this.#context(this.version));
			return isRefusal(events) ? events : this.#rollupPlan(events);
		}
		if (timer.name.startsWith("report:")) return this.#reportPlan(timer.payload as RollupRecordRef);
		if (timer.name.startsWith("analyze:")) return this.#analyzePlan(timer.payload as RollupRecordRef);
		if (timer.name.startsWith(ERASURE_KEYS_TIMER)) return this.#shredPlan(timer.payload as ErasureKeysPayload);
		return super.onTimer(timer, state);
	}

	// ---- erasure (docs/privacy.md) ---------------------------------------------------------

	/**
	 * Starts erasing a data subject: records the request (counts only) with an `erase` outbox message per actor
	 * and a timer that shreds the subject's keys, so it resumes after a crash. Answers the erasure, `pending`.
	 */
	requestErasure(target: ErasureTarget, meta: EventMeta = {}, requestedBy: string | null = null): Outcome<ErasureView> {
		const erasure = uuidv7();
		const scope = erasureScope(this.actor.org, target, this.#subjects);
		const command: OrgCommand = {
			kind: "request_erasure",
			erasure,
			subject: scope.subject,
			actors: scope.actors.length,
			keys: scope.keys.length,
			requestedBy,
		};
		return this.execute({ meta }, (state, version) => {
			const events = decideOrg(command, state, this.#context(version));
			if (isRefusal(events)) return events;
			return {
				events,
				result: (_receipt, after) => this.#erasureOf(after, erasure),
				effects: () => erasureEffects(erasure, scope, this.now()),
			};
		});
	}

	/** An erasure and how far it got. */
	erasure(id: string): Outcome<ErasureView> {
		if (!Object.hasOwn(this.state.erasures, id)) return fail({ kind: "not_found", detail: `the org has no erasure ${id}` });
		return ok(this.#erasureOf(this.state, id));
	}

	#erasureOf(state: OrgState, id: string): ErasureView {
		const erasure = state.erasures[id];
		if (!erasure) throw new Error(`no erasure ${id}`);
		return erasureView(erasure);
	}

	/** The last step of an erasure: the subject keys go, so every record sealed under them is unreadable. Idempotent. */
	#shredPlan(payload: ErasureKeysPayload): TimerPlan<OrgState, OrgProposal> {
		for (const subject of payload.subjects) this.#subjects.shred(subject);
		const step = {
			erasure: payload.erasure,
			step: payload.step,
			part: "key" as const,
			objects: 0,
			bytesLeft: 0,
			keys: payload.subjects.length,
		};
		return this.#decided({ kind: "record_erasure_step", ...step });
	}

	/** Whether pattern analysis is sent to the PatternAnalyzerContainer instead of running here. */
	get analyzeInContainer(): boolean {
		return this.env.PATTERN_ANALYZER === "container";
	}

	/**
	 * Rollups and patterns to append. Right after, each rollup gets its analysis (when the container
	 * does it) and then its report, as timers: they survive a restart and retry on failure.
	 */
	#rollupPlan(events: OrgProposal[]): Plan<null, OrgState, OrgProposal> {
		return {
			events,
			result: () => null,
			effects: (receipt) => {
				const rollups = appendedRollups(events, receipt);
				const ref = (r: RollupRecord) => ({ period: r.period, start: r.start, end: r.end });
				const at = this.now();
				return {
					timers: rollups.flatMap((r) => [
						...(this.analyzeInContainer ? [{ name: `analyze:${r.period}:${r.start}`, spec: { once: at }, payload: ref(r) }] : []),
						// Timers due at one instant fire by name, so "analyze:" runs before "report:" and the report sees the patterns.
						...(this.reportPeriods.includes(r.period)
							? [{ name: `report:${r.period}:${r.start}`, spec: { once: at }, payload: ref(r) }]
							: []),
					]),
				};
			},
		};
	}

	/**
	 * Sends one rollup and its baseline to the PatternAnalyzerContainer and records what it finds.
	 * If the container cannot answer, the same analysis runs here, so no rollup goes unanalysed.
	 */
	async #analyzePlan(ref: RollupRecordRef): Promise<TimerPlan<OrgState, OrgProposal>> {
		const records = this.state.rollups.recent[ref.period];
		const current = records.find((r) => r.start === ref.start);
		if (!current) return null;
		const request = { current, earlier: records.filter((r) => r.end <= current.start) };
		let findings: Finding[];
		try {
			findings = (await analyzeInContainer(this.env, request)).findings;
		} catch (error) {
			log("warn", "pattern analyzer container unavailable, analysing in the Worker", { org: this.actor.org, error: errorText(error) });
			findings = analyze(request, "worker").findings;
		}
		return this.#decided({ kind: "record_patterns", findings });
	}

	/** Writes the report on one rollup. The rollup is read after the await: only the report's text comes from before it. */
	async #reportPlan(ref: RollupRecordRef): Promise<TimerPlan<OrgState, OrgProposal>> {
		const findings = (state: OrgState) => state.rollups.patterns.filter((f) => f.period === ref.period && f.window.start === ref.start);
		const record = this.state.rollups.recent[ref.period].find((r) => r.start === ref.start);
		if (!record) return null;
		const written = await writeReport(this.env, ref.period, ref, describeMetrics(record.metrics), findings(this.state));
		return this.#decided({ kind: "record_report", ref, written });
	}

	get reportPeriods(): Period[] {
		const configured = (this.env.ROLLUP_REPORTS ?? PERIODS.join(",")).split(",").map((p) => p.trim());
		return PERIODS.filter((p) => configured.includes(p));
	}

	/**
	 * Web visits that ended, newest first, matching every given filter: a user id, a page path the
	 * visit included, or a window on when it ended. Reads the org's log of interactions backwards.
	 */
	searchSessions(query: SessionSearch = {}): { sessions: SessionHit[]; scanned: number } {
		return searchSessions(this.#endedVisits(), query);
	}

	/**
	 * The org's web sessions: `active` ones (a visit open now, newest first, from the directory),
	 * `ended` visits (newest first, from the interactions), or both; see `listSessions` in org-sessions.ts.
	 */
	listSessions(query: SessionListQuery = {}): SessionList {
		return listSessions(this.state.activeSessions, (before) => this.#endedVisits(before), query);
	}

	/** Recorded interactions before seq `before`, newest first, upcast: at most MAX_SEARCH_SCAN per read. */
	*#endedVisits(before?: number) {
		for (const row of storedInteractions(this.log.reverseByType("org.interaction_recorded", MAX_SEARCH_SCAN, before))) {
			yield { ...row, interaction: opened(row.interaction, this.#subjects) };
		}
	}

	/** The org's cameras with their last known status, most recently changed first. */
	/** RPC from the dead-letter queues' consumer (src/dead-letters.ts): a message of this org recorded as parked work. */
	recordDeadLetter(input: { queue: string; binding: QueueBinding; messageId: string; attempts: number; body: unknown }): Outcome<null> {
		return this.refuseIfSandbox() ?? this.parkDeadLetter(input);
	}

	listCameras(): { cameras: { camera: string; status: "online" | "offline"; since: number }[] } {
		return {
			cameras: Object.entries(this.state.cameras)
				.map(([camera, entry]) => ({ camera, ...entry }))
				.sort((a, b) => b.since - a.since || a.camera.localeCompare(b.camera)),
		};
	}

	/** What other actors' outboxes deliver: interactions, visit starts and camera changes, each validated, then decided. */
	protected override onActorMessage(message: ActorMessage): Plan<unknown, OrgState, OrgProposal> | ActorError {
		const command = this.#messageCommand(message);
		if (command === null) return super.onActorMessage(message, this.state);
		return "refused" in command ? command.refused : this.#decided(command);
	}

	/** The command a delivered message asks for, a refusal of its data, or null for a type the org does not handle. */
	#messageCommand(message: ActorMessage): OrgCommand | { refused: Refusal } | null {
		const invalid = (what: string, error: z.ZodError) => ({
			refused: { kind: "invalid" as const, detail: `the ${what} has invalid fields`, errors: zodErrors(error, "data") },
		});
		if (message.type === ERASURE_STEP_MESSAGE) {
			const parsed = erasureStepReport.safeParse(message.data);
			if (!parsed.success) return invalid("erasure step", parsed.error);
			return { kind: "record_erasure_step", ...parsed.data, part: "actor", keys: 0 };
		}
		if (message.type === CAMERA_STATUS_MESSAGE) {
			const parsed = cameraStatusSchema.safeParse(message.data);
			if (!parsed.success) return invalid("camera status", parsed.error);
			return { kind: "record_camera_status", id: message.id.replace(/>org$/, ""), status: parsed.data };
		}
		if (message.type === VISIT_STARTED_MESSAGE) {
			const parsed = visitStartedSchema.safeParse(message.data);
			if (!parsed.success) return invalid("visit", parsed.error);
			const ended = this.log.existingIds([visitInteractionId(parsed.data.session, parsed.data.visit)]).size > 0;
			return { kind: "record_visit_started", visit: parsed.data, ended };
		}
		if (message.type !== INTERACTION_MESSAGE) return null;
		const parsed = interactionSchema.safeParse(message.data);
		if (!parsed.success) return invalid("interaction", parsed.error);
		return { kind: "record_interaction", interaction: sealed(parsed.data, this.#subjects) };
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
			return { events, result: (_receipt, after) => answer(after), effects: () => (created ? { timers: ROLLUP_TIMERS } : {}) };
		});
	}

	#profile(state: OrgState): OrgProfile {
		return { id: this.actor.org, name: state.name ?? "", createdAt: state.createdAt ?? 0 };
	}
}

function keyOf(state: OrgState, keyId: string): KeyView {
	const key = state.keys[keyId];
	if (!key) throw new Error(`no key ${keyId}`);
	return keyView(keyId, key);
}

/** The rollups among the decided `events` that the receipt appended (a duplicate id was not), as they were decided. */
function appendedRollups(events: readonly OrgProposal[], receipt: AppendReceipt): RollupRecord[] {
	const appended = new Set(receipt.appended.map((e) => e.id));
	return events.flatMap((e) => (e.type === "org.rollup_completed" && appended.has(e.id) ? [e.data] : []));
}
