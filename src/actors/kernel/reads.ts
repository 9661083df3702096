/**
 * The reads: events (upcast unless raw, redacted unless a server-side copy asks otherwise), state now or at any
 * version, stored snapshots, and the debug checks (hash chain, what-if replay). Every state and event a reader sees
 * passes the kind's redaction here.
 */
import { diff as diffJson } from "jsondiffpatch";
import { invalid, type Outcome, ok } from "../../core/outcome.ts";
import type { ActorRef, EventEnvelope, RecordedEvent } from "../../events/envelope.ts";
import { eventForFold, recordedFromRow } from "../../events/stored.ts";
import type { StoredEvent } from "../log.ts";
import type { SnapshotInfo } from "../snapshots.ts";
import { goneBefore, loadCheckpoint } from "./compaction.ts";
import { foldRange, foldToVersion } from "./fold.ts";
import { type KernelHost, reducerTag } from "./host.ts";
import { MAX_PAGE } from "./subscriptions.ts";
import type { ChainReport, EventPage, KernelStatus, ReplayReport } from "./types.ts";

export class Reads<S> {
	constructor(private readonly host: KernelHost<S>) {}

	/** An event as readers see it: redacted by the kind's definition unless `unredacted` (server-side copies only). */
	envelope(row: StoredEvent, raw = false, unredacted = false): EventEnvelope {
		const { definition } = this.host;
		const recorded = recordedFromRow(row, raw ? undefined : definition.catalog);
		const shown = unredacted ? recorded : (definition.redactEvent?.(recorded) ?? recorded);
		return { ...shown, actor: this.host.actor, hash: row.hash, ...(shown !== recorded ? { redacted: true as const } : {}) };
	}

	/** A state as readers see it. */
	shownState<T>(state: T): T {
		const { redactState } = this.host.definition;
		return redactState ? (redactState(state as unknown as S) as unknown as T) : state;
	}

	events(query: { after?: number; limit?: number; type?: string; raw?: boolean; unredacted?: boolean }): EventPage {
		const asked = Math.max(0, query.after ?? 0);
		const after = Math.max(asked, this.host.log.start.seq);
		const limit = Math.min(Math.max(1, query.limit ?? 100), MAX_PAGE);
		const rows = this.host.log.page(after, limit + 1, query.type);
		const more = rows.length > limit;
		const page = more ? rows.slice(0, limit) : rows;
		const events = page.map((row) => this.envelope(row, query.raw, query.unredacted));
		const gone = asked < after ? this.#gone() : undefined;
		return { events, next: more ? (page.at(-1)?.seq ?? null) : null, ...(gone ? { gone } : {}) };
	}

