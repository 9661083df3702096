/** The one fold of stored rows, used by wake, state at a version and the replay check: `fold` over upcast events. */
import type { EventCatalog } from "../../events/catalog.ts";
import type { RecordedEvent } from "../../events/envelope.ts";
import { eventForFold } from "../../events/stored.ts";
import { type ActorDefinition, fold } from "../../reducers/definition.ts";
import { faultPoint } from "../faults.ts";
import type { EventLog, StoredEvent } from "../log.ts";
import type { SnapshotStore } from "../snapshots.ts";
import { loadCheckpoint } from "./compaction.ts";
import { type KernelHost, reducerTag } from "./host.ts";

/** Rows as the reducer sees them: validated and upcast by the catalog, read lazily. */
function* upcast(rows: Iterable<StoredEvent>, catalog: EventCatalog): Generator<RecordedEvent> {
	for (const row of rows) yield eventForFold(row, catalog);
}

/** Folds the log's rows in (after, upTo] over `from`. */
export function foldRange<S>(definition: ActorDefinition<S>, log: EventLog, from: S, after: number, upTo: number): S {
	return fold(definition, upcast(log.range(after, upTo), definition.catalog), from);
}

/** The state at version `at`: the newest snapshot of this reducer at or below it, then the log after it. `from`: that snapshot's version. */
export function foldToVersion<S>(
	definition: ActorDefinition<S>,
	log: EventLog,
	snapshots: SnapshotStore,
	at: number,
): { state: S; from: number } {
	const snapshot = snapshots.latest<S>(reducerTag(definition), at);
	const from = snapshot?.version ?? 0;
	return { state: foldRange(definition, log, snapshot?.state ?? definition.initialState(), from, at), from };
}

/**
 * Rebuilds the head on wake: the newest snapshot written by this reducer version, then the tail of the log after it.
 * A replay longer than the snapshot interval (new reducer, lost snapshot) writes a snapshot, so the next wake skips it.
 */
export function rebuildHead<S>(host: KernelHost<S>, projections?: { wake(): void }): void {
	loadCheckpoint(host);
	const head = host.log.head();
	const { state, from } = foldToVersion(host.definition, host.log, host.snapshots, head.version);
	Object.assign(host.head, { state, version: head.version, hash: head.hash });
	if (head.version - from >= host.snapshotEvery) {
		host.ctx.storage.transactionSync(() => {
			host.snapshots.write(head.version, reducerTag(host.definition), state);
			faultPoint("wake.snapshot", host.ctx);
		});
	}
	// The kind's projections next (src/actors/kernel/projections.ts), before anything (an onWake) can append.
	projections?.wake();
}
