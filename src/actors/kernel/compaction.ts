/**
 * Log compaction, for any kind: the oldest events (the whole prefix of the log older than a time) go to R2 as NDJSON
 * segments carrying each event's stored hash, their rows are deleted, and a checkpoint (the last compacted seq and its
 * hash, in actor_meta) stays, so `verify` checks the rest of the chain from it and `roost verify --file` checks a
 * segment offline against it. Crash-safe and idempotent: the segment is written first (a re-run writes the same object,
 * and deletes one that a crashed try left from the same seq to another end), then the checkpoint, a snapshot at the checkpoint and the deletion commit in one transaction. Reads before the
 * checkpoint answer `gone` (410) naming the segments (docs/architecture.md, "Compaction").
 */
import { eq } from "drizzle-orm";
import { GENESIS_HASH } from "../../core/hash.ts";
import { actorName } from "../../core/identity.ts";
import { type ActorError, fail, type Outcome, ok } from "../../core/outcome.ts";
import type { Env } from "../../env.ts";
import { faultPoint } from "../faults.ts";
import type { StoredEvent } from "../log.ts";
import { logSegments, segmentName, segmentsFrom } from "../org-objects.ts";
import { actorMeta } from "../schema.ts";
import { foldToVersion } from "./fold.ts";
import { type KernelHost, reducerTag } from "./host.ts";

/** Events per segment (one R2 object); a compaction of more writes several. */
export const SEGMENT_EVENTS = 2000;
/** Segments one call writes at most; the next call goes on from the checkpoint. */
export const SEGMENTS_PER_CALL = 10;
const CHECKPOINT_KEY = "checkpoint";

export interface Checkpoint {
	/** The last compacted seq, and its chain hash: the stored log goes on from here. */
	seq: number;
	hash: string;
	/** The R2 keys of the segments, oldest first. */
	segments: string[];
}

/** The first line of a segment: which actor, which seqs, and the chain hashes it starts from and ends at. */
export interface SegmentHeader {
	segment: { actor: { kind: string; org: string; id: string }; fromSeq: number; toSeq: number; prevHash: string; headHash: string };
}

export interface CompactionReport {
	/** The checkpoint after this call (seq 0 when nothing was ever compacted). */
	checkpoint: { seq: number; hash: string };
	/** Events moved to R2 by this call, and the segments written. */
	compacted: number;
	segments: string[];
	/** Whether events older than `before` remain (the call stopped at SEGMENTS_PER_CALL); call again. */
	more: boolean;
}

export function loadCheckpoint<S>(host: KernelHost<S>): Checkpoint | null {
	const row = host.db.select().from(actorMeta).where(eq(actorMeta.key, CHECKPOINT_KEY)).get();
	const checkpoint = row ? (JSON.parse(row.value) as Checkpoint) : null;
	host.log.start = checkpoint ? { seq: checkpoint.seq, hash: checkpoint.hash } : { seq: 0, hash: GENESIS_HASH };
	return checkpoint;
}

/** The error every read before the checkpoint gets: 410, pointing to the archive. */
export function goneBefore(checkpoint: Checkpoint, what: string): { ok: false; error: ActorError } {
	return fail({
		kind: "gone",
		detail: `${what} is before the checkpoint at seq ${checkpoint.seq}: those events were compacted to the archive`,
		checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash },
		archive: checkpoint.segments.slice(-100),
	});
}

/** The NDJSON of stored rows: a header line, then each event as stored (data and meta parsed back from their text). */
export function segmentText(header: SegmentHeader, rows: readonly StoredEvent[]): string {
	const lines = [JSON.stringify(header)];
	for (const r of rows) {
		lines.push(
			JSON.stringify({
				seq: r.seq,
				id: r.id,
				type: r.type,
				v: r.v,
				ts: r.ts,
				data: JSON.parse(r.data),
				meta: JSON.parse(r.meta),
				hash: r.hash,
			}),
		);
	}
	return `${lines.join("\n")}\n`;
}

/**
 * Compacts the prefix of the log whose events are all older than `before` (ms), keeping at least the newest event.
 * Each segment: write to R2, then one transaction (checkpoint, snapshot at the checkpoint, rows out). Idempotent.
 */