	/** Where the compacted events went (the checkpoint and its segments), or undefined. */
	#gone(): EventPage["gone"] {
		const checkpoint = loadCheckpoint(this.host);
		return checkpoint
			? { checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash }, archive: checkpoint.segments.slice(-100) }
			: undefined;
	}

	/** Events of the given types before seq `before`, newest first, upcast and redacted; `next` is the `before` of the next page. */
	eventsBackwards(query: { types: readonly string[]; before?: number; limit?: number }): EventPage {
		const limit = Math.min(Math.max(1, query.limit ?? 100), MAX_PAGE);
		const rows = this.host.log.reverseByTypes(query.types, limit + 1, query.before);
		const more = rows.length > limit;
		const page = more ? rows.slice(0, limit) : rows;
		return { events: page.map((row) => this.envelope(row)), next: more ? (page.at(-1)?.seq ?? null) : null };
	}

	eventById(id: string, raw: boolean): EventEnvelope | null {
		const row = this.host.log.byId(id);
		return row ? this.envelope(row, raw) : null;
	}

	/** The fold of the log's first `at` events. */
	stateAt(at: number): S {
		return foldToVersion(this.host.definition, this.host.log, this.host.snapshots, at).state;
	}

	state(at: number | undefined): Outcome<{ version: number; state: S; kernel?: KernelStatus }> {
		const { head } = this.host;
		if (at === undefined) return ok({ version: head.version, state: this.shownState(head.state), kernel: this.kernelStatus() });
		if (at === head.version) return ok({ version: head.version, state: this.shownState(head.state) });
		if (!Number.isSafeInteger(at) || at < 0 || at > head.version) {
			return invalid([{ path: "at", message: `must be an integer from 0 to the current version ${head.version}` }]);
		}
		const { state, from } = foldToVersion(this.host.definition, this.host.log, this.host.snapshots, at);
		// A fold that would need compacted rows (no snapshot between the checkpoint and `at`) is gone, never wrong.
		const checkpoint = this.host.log.compacted ? loadCheckpoint(this.host) : null;
		if (checkpoint && from < checkpoint.seq) return goneBefore(checkpoint, `the state at version ${at}`);
		return ok({ version: at, state: this.shownState(state) });
	}

	snapshotAt(version: number): { version: number; reducerVersion: string; state: unknown } | null {
		const info = this.host.snapshots.list().find((s) => s.version === version);
		if (!info) return null;
		const state = this.host.snapshots.read<unknown>(version);
		return state === undefined ? null : { version, reducerVersion: info.reducerVersion, state: this.shownState(state) };
	}

	kernelStatus(): KernelStatus {
		return {
			outbox: { ...this.host.outbox.depth(), parked: this.host.outbox.parkedCount() },
			timers: this.host.timers.list(20).map(({ name, kind, scheduledAt, dueAt, attempts, lastError, parkedAt }) => ({
				name,
				kind,
				scheduledAt,
				dueAt,
				attempts,
				lastError,
				parkedAt,
			})),
		};
	}

	/**
	 * What-if replay: folds the whole log again with the reducer this code has and compares the result with every
	 * stored snapshot and with the state in memory. A difference means evolve is not deterministic, or changed
	 * meaning without a new reducerVersion.
	 */
	replayCheck(): ReplayReport {
		const { definition, head, log, snapshots } = this.host;
		const all = snapshots.list();
		// A compacted log replays from the oldest snapshot at or after its checkpoint (compaction.ts writes one there).
		const start = log.start.seq;
		const base = start > 0 ? all.find((s) => s.version >= start && s.reducerVersion === reducerTag(definition)) : undefined;
		const stored = all.filter((s) => s.version <= head.version && s.version > (base?.version ?? -1));
		const mismatches: ReplayReport["mismatches"] = [];
		const compare = (version: number, against: string, was: unknown, replayed: unknown) => {
			if (diffJson(was, replayed) === undefined) return;
			// The delta is shown to readers: redacted, and named as such when only hidden fields differ.
			const delta = diffJson(this.shownState(was), this.shownState(replayed)) ?? "differs only in redacted fields";
			mismatches.push({ version, against, delta });
		};
		let state = base ? (snapshots.read<S>(base.version) ?? definition.initialState()) : definition.initialState();
		let at = base?.version ?? 0;
		for (const snapshot of stored) {
			state = foldRange(definition, log, state, at, snapshot.version);
			at = snapshot.version;
			const was = snapshots.read<unknown>(snapshot.version);
			const against = `snapshot ${snapshot.reducerVersion}`;
			if (was === undefined) mismatches.push({ version: snapshot.version, against, delta: "unreadable" });
			else compare(snapshot.version, against, was, state);
		}
		state = foldRange(definition, log, state, at, head.version);
		compare(head.version, "state in memory", head.state, state);
		const report = {
			version: head.version,
			reducerVersion: reducerTag(definition),
			checked: log.count(head.version),
			snapshots: all.length,
		};
		return { ...report, mismatches, ok: mismatches.length === 0 };
	}

	/** Recomputes the hash chain end to end. */
	verifyChain(): ChainReport {
		const { head, log } = this.host;
		const check = log.verify();
		const base = { version: head.version, headHash: head.hash, ...(log.compacted ? { checkpoint: { ...log.start } } : {}) };
		if (!check.ok) return { ok: false, ...base, brokenAt: check.brokenAt, reason: check.reason };
		// A chain that verifies but stops short of the version this actor committed has lost its tail.
		const stored = log.head();
		if (stored.version !== head.version || stored.hash !== head.hash) {
			const reason = `the log ends at seq ${stored.version} but the actor committed ${head.version}`;
			return { ok: false, ...base, brokenAt: stored.version + 1, reason };
		}
		return { ok: true, ...base };
	}

	describe(): { actor: ActorRef; version: number; headHash: string; snapshotEvery: number; snapshots: SnapshotInfo[] } {
		const { actor, head, snapshotEvery, snapshots } = this.host;
		return { actor, version: head.version, headHash: head.hash, snapshotEvery, snapshots: snapshots.list() };
	}

	/**
	 * Events of one type with seq below `before`, newest first, at most `limit`, read lazily and upcast like every
	 * other read (meta stays unparsed until read). `E`: that type's event, e.g. `EventNamed<typeof catalog, T>`;
	 * the catalog validated it on append and upcasts it here, so it is of that shape.
	 */
	*newestOfType<E extends RecordedEvent = RecordedEvent>(type: E["type"], limit: number, before?: number): Generator<E> {
		const { catalog } = this.host.definition;
		for (const row of this.host.log.reverseByType(type, limit, before)) yield eventForFold(row, catalog) as E;
	}
}
