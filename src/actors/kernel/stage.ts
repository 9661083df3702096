/**
 * Staging a batch: validates proposed events against the catalog, drops repeated ids, folds them over the head
 * and hashes them into rows, without writing anything. Pure but for the clock-free hash: the append's hot path.
 */
import { type ActorError, fail, invalid, type Outcome, ok } from "../../core/outcome.ts";
import type { FieldError } from "../../events/catalog.ts";
import {
	type ActorRef,
	compactMeta,
	type EventEnvelope,
	type EventMeta,
	type ProposedEvent,
	type RecordedEvent,
} from "../../events/envelope.ts";
import type { ActorDefinition } from "../../reducers/definition.ts";
import type { StoredEvent } from "../log.ts";
import { nativeChainHash } from "../native-hash.ts";
import { checkSpec, type TimerChange } from "../timers.ts";
import type { LogHead } from "./host.ts";

/** Largest event data accepted, as JSON text; SQLite refuses rows over 2 MB. */
const MAX_EVENT_DATA_BYTES = 1_000_000;
const MAX_ID_LENGTH = 200;
/** The last instant a JavaScript Date can hold: every stored `ts` is a valid date (kinds bound theirs more tightly). */
const MAX_EVENT_TS = 8_640_000_000_000_000;

export interface Staged<S> {
	rows: StoredEvent[];
	envelopes: EventEnvelope[];
	state: S;
	duplicates: string[];
}

type Checked = { event: ProposedEvent; at: string; v: number; data: unknown; dataText: string };

/** Validates, dedupes (`existing`: ids known to be stored) and reduces proposed events over `head`. */
export function stage<S>(
	definition: ActorDefinition<S>,
	actor: ActorRef,
	head: LogHead<S>,
	proposed: readonly ProposedEvent[],
	meta: EventMeta | undefined,
	existing: ReadonlySet<string>,
): Outcome<Staged<S>> {
	const checked = check(definition, proposed);
	if (!Array.isArray(checked)) return checked;
	const seen = new Set<string>();
	const duplicates: string[] = [];
	const rows: StoredEvent[] = [];
	const envelopes: EventEnvelope[] = [];
	let state = head.state;
	let seq = head.version;
	let prev = head.hash;
	// An event without meta of its own (every SDK event) has the batch's: compacted and serialised once per batch.
	let batchMeta: { meta: EventMeta; text: string } | undefined;
	for (const { event, at, v, data, dataText } of checked) {
		if (existing.has(event.id) || seen.has(event.id)) {
			duplicates.push(event.id);
			continue;
		}
		seen.add(event.id);
		seq++;
		let eventMeta: EventMeta;
		let metaText: string;
		if (event.meta === undefined) {
			if (!batchMeta) {
				const shared = compactMeta(meta);
				batchMeta = { meta: shared, text: JSON.stringify(shared) };
			}
			eventMeta = batchMeta.meta;
			metaText = batchMeta.text;
		} else {
			eventMeta = compactMeta({ ...meta, ...event.meta });
			metaText = JSON.stringify(eventMeta);
		}
		const lifted = definition.catalog.upcast(event.type, v, data);
		const recorded: RecordedEvent = { seq, id: event.id, type: event.type, v: lifted.v, ts: event.ts, data: lifted.data, meta: eventMeta };
		try {
			state = definition.evolve(state, recorded);
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			return fail({
				kind: "rejected",
				detail: `${event.type} at ${at} was refused, so the whole batch was rejected: ${message}`,
				errors: [{ path: at, message }],
			});
		}
		const row: StoredEvent = {
			seq,
			id: event.id,
			type: event.type,
			v,
			ts: event.ts,
			data: dataText,
			meta: metaText,
			hash: "",
		};
		row.hash = nativeChainHash(prev, row);
		prev = row.hash;
		rows.push(row);
		envelopes.push({ ...recorded, actor, hash: row.hash });
	}
	return ok({ rows, envelopes, state, duplicates });
}

/** Every proposed event's id, ts and data checked against the catalog; all errors at once, or the checked events. */
function check<S>(definition: ActorDefinition<S>, proposed: readonly ProposedEvent[]): Checked[] | { ok: false; error: ActorError } {
	const errors: FieldError[] = [];
	const checked: Checked[] = [];
	proposed.forEach((event, i) => {
		const at = event.at ?? `events[${i}]`;
		if (typeof event.id !== "string" || event.id.length === 0 || event.id.length > MAX_ID_LENGTH) {
			errors.push({ path: `${at}.id`, message: `must be a string of 1 to ${MAX_ID_LENGTH} characters` });
		}
		if (!Number.isSafeInteger(event.ts) || event.ts < 0 || event.ts > MAX_EVENT_TS) {
			errors.push({ path: `${at}.ts`, message: `must be an integer from 0 to ${MAX_EVENT_TS} (milliseconds since the epoch)` });
		}
		const result = definition.catalog.validate(event.type, event.data, event.v, at);
		if (!result.ok) {
			errors.push(...result.errors);
			return;
		}
		const dataText = JSON.stringify(result.data);
		if (overBytes(dataText, MAX_EVENT_DATA_BYTES)) {
			errors.push({ path: `${at}.data`, message: `is larger than ${MAX_EVENT_DATA_BYTES} bytes of JSON` });
			return;
		}
		checked.push({ event, at, v: result.v, data: result.data, dataText });
	});
	return errors.length > 0 ? invalid(errors) : checked;
}

/** Checks timer specs before anything is written, so a bad one is an error value, not a failed transaction. */
export function invalidTimers(changes: readonly TimerChange[] | undefined): { ok: false; error: ActorError } | undefined {
	const errors: FieldError[] = [];
	changes?.forEach((change, i) => {
		if ("cancel" in change) return;
		try {
			checkSpec(change.spec);
		} catch (error) {
			errors.push({ path: `timers[${i}].spec`, message: `${change.name}: ${error instanceof Error ? error.message : String(error)}` });
		}
	});
	return errors.length > 0 ? invalid(errors, "A timer cannot be scheduled.") : undefined;
}

const encoder = new TextEncoder();

/** Whether text is longer than `max` bytes as UTF-8; only encodes when it could be. */
function overBytes(text: string, max: number): boolean {
	return text.length * 3 > max && encoder.encode(text).length > max;
}
