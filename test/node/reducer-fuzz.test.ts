/**
 * Reducers under generated event sequences: for every actor kind, events of every catalog type are generated from
 * the type's own schema (its zod schema as JSON Schema, then fast-check), biased toward small id pools so that
 * sequences mean something, and toward hostile strings (`__proto__`, `constructor`, lone surrogates, RTL and
 * zero-width characters). Each event the catalog accepts is folded:
 *
 * - evolve is total: it returns a state or refuses with a plain Error (a guard), never a TypeError or RangeError,
 *   and never by writing into the state it was given (states are frozen);
 * - what the actor decides on its own from a state (the visit's end, a camera going offline, a batch closing, the
 *   next queued answer) passes the catalog and evolves;
 * - folding is deterministic: twice from the start, resumed from a JSON snapshot at any point, and over the events
 *   as stored (JSON text), all give the same state, and that state survives a JSON round trip unchanged.
 *
 * ROOST_LONG=1 runs ten times more sequences; ROOST_SEED=<n> replays one.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { EventCatalog } from "../../src/events/catalog.ts";
import type { ProposedEvent, RecordedEvent } from "../../src/events/envelope.ts";
import type { Interaction } from "../../src/events/interaction.ts";
import { orgCatalog } from "../../src/events/org.ts";
import { EVENT_ID_PATTERN } from "../../src/events/session.ts";
import { mergeMetrics, metricsOf } from "../../src/patterns/metrics.ts";
import { cameraDefinition, DEFAULT_LIMITS, decideCamera } from "../../src/reducers/camera.ts";
import { chatDefinition, startNext } from "../../src/reducers/chat.ts";
import { type ActorDefinition, fold, isRefusal, type Refusal } from "../../src/reducers/definition.ts";
import { orgDefinition } from "../../src/reducers/org.ts";
import { decideRollups, recordInteraction, rollupsFrom } from "../../src/reducers/org-rollups.ts";
import { registryDefinition } from "../../src/reducers/registry.ts";
import { DEFAULT_VISIT_BUDGET, decideSession, sessionDefinition } from "../../src/reducers/session.ts";

const LONG = process.env.ROOST_LONG === "1";
const SEED = Number(process.env.ROOST_SEED);
const options = (numRuns: number) => ({
	numRuns: LONG ? numRuns * 10 : numRuns,
	...(process.env.ROOST_SEED && Number.isSafeInteger(SEED) ? { seed: SEED } : {}),
});

// ---- arbitraries from JSON Schema ------------------------------------------------------------

type Schema = {
	$ref?: string;
	type?: string | string[];
	anyOf?: Schema[];
	oneOf?: Schema[];
	allOf?: Schema[];
	enum?: unknown[];
	const?: unknown;
	properties?: Record<string, Schema>;
	required?: string[];
	additionalProperties?: Schema | boolean;
	propertyNames?: Schema;
	items?: Schema;
	prefixItems?: Schema[];
	minItems?: number;
	maxItems?: number;
	minLength?: number;
	maxLength?: number;
	pattern?: string;
	format?: string;
	minimum?: number;
	maximum?: number;
	exclusiveMinimum?: number;
	exclusiveMaximum?: number;
	$defs?: Record<string, Schema>;
};

/** Strings that have broken code before: prototype keys, lone surrogates, direction and zero-width marks. */
const HOSTILE = [
	"__proto__",
	"constructor",
	"toString",
	"hasOwnProperty",
	"valueOf",
	"\ud800",
	"\udfff",
	"\u202e",
	"\u200b",
	"\ufeff",
	"a\u0000b",
];
/** Ids are drawn from small pools so that events refer to one another (the same operation, frame, key or visit). */
const ID_POOL = ["a", "b", "c", "op-1", "op-2", "f-1", "f-2", "key_1", "key_2"];

