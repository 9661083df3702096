/**
 * Stored rows read back as events for a fold (a wake, a state-at-version read, a replay check). A fold
 * reads each event's data, upcast to the current version, and no reducer reads `meta`: so meta stays
 * JSON text until something asks for it, which saves a JSON.parse per event (about a third of a fold's
 * time). Pure module: the kernel and the Node replay bench (bench/replay.mjs) run this same code.
 */
import type { EventCatalog, EventNamed, EventOf } from "./catalog.ts";
import type { EventMeta, RecordedEvent } from "./envelope.ts";

/** The columns of a stored event a fold needs, data and meta as the JSON text the events table keeps (a type, not an
 * interface, so SQL row types accept it). */
export type StoredRow = {
	seq: number;
	id: string;
	type: string;
	v: number;
	ts: number;
	data: string;
	meta: string;
};

/**
 * A recorded event whose meta is parsed on first read. Not for envelopes: `meta` is an accessor, so a spread,
 * JSON.stringify or structured clone of this object leaves it out.
 */
class FoldedEvent implements RecordedEvent {
	seq: number;
	id: string;
	type: string;
	v: number;
	ts: number;
	data: unknown;
	#metaText: string;
	#meta: EventMeta | undefined;

	constructor(row: StoredRow, v: number, data: unknown) {
		this.seq = row.seq;
		this.id = row.id;
		this.type = row.type;
		this.v = v;
		this.ts = row.ts;
		this.data = data;
		this.#metaText = row.meta;
	}

	get meta(): EventMeta {
		this.#meta ??= JSON.parse(this.#metaText) as EventMeta;
		return this.#meta;
	}
}

/** A stored row as the event a reducer folds: data parsed and upcast, meta parsed only if read. */
export function eventForFold(row: StoredRow, catalog: EventCatalog): RecordedEvent {
	const lifted = catalog.upcast(row.type, row.v, JSON.parse(row.data));
	return new FoldedEvent(row, lifted.v, lifted.data);
}

/**
 * A stored row as a plain recorded event, everything parsed: for envelopes that are sent or serialized. Upcast to
 * the current version with `catalog`; without one, as written (`?raw=true` reads).
 */
export function recordedFromRow(row: StoredRow, catalog?: EventCatalog): RecordedEvent {
	const data: unknown = JSON.parse(row.data);
	const lifted = catalog ? catalog.upcast(row.type, row.v, data) : { v: row.v, data };
	return { seq: row.seq, id: row.id, type: row.type, v: lifted.v, ts: row.ts, data: lifted.data, meta: JSON.parse(row.meta) as EventMeta };
}

/**
 * A stored row of one type as its catalog's event, upcast to the current version, for reads that select rows by type
 * (`reverseByType`): the catalog validated the row when it was written, so its data has that type's current shape.
 */
export function storedEventOf<C extends EventCatalog, T extends EventOf<C>["type"]>(row: StoredRow, catalog: C, type: T): EventNamed<C, T> {
	return eventOfType(eventForFold(row, catalog), catalog, type);
}

/** An event a kernel read handed out (validated and upcast) as its catalog's event of `type`; another type throws. */
export function eventOfType<C extends EventCatalog, T extends EventOf<C>["type"]>(
	event: RecordedEvent,
	_catalog: C,
	type: T,
): EventNamed<C, T> {
	if (event.type !== type) throw new Error(`seq ${event.seq} is ${event.type}, not ${type}`);
	return event as EventNamed<C, T>;
}
