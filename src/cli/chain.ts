/**
 * An exported log outside the server: checking its hash chain, and folding it with the reducers this
 * code has. Pure: the CLI runs it in Node and the browser console bundles it. An export holds events as
 * stored (`GET .../events?raw=true`): the hash covers the stored version, data text and meta text, and
 * JSON text written by JSON.stringify comes back identical through JSON.parse and JSON.stringify.
 */
import { chainHash, GENESIS_HASH } from "../core/hash.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { ActorDefinition } from "../reducers/definition.ts";

/** One line of an NDJSON export: an event as stored, with its actor when the server gave it. */
export type ExportedEvent = RecordedEvent & { hash: string; actor?: { kind: string; org: string; id: string }; redacted?: true };

export interface ChainCheck {
	ok: boolean;
	/** Events whose hash matched, from the first. */
	checked: number;
	/** The hash of the last event that matched (64 zeros when none did). */
	headHash: string;
	/**
	 * Seqs the server redacted (a secret in their data is hidden from readers): their hash covers data this file does
	 * not hold, so they cannot be checked here. The chain goes on from the hash each says it has; the server's own
	 * verify checks them against the stored rows.
	 */
	unchecked: number[];
	/** The first seq that is missing, out of order or hashes differently than it says. */
	brokenAt?: number;
	reason?: string;
}

/** The hash an event must carry, given the hash of the one before it. */
export function expectedHash(prev: string, event: ExportedEvent): string {
	return chainHash(prev, {
		seq: event.seq,
		id: event.id,
		type: event.type,
		v: event.v,
		ts: event.ts,
		data: JSON.stringify(event.data),
		meta: JSON.stringify(event.meta ?? {}),
	});
}

/**
 * Walks a log in order and stops at the first break, like the server's verify. Feed it events one at a
 * time (a file can be large), then read `result`.
 */
export class ChainChecker {
	#prev: string;
	#next: number;
	#checked = 0;
	#unchecked: number[] = [];
	#broken: { brokenAt: number; reason: string } | undefined;

	/** Starts after `afterSeq`, whose hash is `prevHash` (an import continuing a sandbox, say). */
	constructor(afterSeq = 0, prevHash = GENESIS_HASH) {
		this.#prev = prevHash;
		this.#next = afterSeq + 1;
	}

	get broken(): boolean {
		return this.#broken !== undefined;
	}

	/** Checks one event; false once the chain is broken (later events are not looked at). */
	push(event: ExportedEvent): boolean {
		if (this.#broken) return false;
		if (event.seq !== this.#next) {
			this.#broken = {
				brokenAt: this.#next,
				reason: event.seq > this.#next ? `seq ${this.#next} is missing` : `seq ${event.seq} appears where seq ${this.#next} should be`,
			};
			return false;
		}
		if (event.redacted === true) {
			this.#unchecked.push(event.seq);
			this.#prev = event.hash;
			this.#next++;
			return true;
		}
		const hash = expectedHash(this.#prev, event);
		if (hash !== event.hash) {
			this.#broken = { brokenAt: event.seq, reason: `hash of seq ${event.seq} does not match its contents` };
			return false;
		}
		this.#prev = hash;
		this.#next++;
		this.#checked++;
		return true;
	}

	/** Marks the chain broken at the next seq for a reason found outside it (a line that is not JSON, say). */
	breakHere(reason: string): void {
		if (!this.#broken) this.#broken = { brokenAt: this.#next, reason };
	}

	get result(): ChainCheck {
		return { ok: !this.#broken, checked: this.#checked, unchecked: [...this.#unchecked], headHash: this.#prev, ...this.#broken };
	}
}

export function checkChain(events: Iterable<ExportedEvent>): ChainCheck {
	const checker = new ChainChecker();
	for (const event of events) if (!checker.push(event)) break;
	return checker.result;
}

/** The event as a reducer sees it: lifted to its type's current version, like the kernel does before evolve. */
export function recordedOf(definition: ActorDefinition<unknown>, event: ExportedEvent): RecordedEvent {
	const lifted = definition.catalog.upcast(event.type, event.v, event.data);
	return { seq: event.seq, id: event.id, type: event.type, v: lifted.v, ts: event.ts, data: lifted.data, meta: event.meta ?? {} };
}

/** Folds stored events over `from` (default: the initial state) with this code's reducer. */
export function foldStored<S>(definition: ActorDefinition<S>, events: Iterable<ExportedEvent>, from: S = definition.initialState()): S {
	let state = from;
	for (const event of events) state = definition.evolve(state, recordedOf(definition as ActorDefinition<unknown>, event));
	return state;
}

/** Parses NDJSON text into events; blank lines are skipped, and a line that is not an event throws naming it. */
export function parseNdjson(text: string): ExportedEvent[] {
	const out: ExportedEvent[] = [];
	text.split("\n").forEach((line, i) => {
		if (line.trim() === "") return;
		out.push(parseLine(line, i + 1));
	});
	return out;
}

export function parseLine(line: string, lineNumber: number): ExportedEvent {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		throw new Error(`line ${lineNumber} is not JSON`);
	}
	const e = value as Partial<ExportedEvent> | null;
	if (
		!e ||
		typeof e !== "object" ||
		!Number.isSafeInteger(e.seq) ||
		typeof e.id !== "string" ||
		typeof e.type !== "string" ||
		!Number.isSafeInteger(e.v) ||
		!Number.isSafeInteger(e.ts) ||
		typeof e.hash !== "string"
	) {
		throw new Error(`line ${lineNumber} is not an exported event (seq, id, type, v, ts, data, meta, hash)`);
	}
	return { ...e, meta: e.meta ?? {} } as ExportedEvent;
}

export const toNdjsonLine = (event: ExportedEvent): string => `${JSON.stringify(event)}\n`;