function stringArb(schema: Schema, property: string | undefined): fc.Arbitrary<string> {
	if (schema.pattern) {
		const regex = new RegExp(schema.pattern);
		const pooled = ID_POOL.filter((s) => regex.test(s));
		const matching = fc.stringMatching(regex).filter((s) => within(s, schema));
		return pooled.length ? fc.oneof(fc.constantFrom(...pooled), matching) : matching;
	}
	const min = schema.minLength ?? 0;
	const max = Math.max(min, Math.min(schema.maxLength ?? 24, 24));
	const hostile = HOSTILE.filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY));
	const pool = property && /id$/i.test(property) ? ID_POOL.filter((s) => s.length >= min && s.length <= max) : [];
	const choices: fc.Arbitrary<string>[] = [fc.string({ minLength: min, maxLength: max, unit: "binary" })];
	if (hostile.length) choices.push(fc.constantFrom(...hostile));
	if (pool.length) choices.push(fc.constantFrom(...pool), fc.constantFrom(...pool));
	return fc.oneof(...choices);
}

const within = (s: string, schema: Schema) =>
	s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY);

function numberArb(schema: Schema, integer: boolean): fc.Arbitrary<number> {
	const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : 1e-9) : -1e12);
	const hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (integer ? 1 : 1e-9) : 2e12);
	const min = Math.ceil(Math.max(lo, -Number.MAX_SAFE_INTEGER));
	const max = Math.floor(Math.min(hi, Number.MAX_SAFE_INTEGER));
	/** Integers in [a, b] clamped to the schema's range. */
	const range = (a: number, b: number) => {
		const from = Math.min(Math.max(a, min), max);
		return fc.integer({ min: from, max: Math.max(from, Math.min(b, max)) });
	};
	const any = integer ? fc.integer({ min, max }) : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
	return fc.oneof(
		{ arbitrary: range(0, 5), weight: 3 },
		{ arbitrary: range(1_800_000_000_000, 1_800_000_100_000), weight: 1 },
		{ arbitrary: any, weight: 1 },
	);
}

function arb(schema: Schema, root: Schema, depth: number, property?: string): fc.Arbitrary<unknown> {
	if (schema.$ref) {
		const name = schema.$ref.replace("#/$defs/", "");
		const target = root.$defs?.[name];
		if (!target) throw new Error(`no $def ${name}`);
		return depth > 3 ? fc.constantFrom(null, 1, "x") : arb(target, root, depth + 1, property);
	}
	if (schema.const !== undefined) return fc.constant(schema.const);
	if (schema.enum) return fc.constantFrom(...schema.enum);
	const union = schema.anyOf ?? schema.oneOf;
	if (union) return fc.oneof(...union.map((s) => arb(s, root, depth + 1, property)));
	if (schema.allOf?.[0]) return arb(schema.allOf[0], root, depth, property);
	const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
	if (type.length > 1) return fc.oneof(...type.map((t) => arb({ ...schema, type: t }, root, depth, property)));
	switch (type[0]) {
		case "string":
			return stringArb(schema, property);
		case "integer":
			return numberArb(schema, true);
		case "number":
			return numberArb(schema, false);
		case "boolean":
			return fc.boolean();
		case "null":
			return fc.constant(null);
		case "array": {
			if (schema.prefixItems) return fc.tuple(...schema.prefixItems.map((s) => arb(s, root, depth + 1)));
			const minLength = schema.minItems ?? 0;
			const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 4, depth > 2 ? 1 : 4));
			return fc.array(arb(schema.items ?? {}, root, depth + 1, property), { minLength, maxLength });
		}
		case "object": {
			const props = schema.properties ?? {};
			const required = new Set(schema.required ?? []);
			const fixed = fc.record(Object.fromEntries(Object.entries(props).map(([key, s]) => [key, arb(s, root, depth + 1, key)])), {
				requiredKeys: [...required],
			});
			const extra = schema.additionalProperties;
			if (!extra || extra === true || Object.keys(props).length > 0) return fixed;
			const keys = schema.propertyNames
				? (stringArb(schema.propertyNames, property) as fc.Arbitrary<string>)
				: stringArb({ maxLength: 12 }, property);
			return fc.dictionary(keys, arb(extra, root, depth + 1, property), { maxKeys: depth > 2 ? 1 : 4 });
		}
		default:
			// Any JSON value (z.json(), z.unknown()).
			return fc.jsonValue({ maxDepth: 2 });
	}
}

// ---- event sequences ----------------------------------------------------------------------------

interface Candidate {
	type: string;
	data: unknown;
	ts: number;
}

