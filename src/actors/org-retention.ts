/**
 * The org's data policy applied (docs/privacy.md): a daily timer erases the ended sessions and chats past their
 * time through the same erasure as a data subject's (archiving sessions to R2 first when the policy says so), and
 * asks each camera to delete its frames past their time. And the deletion of the whole org: every actor erased,
 * every subject key shredded, then the org's R2 prefixes emptied and the tombstone appended. All of it is carried
 * by the outbox and timers, so it resumes after a crash and repeats without effect.
 */
import { uuidv7 } from "uuidv7";
import { log } from "../core/log.ts";
import type { ActorError, Outcome } from "../core/outcome.ts";
import { fail, ok } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import { FRAMES_EXPIRE_MESSAGE } from "../events/camera.ts";
import type { EventMeta } from "../events/envelope.ts";
import type { DataPolicy } from "../events/org-policy.ts";
import { DEFAULT_POLICY } from "../events/org-policy.ts";
import { isRefusal, type Refusal } from "../reducers/definition.ts";
import type { OrgCommand, OrgProposal, OrgState } from "../reducers/org.ts";
import type { AppendReceipt, Effects, Plan, TimerPlan } from "./actor.ts";
import type { CompactionReport } from "./kernel/compaction.ts";
import { type IndexedActor, OrgActorIndex } from "./org-actors.ts";
import { type ErasureScope, erasureEffects } from "./org-erasures.ts";
import { orgPrefixes } from "./org-objects.ts";
import { pruneInteractionsThrough } from "./org-search.ts";
import type { OutboxMessage } from "./outbox.ts";
import type { SubjectKeys } from "./subject-keys.ts";
import type { Timer, TimerChange } from "./timers.ts";

export const DAY_MS = 86_400_000;
/** Retention runs every day at 03:30 UTC (after the daily rollup at 02:00). */
export const RETENTION_TIMER: TimerChange = { name: "retention", spec: { cron: "30 3 * * *" } };
/** Actors erased by one retention run; more go in the next run, a minute later. */
export const MAX_RETENTION_ACTORS = 200;
const RETENTION_MORE = "retention:more";
const DELETION_FINISH = "org-delete:finish";

/** The policy as GET /v1/orgs/:org/policy shows it. */
export interface PolicyView {
	policy: DataPolicy;
	/** When it was last set; null: the defaults are in force. */
	setAt: number | null;
	defaults: DataPolicy;
}

export interface DeletionView {
	status: "deleting" | "deleted";
	requestedAt: number;
	deletedAt: number | null;
	counts: { actors: number; actorsErased: number; keys: number; keysShredded: number; objectsDeleted: number };
}

export interface RetentionHost {
	env: Env;
	org(): string;
	state(): OrgState;
	now(): number;
	subjects: SubjectKeys;
	version(): number;
	decide(command: OrgCommand, state: OrgState, version: number): OrgProposal[] | Refusal;
	execute<R>(meta: EventMeta, plan: (state: OrgState, version: number) => Plan<R, OrgState, OrgProposal> | ActorError): Outcome<R>;
	/** The kernel's log compaction of the org's own log (src/actors/kernel/compaction.ts). */
	compactLog(before: number): Promise<Outcome<CompactionReport>>;
	/** Keeps the object alive for work that runs after the timer's commit. */
	waitUntil(work: Promise<unknown>): void;
}

export class OrgRetention {
	readonly actors: OrgActorIndex;

	constructor(
		readonly host: RetentionHost,
		readonly sql: SqlStorage,
	) {
		this.actors = new OrgActorIndex(sql);
	}

	/**
	 * The org's records older than `before` (the policy's `interactionsDays`): the org's log is compacted up to that
	 * time (old events to R2 segments, a checkpoint kept, docs/architecture.md "Compaction"), then the interactions
	 * projection drops the rows at or below the checkpoint, as a rebuild from the compacted log would. Idempotent: a
	 * re-run (alarms are at-least-once) finds nothing more to move. Runs after the retention timer's commit.
	 */
	async compactRecords(before: number): Promise<void> {
		for (let round = 0; round < 100; round++) {
			const report = await this.host.compactLog(before);
			if (!report.ok) {
				log("warn", "retention.compaction_failed", { org: this.host.org(), error: report.error.kind });
				return;
			}
			pruneInteractionsThrough(this.sql, report.value.checkpoint.seq);
			if (!report.value.more) return;
		}
	}

