/**
 * Naming an actor of an org the way paths do (`org`, `sessions/<id>`, `cameras/<id>`, `chats/<id>`), and
 * the definition (catalog and reducer) of each kind, all from the kinds table (src/kinds.ts). Pure: the CLI
 * runs it in Node and the browser console bundles it.
 */
import { type BuiltinSegment, inOrgKinds, type KindReaders, kindAtSegment, kindNamed, segmentsFor } from "../kinds.ts";
import type { ActorDefinition } from "../reducers/definition.ts";
import { publicOrgState } from "../reducers/org.ts";

/** A kind's path segment (`sessions`): a row of src/kinds.ts that has one. */
export type Segment = BuiltinSegment;
/** An actor inside the org, as its path names it. The org itself is `{ kind: "org" }`. */
export type ActorPath = { kind: "org" } | { kind: Segment; id: string };

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The segments a reader lists (the CLI's import targets, the console's picker), in table order. */
export const segments = (reader: keyof KindReaders = "cli"): Segment[] => segmentsFor(reader) as Segment[];

/** "sessions, cameras or chats": a list for messages. */
export function spokenList(words: readonly string[], last = "or"): string {
	return words.length < 2 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} ${last} ${words.at(-1)}`;
}

/** A kind's definition (catalog and reducer), by kind name. */
export function definitionOf(kind: string): ActorDefinition<unknown> {
	const row = kindNamed(kind);
	if (!row) throw new Error(`no actor kind ${kind}`);
	return row.definition;
}

/** The state as the API shows it: the org's key hashes never leave the actor. */
export function publicState(kind: string, state: unknown): unknown {
	return kind === "org" ? publicOrgState(state as Parameters<typeof publicOrgState>[0]) : state;
}

/** The kind's name (`session`) of an actor named by path. */
export function kindOf(actor: ActorPath): string {
	if (actor.kind === "org") return "org";
	const row = kindAtSegment(actor.kind);
	if (!row) throw new Error(`no actor kind at ${actor.kind}`);
	return row.name;
}

/** `org`, or `sessions/<id>`: how the CLI and the console's address bar name an actor. */
export function actorLabel(actor: ActorPath): string {
	return actor.kind === "org" ? "org" : `${actor.kind}/${actor.id}`;
}

/**
 * Reads an actor name: `org`, `sessions/<id>` (or `session/<id>`), and the `<kind>:<id>` form that
 * `meta.causationActor` uses (`session:<id>`, `org:<org>`). Null when the text names no actor.
 */
export function parseActor(text: string): ActorPath | null {
	const trimmed = text.trim();
	if (trimmed === "org") return { kind: "org" };
	const match = /^([a-z]+)[/:](.+)$/.exec(trimmed);
	if (!match) return null;
	const [, word = "", id = ""] = match;
	if (word === "org") return ID.test(id) ? { kind: "org" } : null;
	const segment = (kindAtSegment(word) ?? inOrgKinds().find((row) => row.name === word))?.segment;
	if (!segment || !ID.test(id)) return null;
	return { kind: segment as Segment, id };
}

/** The segment of an in-org kind by its name (`session` → `sessions`); undefined for the org and unknown kinds. */
export const segmentOfKind = (kind: string): Segment | undefined =>
	inOrgKinds().find((row) => row.name === kind)?.segment as Segment | undefined;

/** The actor's path under `/v1`, plus `suffix` (e.g. `/events`). */
export function actorApiPath(org: string, actor: ActorPath, suffix = ""): string {
	const base = `/v1/orgs/${encodeURIComponent(org)}`;
	return actor.kind === "org" ? `${base}${suffix}` : `${base}/${actor.kind}/${encodeURIComponent(actor.id)}${suffix}`;
}

/** The tag snapshots carry: `<kind>@<reducerVersion>`. */
export const reducerTag = (definition: ActorDefinition<unknown>): string => `${definition.kind}@${definition.reducerVersion}`;

export const isSandbox = (actor: ActorPath): boolean => actor.kind !== "org" && actor.id.startsWith("sandbox-");