function candidates(catalog: EventCatalog): fc.Arbitrary<Candidate> {
	const byType = catalog.types.map((type) => {
		const schema = catalog.get(type)?.schema as z.ZodType;
		const json = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as Schema;
		return fc.record({
			type: fc.constant(type),
			data: arb(json, json, 0),
			ts: fc.integer({ min: 1_800_000_000_000, max: 1_800_000_000_000 + 3_600_000 }),
		});
	});
	return fc.oneof(...byType);
}

const deepFreeze = <T>(value: T): T => {
	if (value && typeof value === "object" && !Object.isFrozen(value)) {
		Object.freeze(value);
		for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
	}
	return value;
};

const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A state a snapshot keeps exactly: plain objects and arrays of finite numbers, strings, booleans and null (-0 reads back as 0). */
function expectJson(value: unknown, path = "state"): void {
	if (value === null || typeof value === "string" || typeof value === "boolean") return;
	if (typeof value === "number") {
		expect(Number.isFinite(value), `${path} is ${value}`).toBe(true);
		return;
	}
	expect(typeof value, `${path} is ${typeof value}`).toBe("object");
	if (Array.isArray(value)) {
		value.forEach((item, i) => {
			expect(item, `${path}[${i}]`).not.toBeUndefined();
			expectJson(item, `${path}[${i}]`);
		});
		return;
	}
	const proto = Object.getPrototypeOf(value);
	expect(proto === Object.prototype || proto === null, `${path} is not a plain object`).toBe(true);
	for (const [key, item] of Object.entries(value as object)) if (item !== undefined) expectJson(item, `${path}.${key}`);
}

interface Folded<S> {
	state: S;
	accepted: RecordedEvent[];
	refused: number;
	invalid: number;
}

/** Validates and folds candidates as the kernel would, checking each step. */
function foldChecked<S>(definition: ActorDefinition<S>, input: Candidate[], decided: (state: S, ts: number) => ProposedEvent[]): Folded<S> {
	let state = deepFreeze(definition.initialState());
	const accepted: RecordedEvent[] = [];
	let refused = 0;
	let invalid = 0;
	const apply = (proposed: { id: string; type: string; ts: number; data: unknown; v?: number }, strict: boolean): boolean => {
		const checked = definition.catalog.validate(proposed.type, proposed.data, proposed.v);
		if (!checked.ok) {
			if (strict) throw new Error(`a decided ${proposed.type} fails its own schema: ${JSON.stringify(checked.errors)}`);
			invalid++;
			return false;
		}
		const lifted = definition.catalog.upcast(proposed.type, checked.v, checked.data);
		const event: RecordedEvent = {
			seq: accepted.length + 1,
			id: proposed.id,
			type: proposed.type,
			v: lifted.v,
			ts: proposed.ts,
			data: lifted.data,
			meta: {},
		};
		// As a wake reads it back: data parsed from the stored JSON text.
		const stored = deepFreeze(roundTrip(event));
		try {
			state = deepFreeze(definition.evolve(state, stored));
		} catch (error) {
			// A guard refuses with a plain Error; a TypeError or RangeError is the reducer breaking (or writing into frozen state).
			if (!(error instanceof Error) || error.constructor !== Error) throw error;
			if (strict) throw new Error(`a decided ${proposed.type} was refused: ${error.message}`);
			refused++;
			return false;
		}
		accepted.push(stored);
		return true;
	};
	for (const [i, c] of input.entries()) {
		apply({ id: `e${i}`, ...c }, false);
		// What the actor would decide by itself at this moment must be valid and must evolve.
		for (const [j, d] of decided(state, c.ts).entries()) apply({ ...d, id: `${d.id}#${i}.${j}` }, true);
	}
	return { state, accepted, refused, invalid };
}

function checkDeterminism<S>(definition: ActorDefinition<S>, folded: Folded<S>, cut: number): void {
	const again = (events: RecordedEvent[], from = definition.initialState()) => events.reduce((s, e) => definition.evolve(s, e), from);
	const { state, accepted } = folded;
	expect(again(accepted)).toEqual(state);
	expectJson(state);
	const k = accepted.length ? cut % (accepted.length + 1) : 0;
	const resumed = again(accepted.slice(k), roundTrip(again(accepted.slice(0, k))));
	expect(roundTrip(resumed)).toEqual(roundTrip(state));
	expect(roundTrip(again(accepted.map(roundTrip)))).toEqual(roundTrip(state));
}

