/**
 * The org actor: its profile and its API keys (as SHA-256 hashes only). Every request to an org's
 * routes asks this actor whether its key is good, so a revocation takes effect on the next request.
 */
import { uuidv7 } from "uuidv7";
import type { Env } from "../env.ts";
import { zodErrors } from "../events/catalog.ts";
import type { EventMeta, ProposedEvent } from "../events/envelope.ts";
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
import type { KeyScope } from "../events/org.ts";
import { analyze } from "../patterns/analyzer.ts";
import type { Finding, RollupRecord } from "../patterns/detect.ts";
import { describeMetrics, type MetricsView } from "../patterns/metrics.ts";
import { PERIODS, type Period, type PeriodOrAll, SCHEDULE, type Window, windowLabel } from "../patterns/windows.ts";
import { writeReport } from "../patterns/write-report.ts";
import {
	decideOrg,
	type KeyView,
	keyView,
	keyViews,
	type NewKey,
	type OrgChange,
	type OrgCommand,
	type OrgState,
	orgDefinition,
} from "../reducers/org.ts";
import { decideRollups, lastCompleteWindow, type ReportRecord } from "../reducers/org-rollups.ts";
import { EventSourcedActor, type Plan, type TimerPlan } from "./actor.ts";
import type { ActorMessage } from "./outbox.ts";
import { type ActorError, fail, type Outcome, ok } from "./outcome.ts";
import { analyzeInContainer } from "./pattern-analyzer.ts";
import type { Timer, TimerChange } from "./timers.ts";

/** The rollup timers every org runs (UTC): hourly at :00, daily 02:00, weekly Monday 03:00, monthly the 1st 04:00, yearly 1 January 05:00. */
export const ROLLUP_TIMERS: TimerChange[] = PERIODS.map((period) => ({ name: `rollup:${period}`, spec: { cron: SCHEDULE[period].cron } }));

type RollupRecordRef = { period: Period } & Window;

export interface RollupView extends Window {
	period: PeriodOrAll;
	label: string;
	metrics: MetricsView;
}

export interface RollupRun {
	period: Period;
	window: Window;
	/** True when the window was already rolled up: nothing was appended. */
	duplicate: boolean;
	rollup: RollupView | null;
}

export interface PatternsView {
	period: PeriodOrAll;
	rollups: RollupView[];
	patterns: Finding[];
	reports: ReportRecord[];
}

function rollupView(record: RollupRecord): RollupView {
	return {
		period: record.period,
		start: record.start,
		end: record.end,
		label: windowLabel(record.period, record),
		metrics: describeMetrics(record.metrics),
	};
}

function parseCursor(cursor: string | undefined): { phase: "active" | "ended"; at: number } {
	const match = /^([ae])(\d{1,15})$/.exec(cursor ?? "");
	if (!match) return { phase: "active", at: 0 };
	return { phase: match[1] === "e" ? "ended" : "active", at: Number(match[2]) };
}

export interface SessionListQuery {
	status?: "active" | "ended" | "all";
	from?: number;
	to?: number;
	limit?: number;
	cursor?: string;
}

export interface SessionListing {
	session: string;
	status: "active" | "ended";
	visit: number;
	startedAt: number;
	endedAt: number | null;
	summary: Summary | null;
}

export interface SessionList {
	sessions: SessionListing[];
	/** How many sessions are active now (within the time filter). */
	active: number;
	/** Pass back to get the next page; null on the last. A page may hold fewer than `limit` and still have a cursor. */
	cursor: string | null;
}

/** Filters for searching ended web visits; every given one must match. */
export interface SessionSearch {
	userId?: string;
	/** A path the visit viewed, exactly (`/shoes`). */
	page?: string;
	/** Ended at or after / before (ms). */
	from?: number;
	to?: number;
	limit?: number;
}

export interface SessionHit {
	session: string;
	interactionId: string;
	seq: number;
	startedAt: number;
	endedAt: number;
	summary: Summary;
}

