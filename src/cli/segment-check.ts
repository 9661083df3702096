/**
 * A compacted log segment (src/actors/kernel/compaction.ts) checked outside the server: a header line
 * `{ segment: { actor, fromSeq, toSeq, prevHash, headHash } }`, then the events as stored with their hashes. The chain
 * is recomputed with the kernel's own hash (src/core/hash.ts, through ChainChecker) from the header's `prevHash`; every
 * stored hash must match, the seqs must run fromSeq..toSeq without a gap, and the last hash must be the header's
 * `headHash`. Whether that is the actor's checkpoint (or the next segment's start) is `anchorCheck`. Pure.
 */
import { type ChainCheck, ChainChecker, type ExportedEvent } from "./chain.ts";

export interface SegmentInfo {
	actor: { kind: string; org: string; id: string };
	fromSeq: number;
	toSeq: number;
	prevHash: string;
	headHash: string;
}

export interface SegmentCheck extends ChainCheck {
	segment: SegmentInfo;
}

const HASH = /^[0-9a-f]{64}$/;

/** The header of a segment from its first line, or null when the line is not one. */
export function segmentHeaderOf(line: string): SegmentInfo | null {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return null;
	}
	const segment = (value as { segment?: Partial<SegmentInfo> } | null)?.segment;
	if (!segment || typeof segment !== "object") return null;
	const { actor, fromSeq, toSeq, prevHash, headHash } = segment;
	const named = actor && typeof actor.kind === "string" && typeof actor.org === "string" && typeof actor.id === "string";
	const seqs =
		Number.isSafeInteger(fromSeq) && Number.isSafeInteger(toSeq) && (fromSeq as number) >= 1 && (toSeq as number) >= (fromSeq as number);
	if (!named || !seqs || typeof prevHash !== "string" || !HASH.test(prevHash) || typeof headHash !== "string" || !HASH.test(headHash))
		return null;
	return segment as SegmentInfo;
}

/** Walks a segment's events in order, like ChainChecker, then checks it ends where its header says. */
export class SegmentChecker {
	readonly #chain: ChainChecker;
	// A plain field, not a parameter property: bin/roost.mjs runs this file with Node's type stripping, which has none.
	readonly segment: SegmentInfo;

	constructor(segment: SegmentInfo) {
		this.segment = segment;
		this.#chain = new ChainChecker(segment.fromSeq - 1, segment.prevHash);
	}

	push(event: ExportedEvent): boolean {
		if (event.seq > this.segment.toSeq) {
			this.#chain.breakHere(`seq ${event.seq} is past the header's toSeq ${this.segment.toSeq}`);
			return false;
		}
		return this.#chain.push(event);
	}

	breakHere(reason: string): void {
		this.#chain.breakHere(reason);
	}

	get result(): SegmentCheck {
		const chain = this.#chain.result;
		const { segment } = this;
		if (!chain.ok) return { ...chain, segment };
		const last = segment.fromSeq - 1 + chain.checked + chain.unchecked.length;
		if (last !== segment.toSeq) {
			return {
				...chain,
				ok: false,
				brokenAt: last + 1,
				reason: `the segment ends at seq ${last}, but its header says ${segment.toSeq}`,
				segment,
			};
		}
		if (chain.headHash !== segment.headHash) {
			return { ...chain, ok: false, brokenAt: last, reason: `the hash of seq ${last} is not the head hash the header states`, segment };
		}
		return { ...chain, segment };
	}
}

/** What the segment's end is checked against: a hash given by hand, or the actor's checkpoint and the next segment's start. */
export type Anchor =
	| { hash: string }
	| { checkpoint: { seq: number; hash: string } | null; next?: { name: string; segment: SegmentInfo | null } | null };

/** Whether a segment whose chain checked out ends at `anchor`: the checkpoint's hash, or where the next segment starts. */
export function anchorCheck(check: SegmentCheck, anchor: Anchor): { ok: boolean; detail: string } {
	const { toSeq } = check.segment;
	if ("hash" in anchor) {
		return anchor.hash === check.headHash
			? { ok: true, detail: `seq ${toSeq} ends at the checkpoint ${anchor.hash}` }
			: { ok: false, detail: `the segment ends at ${check.headHash}, not at the checkpoint ${anchor.hash}` };
	}
	const { checkpoint } = anchor;
	if (checkpoint === null) return { ok: false, detail: "the actor has no checkpoint: its log was never compacted" };
	if (checkpoint.seq === toSeq) {
		return checkpoint.hash === check.headHash
			? { ok: true, detail: `seq ${toSeq} is the actor's checkpoint, hash ${checkpoint.hash}` }
			: { ok: false, detail: `the actor's checkpoint at seq ${toSeq} is ${checkpoint.hash}, not this segment's ${check.headHash}` };
	}
	if (checkpoint.seq < toSeq)
		return { ok: false, detail: `the actor's checkpoint is at seq ${checkpoint.seq}, before this segment's end ${toSeq}` };
	const next = anchor.next;
	if (!next?.segment)
		return { ok: false, detail: `the checkpoint is at seq ${checkpoint.seq}, and no segment starting at seq ${toSeq + 1} was found` };
	return next.segment.prevHash === check.headHash
		? {
				ok: true,
				detail: `the next segment ${next.name} starts from this one's head hash (the chain goes on to the checkpoint at seq ${checkpoint.seq})`,
			}
		: { ok: false, detail: `the next segment ${next.name} starts from ${next.segment.prevHash}, not this one's ${check.headHash}` };
}