export async function compactLog<S>(host: KernelHost<S>, query: { before: number }): Promise<Outcome<CompactionReport>> {
	if (!Number.isSafeInteger(query.before) || query.before < 0) {
		return fail({
			kind: "invalid",
			detail: "before must be a time in ms",
			errors: [{ path: "before", message: "must be a non-negative integer (ms)" }],
		});
	}
	const written: string[] = [];
	let compacted = 0;
	for (let n = 0; n < SEGMENTS_PER_CALL; n++) {
		const checkpoint = loadCheckpoint(host);
		const after = checkpoint?.seq ?? 0;
		const upTo = host.log.prefixBefore(after, query.before, SEGMENT_EVENTS, host.head.version - 1);
		if (upTo <= after) return ok({ checkpoint: { ...host.log.start }, compacted, segments: written, more: false });
		const key = await writeSegment(host, after, upTo);
		faultPoint("compact.after-segment", host.ctx);
		commitCheckpoint(host, checkpoint, after, upTo, key);
		faultPoint("compact.after-commit", host.ctx);
		written.push(key);
		compacted += upTo - after;
	}
	const more = host.log.prefixBefore(host.log.start.seq, query.before, 1, host.head.version - 1) > host.log.start.seq;
	return ok({ checkpoint: { ...host.log.start }, compacted, segments: written, more });
}

async function writeSegment<S>(host: KernelHost<S>, after: number, upTo: number): Promise<string> {
	const { actor } = host;
	const rows = [...host.log.range(after, upTo)];
	const first = rows[0];
	const last = rows.at(-1);
	if (!first || !last || first.seq !== after + 1 || last.seq !== upTo || rows.length !== upTo - after) {
		throw new Error(`the log's seqs ${after + 1}..${upTo} are not all stored: compaction stops`);
	}
	const archive = logSegments(host.env.ARCHIVE, actor.org);
	const key = archive.keyOf(segmentName(actor.kind, actor.id, after + 1, upTo));
	const header: SegmentHeader = { segment: { actor, fromSeq: after + 1, toSeq: upTo, prevHash: host.log.start.hash, headHash: last.hash } };
	// A try that crashed before its checkpoint committed may have left a segment from the same seq to another end (a
	// later call's `before` reaches further): it is not in the checkpoint, and its events would be archived twice.
	await archive.deleteAll(segmentsFrom(actor.kind, actor.id, after + 1));
	await archive.put(key, segmentText(header, rows), "application/x-ndjson", { kind: actor.kind, id: actor.id });
	return key;
}

function commitCheckpoint<S>(host: KernelHost<S>, checkpoint: Checkpoint | null, after: number, upTo: number, key: string): void {
	const { definition, log, snapshots } = host;
	// The state at the checkpoint, snapshotted with it: wake and state-at reads never need a deleted row.
	const { state } = foldToVersion(definition, log, snapshots, upTo);
	const hash = [...log.range(upTo - 1, upTo)][0]?.hash;
	if (hash === undefined) throw new Error(`seq ${upTo} is not stored`);
	const next: Checkpoint = { seq: upTo, hash, segments: [...(checkpoint?.segments ?? []), key] };
	host.ctx.storage.transactionSync(() => {
		snapshots.write(upTo, reducerTag(definition), state);
		const value = JSON.stringify(next);
		host.db.insert(actorMeta).values({ key: CHECKPOINT_KEY, value }).onConflictDoUpdate({ target: actorMeta.key, set: { value } }).run();
		log.compactRange(after, upTo);
		faultPoint("compact.after-delete", host.ctx);
	});
	log.start = { seq: next.seq, hash: next.hash };
}

/** For the retention job: compacts the org's own log before `before` (ms) now; call again while `more`. */
export async function compactOrgLog(env: Env, org: string, before: number): Promise<Outcome<CompactionReport>> {
	// The stub's RPC type of this method is too deep for tsc to infer: it is the actor's own Outcome.
	const report: Outcome<CompactionReport> = await env.ORG.getByName(actorName(org, org)).compactLog({ before });
	return report;
}