/** How far back a search reads, so one query's cost stays bounded however long the org's history. */
const MAX_SEARCH_SCAN = 5000;

function matches(interaction: Interaction, query: SessionSearch): boolean {
	const summary = interaction.summary as { userId?: string | null; pages?: string[] };
	if (query.userId !== undefined && summary.userId !== query.userId) return false;
	if (query.page !== undefined && !summary.pages?.includes(query.page)) return false;
	if (query.from !== undefined && interaction.endedAt < query.from) return false;
	if (query.to !== undefined && interaction.endedAt >= query.to) return false;
	return true;
}

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
	scope: KeyScope;
	expiresAt: number;
}
const TICKET_PREFIX = "socket-ticket:";
/** Unused, unexpired tickets an org may hold at once (a ticket lives 60 s). */
const MAX_OPEN_TICKETS = 1000;

export class OrgActor extends EventSourcedActor<OrgState> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, orgDefinition);
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

	/** The scope of key `keyId` while it is live (not revoked), else null: what every actor's open sockets are re-checked against. */
	override liveKeyScope(keyId: string): Promise<KeyScope | null> {
		const key = Object.hasOwn(this.state.keys, keyId) ? this.state.keys[keyId] : undefined;
		return Promise.resolve(key && key.revokedAt === null ? key.scope : null);
	}

	/**
	 * The id and scope of the active key with this SHA-256 (hex), or null. Every active key is compared,
	 * each in constant time, so the answer takes as long whichever key matches or none does.
	 */
	authenticate(hash: string): { keyId: string; scope: KeyScope } | null {
		if (!/^[0-9a-f]{64}$/.test(hash)) return null;
		const given = encoder.encode(hash);
		let match: { keyId: string; scope: KeyScope } | null = null;
		for (const [id, key] of Object.entries(this.state.keys)) {
			if (key.revokedAt !== null || !key.hash) continue;
			if (crypto.subtle.timingSafeEqual(given, encoder.encode(key.hash))) match = { keyId: id, scope: key.scope };
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

	/** Spends a ticket: the key it was issued to, if it is unexpired and the key still live with the same scope, else null. */
	async redeemSocketTicket(hash: string): Promise<{ keyId: string; scope: KeyScope } | null> {
		if (!/^[0-9a-f]{64}$/.test(hash)) return null;
		const name = `${TICKET_PREFIX}${hash}`;
		const ticket = await this.ctx.storage.get<SocketTicket>(name);
		if (!ticket) return null;
		await this.ctx.storage.delete(name);
		if (ticket.expiresAt <= this.now()) return null;
		const scope = await this.liveKeyScope(ticket.keyId);
		return scope === ticket.scope ? { keyId: ticket.keyId, scope } : null;
	}

	view(): Outcome<OrgView> {
		if (this.state.createdAt === null) return fail({ kind: "not_found", detail: "the org does not exist" });
		return ok({ org: this.#profile(this.state), keys: keyViews(this.state), version: this.version });
	}

	keys(): KeyView[] {
		return keyViews(this.state);
	}

	/** Interactions received, in the order they arrived; `after` and `next` are seqs of the org's log. */
	interactions(query: { after?: number; limit?: number } = {}): { interactions: RecordedInteraction[]; next: number | null } {
		const page = this.readEvents({ ...query, type: "org.interaction_recorded" });
		return {
			interactions: page.events.map((event) => ({
				...(event.data as Interaction),
				summary: (event.data as Interaction).summary as Summary,
				seq: event.seq,
				recordedAt: event.ts,
			})),
			next: page.next,
		};
	}

	/**
	 * Web visits that ended, newest first, matching every given filter: a user id, a page path the
	 * visit included, or a window on when it ended. Reads the org's log of interactions backwards.
	 */
	searchSessions(query: SessionSearch = {}): { sessions: SessionHit[]; scanned: number } {
		const limit = Math.min(Math.max(1, query.limit ?? 20), 200);
		const sessions: SessionHit[] = [];
		let scanned = 0;
		for (const row of this.log.reverseByType("org.interaction_recorded", MAX_SEARCH_SCAN)) {
			scanned++;
			const interaction = JSON.parse(row.data) as Interaction;
			if (interaction.source !== "web" || !matches(interaction, query)) continue;
			sessions.push({
				session: interaction.actor.id,
				interactionId: interaction.id,
				seq: row.seq,
				startedAt: interaction.startedAt,
				endedAt: interaction.endedAt,
				summary: interaction.summary as Summary,
			});
			if (sessions.length >= limit) break;
		}
		return { sessions, scanned };
	}

	/** Interactions arrive from other actors' outboxes; the interaction's id is the event id, so a re-sent one is a duplicate. */
	/** Runs the rollup of `period`'s last complete window now (and whatever it is built from); a window already rolled up is a duplicate. */
	runRollup(period: Period, meta: EventMeta = {}): Outcome<RollupRun> {
		const asOf = this.now();
		const window = lastCompleteWindow(period, asOf);
		return this.execute({ meta }, (state): Plan<RollupRun, OrgState> | ActorError => {
			if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
			const missing = ROLLUP_TIMERS.filter((t) => !this.timers.get(t.name));
			const ensureTimers = () => ({ timers: missing });
			if ((state.rollups.through[period] ?? Number.NEGATIVE_INFINITY) >= window.end) {
				const record = state.rollups.recent[period].find((r) => r.start === window.start);
				return {
					events: [],
					result: () => ({ period, window, duplicate: true, rollup: record ? rollupView(record) : null }),
					effects: ensureTimers,
				};
			}
			const plan = this.#rollupPlan(decideRollups(state.rollups, asOf, { forceUpTo: period, detect: !this.analyzeInContainer }));
			return {
				...plan,
				result: (receipt) => {
					const done = receipt.appended.find(
						(e) =>
							e.type === "org.rollup_completed" &&
							(e.data as RollupRecord).period === period &&
							(e.data as RollupRecord).start === window.start,
					);
					return { period, window, duplicate: false, rollup: done ? rollupView(done.data as RollupRecord) : null };
				},
				effects: (receipt, after) => ({ timers: [...(plan.effects?.(receipt, after).timers ?? []), ...missing] }),
			};
		});
	}

	/** Rollups of one period (newest first), the patterns found in them and the reports written on them; `all` is all time. */
	patterns(query: { period: PeriodOrAll; limit?: number }): PatternsView {
		const limit = Math.min(Math.max(1, query.limit ?? 24), 200);
		const { rollups, createdAt } = this.state;
		if (query.period === "all") {
			const through = rollups.through.daily;
			const rollup =
				createdAt === null || through === null
					? []
					: [{ period: "all" as const, start: createdAt, end: through, label: "all time", metrics: describeMetrics(rollups.all) }];
			return {
				period: "all",
				rollups: rollup,
				patterns: rollups.patterns.slice(-limit).reverse(),
				reports: rollups.reports.slice(-limit).reverse(),
			};
		}
		const period = query.period;
		return {
			period,
			rollups: rollups.recent[period].slice(-limit).reverse().map(rollupView),
			patterns: rollups.patterns
				.filter((f) => f.period === period)
				.slice(-limit)
				.reverse(),
			reports: rollups.reports
				.filter((r) => r.period === period)
				.slice(-limit)
				.reverse(),
		};
	}

	protected override onTimer(timer: Timer, state: OrgState): TimerPlan<OrgState> | Promise<TimerPlan<OrgState>> {
		if (timer.name.startsWith("rollup:"))
			return this.#rollupPlan(decideRollups(state.rollups, this.now(), { detect: !this.analyzeInContainer }));
		if (timer.name.startsWith("report:")) return this.#reportPlan(timer.payload as RollupRecordRef);
		if (timer.name.startsWith("analyze:")) return this.#analyzePlan(timer.payload as RollupRecordRef);
		return super.onTimer(timer, state);
	}

	/** Whether pattern analysis is sent to the PatternAnalyzerContainer instead of running here. */
	get analyzeInContainer(): boolean {
		return this.env.PATTERN_ANALYZER === "container";
	}

	/**
	 * Rollups and patterns to append. Right after, each rollup gets its analysis (when the container
	 * does it) and then its report, as timers: they survive a restart and retry on failure.
	 */
	#rollupPlan(events: ProposedEvent[]): Plan<null, OrgState> {
		return {
			events,
			result: () => null,
			effects: (receipt) => {
				const rollups = receipt.appended.filter((e) => e.type === "org.rollup_completed").map((e) => e.data as RollupRecord);
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
	async #analyzePlan(ref: RollupRecordRef): Promise<TimerPlan<OrgState>> {
		const records = this.state.rollups.recent[ref.period];
		const current = records.find((r) => r.start === ref.start);
		if (!current) return null;
		const request = { current, earlier: records.filter((r) => r.end <= current.start) };
		let findings: Finding[];
		try {
			findings = (await analyzeInContainer(this.env, request)).findings;
		} catch (error) {
			console.warn(
				`org ${this.actor.org}: pattern analyzer container unavailable, analysing in the Worker: ${error instanceof Error ? error.message : error}`,
			);
			findings = analyze(request, "worker").findings;
		}
		return {
			events: findings.map((finding) => ({ id: finding.id, type: "org.pattern_detected", ts: this.now(), data: finding })),
			result: () => null,
		};
	}

	/** Writes the report on one rollup. The rollup is read after the await: only the report's text comes from before it. */
	async #reportPlan(ref: RollupRecordRef): Promise<TimerPlan<OrgState>> {
		const findings = (state: OrgState) => state.rollups.patterns.filter((f) => f.period === ref.period && f.window.start === ref.start);
		const record = this.state.rollups.recent[ref.period].find((r) => r.start === ref.start);
		if (!record) return null;
		const written = await writeReport(this.env, ref.period, ref, describeMetrics(record.metrics), findings(this.state));
		return {
			events: [{ id: `report:${ref.period}:${ref.start}`, type: "org.report_written", ts: this.now(), data: { ...ref, ...written } }],
			result: () => null,
		};
	}

	get reportPeriods(): Period[] {
		const configured = (this.env.ROLLUP_REPORTS ?? PERIODS.join(",")).split(",").map((p) => p.trim());
		return PERIODS.filter((p) => configured.includes(p));
	}

	/**
	 * The org's web sessions: `active` ones (a visit open now, newest first, from the directory),
	 * `ended` visits (newest first, from the interactions), or both. Time filters apply to when the
	 * visit started (active) or ended (ended); `cursor` pages on from where the last page stopped.
	 */
	listSessions(query: SessionListQuery = {}): SessionList {
		const status = query.status ?? "all";
		const limit = Math.min(Math.max(1, query.limit ?? 50), 200);
		const inWindow = (at: number) => (query.from === undefined || at >= query.from) && (query.to === undefined || at < query.to);
		const active: SessionListing[] =
			status === "ended"
				? []
				: Object.entries(this.state.activeSessions)
						.filter(([, s]) => inWindow(s.startedAt))
						.sort(([a, x], [b, y]) => y.startedAt - x.startedAt || a.localeCompare(b))
						.map(([session, s]) => ({ session, status: "active", visit: s.visit, startedAt: s.startedAt, endedAt: null, summary: null }));
		// The cursor is `a<offset>` while active sessions are listed, then `e<seq>`: ended visits before that seq of the log (`e0`: from the newest).
		const cursor = parseCursor(query.cursor);
		const page: SessionListing[] = [];
		if (cursor.phase === "active") page.push(...active.slice(cursor.at, cursor.at + limit));
		if (cursor.phase === "active" && cursor.at + limit < active.length) {
			return { sessions: page, active: active.length, cursor: `a${cursor.at + limit}` };
		}
		if (status === "active") return { sessions: page, active: active.length, cursor: null };
		// A page the active sessions filled continues with the ended ones, from the newest (`e0`).
		if (page.length >= limit) return { sessions: page, active: active.length, cursor: "e0" };
		let before = cursor.phase === "ended" && cursor.at > 0 ? cursor.at : Number.MAX_SAFE_INTEGER;
		let scanned = 0;
		for (const row of this.log.reverseByType("org.interaction_recorded", MAX_SEARCH_SCAN, before)) {
			scanned++;
			before = row.seq;
			const interaction = JSON.parse(row.data) as Interaction;
			if (interaction.source !== "web" || !inWindow(interaction.endedAt)) continue;
			const summary = interaction.summary as Summary;
			page.push({
				session: interaction.actor.id,
				status: "ended",
				visit: typeof summary.visit === "number" ? summary.visit : 1,
				startedAt: interaction.startedAt,
				endedAt: interaction.endedAt,
				summary,
			});
			if (page.length >= limit) break;
		}
		// A full page, or a scan that used its budget, continues from where it stopped; a short scan reached the start of the log.
		const more = page.length >= limit || scanned >= MAX_SEARCH_SCAN;
		return { sessions: page, active: active.length, cursor: more && before > 1 ? `e${before}` : null };
	}

	/** The org's cameras with their last known status, most recently changed first. */
	listCameras(): { cameras: { camera: string; status: "online" | "offline"; since: number }[] } {
		return {
			cameras: Object.entries(this.state.cameras)
				.map(([camera, entry]) => ({ camera, ...entry }))
				.sort((a, b) => b.since - a.since || a.camera.localeCompare(b.camera)),
		};
	}

	protected override onActorMessage(message: ActorMessage): Plan<unknown, OrgState> | ActorError {
		if (message.type === CAMERA_STATUS_MESSAGE) {
			const parsed = cameraStatusSchema.safeParse(message.data);
			if (!parsed.success)
				return { kind: "invalid", detail: "the camera status has invalid fields", errors: zodErrors(parsed.error, "data") };
			return {
				events: [{ id: message.id.replace(/>org$/, ""), type: "org.camera_status", ts: this.now(), data: parsed.data }],
				result: () => null,
			};
		}
		if (message.type === VISIT_STARTED_MESSAGE) {
			const parsed = visitStartedSchema.safeParse(message.data);
			if (!parsed.success) return { kind: "invalid", detail: "the visit has invalid fields", errors: zodErrors(parsed.error, "data") };
			const { session, visit } = parsed.data;
			// A start delivered after its own end (a retried delivery) must not list an ended visit as active.
			const ended = this.log.existingIds([visitInteractionId(session, visit)]).size > 0;
			return {
				events: ended
					? []
					: [{ id: `${visitInteractionId(session, visit)}:started`, type: "org.visit_started", ts: this.now(), data: parsed.data }],
				result: () => null,
			};
		}
		if (message.type !== INTERACTION_MESSAGE) return super.onActorMessage(message, this.state);
		const parsed = interactionSchema.safeParse(message.data);
		if (!parsed.success) return { kind: "invalid", detail: "the interaction has invalid fields", errors: zodErrors(parsed.error, "data") };
		const interaction = parsed.data;
		return {
			events: [{ id: interaction.id, type: "org.interaction_recorded", ts: this.now(), data: interaction }],
			result: () => null,
		};
	}

	/** Decides, stamps and appends; `answer` reads the state as it is once the events are folded in. */
	#run<R>(command: OrgCommand, meta: EventMeta, answer: (after: OrgState) => R): Outcome<R> {
		return this.execute({ meta }, (state, version) => {
			const decided = decideOrg(command, state, version);
			if (!Array.isArray(decided)) return decided;
			const events = decided.map((change) => this.#stamp(change));
			// An org starts its rollup schedule the moment it is created.
			const created = events.some((e) => e.type === "org.created");
			return { events, result: (_receipt, after) => answer(after), effects: () => (created ? { timers: ROLLUP_TIMERS } : {}) };
		});
	}

	#stamp(change: OrgChange): ProposedEvent {
		return { id: uuidv7(), type: change.type, ts: this.now(), data: change.data };
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
