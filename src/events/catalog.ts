/**
 * The event catalog: one definition per event type, with its zod schema at the current
 * version and, for older versions still found in logs, their schemas and upcasters.
 * Pure module: runs unchanged in workerd, Node and the browser.
 */
import type { z } from "zod";
import type { ProposedEvent, RecordedEvent } from "./envelope.ts";
import { NewerEventVersionError, newerVersionMessage } from "./newer-version.ts";

export interface FieldError {
	path: string;
	message: string;
}

/** A version older than the current one, as it was written, and how to lift it one step. */
export interface LegacyVersion {
	schema: z.ZodType;
	/** Lifts data of this version to the next version. Pure. */
	upcast: (data: never) => unknown;
}

export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
	type: T;
	version: number;
	schema: S;
	/** Keyed by version number, each lifting to version + 1. */
	legacy: Record<number, LegacyVersion>;
	/** Emitted by the actor itself; clients may not submit it. */
	internal: boolean;
	/**
	 * Left out of the log's type index (`events_type_seq`, src/actors/type-index.ts): a high-volume type that no code
	 * reads by type, so each event of it is one index entry fewer. Reads of it by type still answer, by a scan in seq
	 * order. Changing the flag changes the index: a new migration (`npm run db:generate`).
	 */
	unindexed?: boolean;
}

export function defineEvent<const T extends string, S extends z.ZodType>(
	type: T,
	schema: S,
	options: { version?: number; legacy?: Record<number, LegacyVersion>; internal?: boolean; unindexed?: boolean } = {},
): EventDefinition<T, S> {
	const version = options.version ?? 1;
	const legacy = options.legacy ?? {};
	for (let v = 1; v < version; v++) {
		if (!legacy[v]) throw new Error(`${type}: version ${v} has no upcaster to ${v + 1}`);
	}
	return { type, version, schema, legacy, internal: options.internal ?? false, ...(options.unindexed ? { unindexed: true } : {}) };
}

/** Formats a zod issue path as `events[3].data.url`, prefixed by where the data sits. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
	let out = prefix;
	for (const part of path) {
		if (typeof part === "number") out += `[${part}]`;
		else out += out.length === 0 ? String(part) : `.${String(part)}`;
	}
	return out;
}

export function zodErrors(error: z.ZodError, prefix = ""): FieldError[] {
	return error.issues.map((issue) => ({
		path: formatPath(prefix, issue.path) || "(root)",
		message: issue.message,
	}));
}

export type ValidationResult = { ok: true; v: number; data: unknown } | { ok: false; errors: FieldError[] };

/** The recorded event one definition describes: its type literal, and its data as the current schema outputs it. */
export type RecordedOf<D> = D extends EventDefinition<infer T, infer S> ? RecordedEvent<T, z.output<S>> : never;
/** The event an actor may propose for one definition: its type literal, and data of the current schema's shape. */
export type ProposedOf<D> = D extends EventDefinition<infer T, infer S> ? ProposedEvent<T, z.input<S>> : never;

/** The union of a catalog's recorded events: a `switch (event.type)` narrows `data` without casts. */
export type EventOf<C> = C extends EventCatalog<infer D> ? RecordedOf<D> : never;
/** The union of events a decider may propose to a catalog: an unknown type or a wrong data shape fails `tsc`. */
export type ProposalOf<C> = C extends EventCatalog<infer D> ? ProposedOf<D> : never;
/** One event type's recorded event, by its type name. */
export type EventNamed<C, T extends string> = Extract<EventOf<C>, { type: T }>;
/** One event type's data, by its type name. */
export type DataOf<C, T extends string> = EventNamed<C, T>["data"];

export class EventCatalog<D extends EventDefinition = EventDefinition> {
	readonly #byType = new Map<string, D>();

	constructor(definitions: readonly D[]) {
		for (const def of definitions) {
			if (this.#byType.has(def.type)) throw new Error(`duplicate event type ${def.type}`);
			this.#byType.set(def.type, def);
		}
	}

	get types(): string[] {
		return [...this.#byType.keys()];
	}

	get(type: string): D | undefined {
		return this.#byType.get(type);
	}

	/**
	 * Checks data written at version v (default: current) against that version's schema.
	 * `at` locates the event in the caller's input, e.g. `events[3]`, so errors name the field.
	 */
	validate(type: string, data: unknown, v?: number, at = ""): ValidationResult {
		const field = (name: string) => (at ? `${at}.${name}` : name);
		const def = this.#byType.get(type);
		if (!def) return { ok: false, errors: [{ path: field("type"), message: `unknown event type "${type}"` }] };
		const version = v ?? def.version;
		if (version > def.version)
			return { ok: false, errors: [{ path: field("v"), message: newerVersionMessage(type, version, def.version) }] };
		const schema = version === def.version ? def.schema : def.legacy[version]?.schema;
		if (!schema) {
			return {
				ok: false,
				errors: [{ path: field("v"), message: `${type} has no version ${version} (current is ${def.version})` }],
			};
		}
		const parsed = schema.safeParse(data);
		if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error, field("data")) };
		return { ok: true, v: version, data: parsed.data };
	}

	/**
	 * Lifts stored data from version v to the type's current version. Unknown types pass through. A version newer than
	 * the current one throws NewerEventVersionError: upcasters run forward only (a rollback, docs/deploy.md).
	 */
	upcast(type: string, v: number, data: unknown): { v: number; data: unknown } {
		const def = this.#byType.get(type);
		if (def && v > def.version) throw new NewerEventVersionError(type, v, def.version);
		if (!def || v === def.version) return { v, data };
		let current = data;
		for (let step = v; step < def.version; step++) {
			const legacy = def.legacy[step];
			if (!legacy) throw new Error(`${type}: no upcaster from version ${step}`);
			current = legacy.upcast(current as never);
		}
		return { v: def.version, data: current };
	}
}