	policy(state: OrgState = this.host.state()): PolicyView {
		return { policy: state.policy, setAt: state.policySetAt, defaults: DEFAULT_POLICY };
	}

	/** Sets the policy (recorded as `org.policy_set`); the retention timer runs from then on in any case. */
	setPolicy(policy: DataPolicy, meta: EventMeta, setBy: string | null): Outcome<PolicyView> {
		return this.host.execute(meta, (state, version) => {
			const events = this.host.decide({ kind: "set_policy", policy, setBy }, state, version);
			if (isRefusal(events)) return events;
			return { events, result: (_receipt, after) => this.policy(after), effects: () => ({ timers: [RETENTION_TIMER] }) };
		});
	}

	/** The timers this part owns; undefined for others. */
	onTimer(timer: Timer, state: OrgState): TimerPlan<OrgState, OrgProposal> | Promise<TimerPlan<OrgState, OrgProposal>> | undefined {
		if (timer.name === RETENTION_TIMER.name || timer.name === RETENTION_MORE) return this.#retentionPlan(state);
		if (timer.name === DELETION_FINISH) return this.#finishDeletion(state);
		return undefined;
	}

	/** What is past its time now: ended sessions and chats to erase (bounded), and the cameras' frame cutoff. */
	#retentionPlan(state: OrgState): TimerPlan<OrgState, OrgProposal> {
		if (state.createdAt === null || state.deletion !== null) return null;
		const now = this.host.now();
		const { policy } = state;
		const sessions = this.actors
			.expired("session", now - policy.sessionsDays * DAY_MS, MAX_RETENTION_ACTORS)
			.filter((a) => !Object.hasOwn(state.activeSessions, a.id));
		const chats = this.actors.expired("chat", now - policy.chatsDays * DAY_MS, MAX_RETENTION_ACTORS - sessions.length);
		const expired = [...sessions, ...chats];
		const framesBefore = now - policy.framesDays * DAY_MS;
		const cameras = [...new Set([...this.actors.ids("camera"), ...Object.keys(state.cameras)])];
		const frames: OutboxMessage[] = cameras.map((camera) => ({
			id: `frames-expire:${framesBefore}>${camera}`,
			target: { actor: { kind: "camera", org: this.host.org(), id: camera } },
			type: FRAMES_EXPIRE_MESSAGE,
			data: { before: framesBefore },
		}));
		this.host.waitUntil(this.compactRecords(now - policy.interactionsDays * DAY_MS));
		const more: TimerChange[] = expired.length === MAX_RETENTION_ACTORS ? [{ name: RETENTION_MORE, spec: { once: now + 60_000 } }] : [];
		if (expired.length === 0) return { events: [], result: () => null, effects: () => ({ outbox: frames, timers: more }) };
		// Archived sessions keep their subject keys, so a later erasure of the user still finds (and deletes) the archive.
		const keys = expired.flatMap((a) =>
			a.kind === "session" && policy.archiveSessions ? [] : this.host.subjects.ofActor(`${a.kind}:${a.id}`),
		);
		const scope: ErasureScope = {
			subject: "retention",
			actors: expired.map((a) => ({ kind: a.kind, org: this.host.org(), id: a.id })),
			keys,
		};
		const erasure = uuidv7();
		const events = this.host.decide(
			{ kind: "request_erasure", erasure, subject: "retention", actors: expired.length, keys: keys.length, requestedBy: null },
			state,
			this.host.version(),
		);
		if (isRefusal(events)) return events;
		return {
			events,
			result: () => null,
			effects: () => {
				const planned = erasureEffects(erasure, scope, now);
				// Step i is actor i: a session's erase message asks it to archive its log first.
				const outbox = planned.outbox.map((m, step) =>
					scope.actors[step]?.kind === "session" && policy.archiveSessions ? { ...m, data: { erasure, step, archive: true } } : m,
				);
				return { outbox: [...outbox, ...frames], timers: [...planned.timers, ...more], write: () => this.actors.markRetained(expired) };
			},
		};
	}

	/** Starts deleting the org: its keys open nothing from this commit on; every actor and key goes through one erasure. */
	requestDeletion(meta: EventMeta, requestedBy: string | null): Outcome<DeletionView> {
		const state = this.host.state();
		if (state.deletion !== null) return ok(deletionView(state) as DeletionView);
		if (state.createdAt === null) return fail({ kind: "not_found", detail: "the org does not exist" });
		const org = this.host.org();
		const refs = (kind: IndexedActor["kind"], extra: string[]) =>
			[...new Set([...this.actors.ids(kind), ...extra])].map((id) => ({ kind, org, id }));
		const actors = [
			...refs("session", Object.keys(state.activeSessions)),
			...refs("camera", Object.keys(state.cameras)),
			...refs("chat", []),
		];
		const scope: ErasureScope = { subject: "org", actors, keys: this.host.subjects.all() };
		const erasure = uuidv7();
		return this.host.execute(meta, (before, version) => {
			const requested = this.host.decide(
				{ kind: "request_erasure", erasure, subject: "org", actors: actors.length, keys: scope.keys.length, requestedBy },
				before,
				version,
			);
			if (isRefusal(requested)) return requested;
			const deletion = this.host.decide({ kind: "request_deletion", erasure, requestedBy }, before, version);
			if (isRefusal(deletion)) return deletion;
			return {
				events: [...requested, ...deletion],
				result: (_receipt, after) => deletionView(after) as DeletionView,
				effects: () => erasureEffects(erasure, scope, this.host.now()),
			};
		});
	}

	/** Once the deletion's erasure is done, the timer that empties the org's R2 prefixes and writes the tombstone. */
	commitEffects(receipt: AppendReceipt, state: OrgState): Effects {
		const deletion = state.deletion;
		if (deletion?.status !== "deleting" || deletion.erasure === null) return {};
		const erasure = state.erasures[deletion.erasure];
		const touched = receipt.appended.some((e) => e.type === "org.erasure_step_done" || e.type === "org.deletion_requested");
		return erasure?.status === "done" && touched ? { timers: [{ name: DELETION_FINISH, spec: { once: this.host.now() } }] } : {};
	}

	async #finishDeletion(state: OrgState): Promise<TimerPlan<OrgState, OrgProposal>> {
		const deletion = state.deletion;
		if (deletion?.status !== "deleting" || deletion.erasure === null) return null;
		const erasure = state.erasures[deletion.erasure];
		if (erasure?.status !== "done") return null;
		let objects = 0;
		for (const prefix of orgPrefixes(this.host.env, this.host.org())) objects += await prefix.deleteTree();
		const tombstone = {
			name: this.host.state().name ?? "",
			createdAt: state.createdAt,
			requestedAt: deletion.requestedAt,
			actorsErased: erasure.counts.actorsErased,
			objectsDeleted: erasure.counts.objectsDeleted + objects,
		};
		const events = this.host.decide({ kind: "record_deleted", data: tombstone }, this.host.state(), this.host.version());
		return isRefusal(events) ? events : { events, result: () => null, effects: () => ({ timers: deletionTimersCancelled() }) };
	}
}

/** The timers a deleted org stops: its rollups and retention. */
function deletionTimersCancelled(): TimerChange[] {
	return ["hourly", "daily", "weekly", "monthly", "yearly"]
		.map((p) => `rollup:${p}`)
		.concat([RETENTION_TIMER.name])
		.map((name) => ({ name, cancel: true as const }));
}

/** The deletion as GET /v1/orgs/:org shows it, or null for an org not being deleted. */
export function deletionView(state: OrgState): DeletionView | null {
	const deletion = state.deletion;
	if (!deletion) return null;
	const erasure = deletion.erasure === null ? undefined : state.erasures[deletion.erasure];
	const c = erasure?.counts;
	return {
		status: deletion.status,
		requestedAt: deletion.requestedAt,
		deletedAt: deletion.deletedAt,
		counts: c
			? { actors: c.actors, actorsErased: c.actorsErased, keys: c.keys, keysShredded: c.keysShredded, objectsDeleted: c.objectsDeleted }
			: {
					actors: deletion.actorsErased,
					actorsErased: deletion.actorsErased,
					keys: 0,
					keysShredded: 0,
					objectsDeleted: deletion.objectsDeleted,
				},
	};
}