/** The events a decider decided; these commands are never refused. */
function events(decided: ProposedEvent[] | Refusal): ProposedEvent[] {
	if (isRefusal(decided)) throw new Error(`refused: ${decided.detail}`);
	return decided;
}

interface Kind<S> {
	definition: ActorDefinition<S>;
	/** Events the actor decides by itself from a state at time `ts` (timers, queue). */
	decided: (state: S, ts: number) => ProposedEvent[];
}

const KINDS: Record<string, Kind<unknown>> = {
	session: {
		definition: sessionDefinition as ActorDefinition<unknown>,
		decided: (state, ts) => {
			const ended =
				Math.floor(ts / 1000) % 5 === 0
					? events(decideSession({ kind: "end_inactive", at: ts }, state as never, { now: ts, version: 0, budget: DEFAULT_VISIT_BUDGET }))
					: [];
			// Ids the session derives are outside what clients may send (security review #10).
			for (const event of ended) expect(EVENT_ID_PATTERN.test(event.id), event.id).toBe(false);
			return ended;
		},
	},
	camera: {
		definition: cameraDefinition as ActorDefinition<unknown>,
		decided: (state, ts) => {
			const context = { now: ts, version: 0, limits: { ...DEFAULT_LIMITS, offlineAfterMs: 60_000 } };
			if (ts % 7 === 0) return events(decideCamera({ kind: "check_offline", at: ts }, state as never, context));
			return ts % 7 === 1 ? events(decideCamera({ kind: "close_window", at: ts }, state as never, context)) : [];
		},
	},
	chat: {
		definition: chatDefinition as ActorDefinition<unknown>,
		decided: (state, ts) => {
			const chat = state as { operation: unknown; queue: never[] };
			return chat.operation === null && ts % 3 === 0 ? startNext(chat.queue, { kind: "test", model: "m" }, ts) : [];
		},
	},
	org: { definition: orgDefinition as ActorDefinition<unknown>, decided: () => [] },
	registry: { definition: registryDefinition as ActorDefinition<unknown>, decided: () => [] },
};

describe.each(Object.entries(KINDS))("the %s reducer under generated event sequences", (name, kind) => {
	it("is total and deterministic: guards refuse with an Error, decided events evolve, folds agree however they are cut", () => {
		const tally = { sequences: 0, events: 0, accepted: 0, refused: 0, invalid: 0 };
		fc.assert(
			fc.property(fc.array(candidates(kind.definition.catalog), { maxLength: 40 }), fc.nat(), (input, cut) => {
				const folded = foldChecked(kind.definition, input, kind.decided);
				checkDeterminism(kind.definition, folded, cut);
				tally.sequences++;
				tally.events += input.length;
				tally.accepted += folded.accepted.length;
				tally.refused += folded.refused;
				tally.invalid += folded.invalid;
			}),
			options(name === "registry" ? 100 : 300),
		);
		console.log(`[figure] reducer fuzz ${name}: ${JSON.stringify(tally)}`);
		expect(tally.accepted).toBeGreaterThan(0);
	}, 120_000);
});

describe("the camera reducer's summed durations", () => {
	it("stay safe integers when two episodes' durations add past 2^53 (a shrunk counterexample of the fuzz above)", () => {
		const T = 1_800_000_000_000;
		const input = [
			{ type: "camera.motion_started", data: { episode: 1, frameId: "a" }, ts: T },
			{ type: "camera.motion_stopped", data: { episode: 1, frameId: null, reason: "still", durationMs: 5138381042998775 }, ts: T },
			{ type: "camera.motion_started", data: { episode: 1, frameId: "a" }, ts: T },
			{ type: "camera.motion_stopped", data: { episode: T, frameId: "a", reason: "still", durationMs: 3868818211742217 }, ts: T + 470_220 },
		];
		const camera = { definition: cameraDefinition as ActorDefinition<unknown>, decided: KINDS.camera?.decided ?? (() => []) };
		const folded = foldChecked(camera.definition, input, camera.decided);
		expect(folded.accepted.length).toBeGreaterThanOrEqual(4);
		checkDeterminism(camera.definition, folded, 0);
	});
});

