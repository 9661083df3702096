/**
 * What-if replay on this side of the API: fold an actor's stored log with the reducers this code has and
 * compare the result with what the server stored (its snapshots, and its state now). A difference means
 * the local reducer disagrees with the one that wrote the snapshots: evolve is not deterministic, or it
 * changed meaning without a new reducerVersion (or this is a change you are trying out).
 * `replayAgainstServer` is the comparison (its I/O comes in as functions); `replayActor` feeds it from the API.
 */
import { diff } from "jsondiffpatch";
import type { ActorDefinition } from "../reducers/definition.ts";
import { type ActorPath, actorLabel, kindOf, publicState } from "./actors.ts";
import { type ExportedEvent, recordedOf } from "./chain.ts";
import type { RoostClient } from "./client.ts";
import { type CliIo, progress } from "./output.ts";

export interface StoredSnapshotInfo {
	version: number;
	reducerVersion: string;
}

export interface ReplaySources {
	/** The stored log, in seq order, as stored. */
	events: AsyncIterable<ExportedEvent> | Iterable<ExportedEvent>;
	snapshots: readonly StoredSnapshotInfo[];
	/** The state a stored snapshot holds (as written), or undefined when it cannot be read. */
	snapshotState(version: number): Promise<unknown>;
	/** The server's state now, as the API shows it. */
	current: { version: number; state: unknown };
	/** Turns a folded state into what the API shows (the org hides key hashes). */
	publicView?: (state: unknown) => unknown;
	/** Called after each event, for progress. */
	onEvent?: (seq: number) => void;
}

export interface ReplayMismatch {
	version: number;
	/** `snapshot <tag>` or `state now`. */
	against: string;
	/** jsondiffpatch delta from the stored state to the replayed one; a string when there is nothing to diff. */
	delta: unknown;
}

export interface LocalReplayReport {
	/** The reducer tag this code has, `<kind>@<n>`. */
	reducerVersion: string;
	version: number;
	checked: number;
	/** Snapshots compared (those written by the same reducer version). */
	compared: number[];
	/** Snapshots written by another reducer version: not comparable, listed. */
	skipped: StoredSnapshotInfo[];
	mismatches: ReplayMismatch[];
	/** The local reducer refused an event the server had accepted. */
	refused?: { seq: number; type: string; message: string };
	ok: boolean;
}

export async function replayAgainstServer(definition: ActorDefinition<unknown>, sources: ReplaySources): Promise<LocalReplayReport> {
	const tag = `${definition.kind}@${definition.reducerVersion}`;
	const comparable = new Set(sources.snapshots.filter((s) => s.reducerVersion === tag).map((s) => s.version));
	const view = sources.publicView ?? ((state: unknown) => state);
	const mismatches: ReplayMismatch[] = [];
	const compared: number[] = [];
	let state = definition.initialState();
	let checked = 0;
	let refused: LocalReplayReport["refused"];

	for await (const event of sources.events) {
		if (event.seq > sources.current.version) break;
		try {
			state = definition.evolve(state, recordedOf(definition, event));
		} catch (error) {
			refused = { seq: event.seq, type: event.type, message: error instanceof Error ? error.message : String(error) };
			break;
		}
		checked++;
		sources.onEvent?.(event.seq);
		if (!comparable.has(event.seq)) continue;
		compared.push(event.seq);
		const stored = await sources.snapshotState(event.seq);
		if (stored === undefined) {
			mismatches.push({ version: event.seq, against: `snapshot ${tag}`, delta: "the snapshot could not be read" });
			continue;
		}
		const delta = diff(stored, state);
		if (delta !== undefined) mismatches.push({ version: event.seq, against: `snapshot ${tag}`, delta });
	}
	if (!refused) {
		if (checked === sources.current.version) {
			const delta = diff(sources.current.state, view(state));
			if (delta !== undefined) mismatches.push({ version: checked, against: "state now", delta });
		} else {
			mismatches.push({
				version: checked,
				against: "state now",
				delta: `the log read back has ${checked} events but the actor is at version ${sources.current.version}`,
			});
		}
	}
	return {
		reducerVersion: tag,
		version: sources.current.version,
		checked,
		compared,
		skipped: sources.snapshots.filter((s) => s.reducerVersion !== tag && s.version <= sources.current.version),
		mismatches,
		...(refused ? { refused } : {}),
		ok: mismatches.length === 0 && !refused,
	};
}

/** Folds the actor's stored log here with `definition` and compares it with the server's snapshots and state now. */
export async function replayActor(
	client: RoostClient,
	actor: ActorPath,
	definition: ActorDefinition<unknown>,
	io: CliIo,
	quiet: boolean,
): Promise<LocalReplayReport> {
	// State first, then the log up to its version: the log only grows, so the two agree whatever is appended meanwhile.
	const current = await client.get<{ version: number; state: unknown }>(client.path(actor, "/state"));
	const { snapshots } = await client.get<{ snapshots: StoredSnapshotInfo[] }>(client.path(actor, "/snapshots"));
	const bar = progress(io, quiet, `replay ${actorLabel(actor)}`, current.version);
	async function* events() {
		for await (const page of client.rawEvents(actor, { to: current.version })) yield* page;
	}
	try {
		return await replayAgainstServer(definition, {
			events: events(),
			snapshots,
			current: { version: current.version, state: current.state },
			publicView: (state) => publicState(kindOf(actor), state),
			async snapshotState(version) {
				try {
					return (await client.get<{ state: unknown }>(client.path(actor, `/snapshots/${version}`))).state;
				} catch {
					return undefined;
				}
			},
			onEvent: (seq) => bar.update(seq),
		});
	} finally {
		bar.stop();
	}
}
