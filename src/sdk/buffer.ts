/**
 * The bounded offline buffer: every event waits here until the server acknowledges it. It holds at most
 * `capacity` events; on overflow the oldest are dropped and counted. With a storage (localStorage in
 * browsers) it is written through, so a reload resends what the last page could not.
 */
import type { ClientEvent } from "./events.ts";

/** The part of the Web Storage API the buffer uses; pass your own (a file, a KV) to persist in Node. */
export interface StorageLike {
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
	removeItem(key: string): void;
}

interface Stored {
	v: 1;
	events: ClientEvent[];
	dropped: number;
}

interface Entry {
	event: ClientEvent;
	/** Local order, for flush(): the events pushed before a flush have numbers up to its mark. */
	n: number;
	bytes: number;
}

const encoder = new TextEncoder();

export class EventBuffer {
	#entries: Entry[] = [];
	#counter = 0;
	#dropped = 0;
	#saveTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		readonly capacity: number,
		private readonly storage: StorageLike | undefined,
		private readonly key: string,
		/** Called after events were dropped to make room: how many this time, their ids, how many in all. */
		private readonly onDrop: (count: number, ids: string[], total: number) => void,
		private readonly onStorageError: (error: unknown) => void,
	) {
		this.#load();
	}

	get size(): number {
		return this.#entries.length;
	}

	/** Events dropped on overflow over the buffer's life (kept across reloads with a storage). */
	get dropped(): number {
		return this.#dropped;
	}

	/** The number of the newest event so far; events pushed later get higher numbers. */
	get mark(): number {
		return this.#counter;
	}

	/** Whether any event numbered at or below `mark` is still waiting. */
	holdsUpTo(mark: number): boolean {
		const oldest = this.#entries[0];
		return oldest !== undefined && oldest.n <= mark;
	}

	push(event: ClientEvent): void {
		this.#entries.push(this.#entry(event));
		this.#trim();
		this.#scheduleSave();
	}

	/** The oldest events, at most `maxEvents` of them and `maxBytes` of JSON (always at least one). */
	peek(maxEvents: number, maxBytes: number): ClientEvent[] {
		const out: ClientEvent[] = [];
		let bytes = 2;
		for (const entry of this.#entries) {
			if (out.length >= maxEvents) break;
			if (out.length > 0 && bytes + entry.bytes + 1 > maxBytes) break;
			out.push(entry.event);
			bytes += entry.bytes + 1;
		}
		return out;
	}

	/** Removes acknowledged (or refused) events; ids no longer here (dropped meanwhile) are ignored. */
	remove(ids: Iterable<string>): void {
		const gone = new Set(ids);
		const before = this.#entries.length;
		this.#entries = this.#entries.filter((entry) => !gone.has(entry.event.id));
		if (this.#entries.length !== before) this.#scheduleSave();
	}

	/** Writes the buffer now (the page is going away). */
	save(): void {
		if (this.#saveTimer !== undefined) clearTimeout(this.#saveTimer);
		this.#saveTimer = undefined;
		if (!this.storage) return;
		try {
			if (this.#entries.length === 0 && this.#dropped === 0) this.storage.removeItem(this.key);
			else {
				const stored: Stored = { v: 1, events: this.#entries.map((e) => e.event), dropped: this.#dropped };
				this.storage.setItem(this.key, JSON.stringify(stored));
			}
		} catch (error) {
			// Quota or privacy mode: the events stay in memory and are still sent.
			this.onStorageError(error);
		}
	}

	#entry(event: ClientEvent): Entry {
		return { event, n: ++this.#counter, bytes: encoder.encode(JSON.stringify(event)).length };
	}

	#trim(): void {
		const over = this.#entries.length - this.capacity;
		if (over <= 0) return;
		const dropped = this.#entries.splice(0, over);
		this.#dropped += over;
		this.onDrop(
			over,
			dropped.map((e) => e.event.id),
			this.#dropped,
		);
	}

	/** Coalesces writes: one JSON write per task however many events arrive in it. */
	#scheduleSave(): void {
		if (!this.storage || this.#saveTimer !== undefined) return;
		this.#saveTimer = setTimeout(() => this.save(), 0);
	}

	#load(): void {
		if (!this.storage) return;
		let stored: Partial<Stored> | null = null;
		try {
			const text = this.storage.getItem(this.key);
			stored = text ? (JSON.parse(text) as Partial<Stored>) : null;
		} catch (error) {
			this.onStorageError(error);
			return;
		}
		if (stored?.v !== 1 || !Array.isArray(stored.events)) return;
		this.#dropped = Number.isSafeInteger(stored.dropped) ? (stored.dropped as number) : 0;
		for (const event of stored.events) {
			if (event && typeof event.id === "string" && typeof event.type === "string" && typeof event.ts === "number" && event.data) {
				this.#entries.push(this.#entry(event));
			}
		}
		this.#trim();
	}
}