describe("rollups of interactions whose pages, targets and names are any strings", () => {
	it("are events the org's catalog accepts, with every count a number", () => {
		const key = fc.oneof(fc.constantFrom(...HOSTILE, "/", "/shoes"), fc.string({ maxLength: 12 }));
		const HOUR = 3_600_000;
		const T0 = Date.UTC(2031, 0, 1);
		let rollups = 0;
		fc.assert(
			fc.property(
				fc.array(
					fc.record({
						source: fc.constantFrom("web" as const, "chat" as const),
						pages: fc.array(key, { maxLength: 4 }),
						targets: fc.dictionary(key, fc.integer({ min: 1, max: 9 }), { maxKeys: 4 }),
						hour: fc.nat(5),
					}),
					{ minLength: 1, maxLength: 8 },
				),
				(interactions) => {
					let state = rollupsFrom(T0);
					interactions.forEach((i, n) => {
						const summary =
							i.source === "web"
								? { events: 3, pageViews: i.pages.length, clicks: 1, errors: 0, durationMs: 1000, pages: i.pages, clickTargets: i.targets }
								: { messages: 2, toolCalls: i.targets };
						const endedAt = T0 + i.hour * HOUR + 1000;
						const interaction = {
							id: `i${n}`,
							source: i.source,
							actor: { kind: "session", id: "s" },
							startedAt: endedAt - 1000,
							endedAt,
							summary,
						};
						state = recordInteraction(state, interaction as unknown as Interaction, endedAt);
					});
					for (const event of decideRollups(state, T0 + 8 * HOUR)) {
						const checked = orgCatalog.validate(event.type, event.data);
						expect(checked.ok, JSON.stringify(checked)).toBe(true);
						rollups++;
					}
				},
			),
			options(200),
		);
		console.log(`[figure] rollup fuzz: ${JSON.stringify({ rollupEvents: rollups })}`);
	});
});

describe("regressions found by the fuzzers", () => {
	const at = (seq: number, type: string, data: unknown): RecordedEvent => ({
		seq,
		id: `r${seq}`,
		type,
		v: 1,
		ts: 1_800_000_000_000 + seq,
		data,
		meta: {},
	});

	it("a click target or custom event named like an Object.prototype member is counted as a number, and the visit still ends", () => {
		const state = fold(sessionDefinition, [
			at(1, "session.started", { visit: 1 }),
			at(2, "session.clicked", { target: "constructor" }),
			at(3, "session.clicked", { target: "constructor" }),
			at(4, "session.custom", { name: "__proto__" }),
			at(5, "session.custom", { name: "toString" }),
		]);
		expect(state.visit?.clickTargets).toEqual({ constructor: 2 });
		expect(Object.getOwnPropertyNames(state.visit?.customEvents).sort()).toEqual(["__proto__", "toString"]);
		const endAt = 1_800_000_100_000;
		const [ended] = events(
			decideSession({ kind: "end_inactive", at: endAt }, state, { now: endAt, version: 5, budget: DEFAULT_VISIT_BUDGET }),
		);
		expect(ended && sessionDefinition.catalog.validate(ended.type, ended.data).ok).toBe(true);
	});

	it("rollup metrics count a page or target named constructor or __proto__ like any other", () => {
		const web = (pages: string[], clickTargets: Record<string, number>) =>
			metricsOf({
				id: "i",
				source: "web",
				actor: { kind: "session", id: "s" },
				startedAt: 0,
				endedAt: 1,
				summary: { pages, clickTargets },
			} as Interaction);
		const merged = mergeMetrics(
			web(["constructor", "__proto__"], JSON.parse('{"__proto__": 2}')),
			web(["constructor"], { constructor: 1 }),
		);
		expect(merged.web.pages.constructor).toBe(2);
		expect(Object.getOwnPropertyDescriptor(merged.web.pages, "__proto__")?.value).toBe(1);
		expect(Object.getOwnPropertyDescriptor(merged.web.clickTargets, "__proto__")?.value).toBe(2);
		expect(merged.web.clickTargets.constructor).toBe(1);
	});
});
