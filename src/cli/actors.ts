/**
 * Naming an actor of an org the way paths do (`org`, `sessions/<id>`, `cameras/<id>`, `chats/<id>`), and
 * the definition (catalog and reducer) of each kind. Pure: the CLI runs it in Node and the browser console
 * bundles it.
 */
import type { ActorKind } from "../events/envelope.ts";
import { cameraDefinition } from "../reducers/camera.ts";
import { chatDefinition } from "../reducers/chat.ts";
import type { ActorDefinition } from "../reducers/definition.ts";
import { orgDefinition, publicOrgState } from "../reducers/org.ts";
import { sessionDefinition } from "../reducers/session.ts";

export type Segment = "sessions" | "cameras" | "chats";
/** An actor inside the org, as its path names it. The org itself is `{ kind: "org" }`. */
export type ActorPath = { kind: "org" } | { kind: Segment; id: string };
export type OrgActorKind = Exclude<ActorKind, "registry">;

export const SEGMENTS: readonly Segment[] = ["sessions", "cameras", "chats"];
const KIND_OF_SEGMENT = { sessions: "session", cameras: "camera", chats: "chat" } as const satisfies Record<Segment, ActorKind>;
const SEGMENT_OF_KIND: Record<string, Segment> = { session: "sessions", camera: "cameras", chat: "chats" };
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const DEFINITIONS: Record<OrgActorKind, ActorDefinition<unknown>> = {
	org: orgDefinition as ActorDefinition<unknown>,
	session: sessionDefinition as ActorDefinition<unknown>,
	camera: cameraDefinition as ActorDefinition<unknown>,
	chat: chatDefinition as ActorDefinition<unknown>,
};

/** The state as the API shows it: the org's key hashes never leave the actor. */
export function publicState(kind: OrgActorKind, state: unknown): unknown {
	return kind === "org" ? publicOrgState(state as Parameters<typeof publicOrgState>[0]) : state;
}

export function kindOf(actor: ActorPath): OrgActorKind {
	return actor.kind === "org" ? "org" : KIND_OF_SEGMENT[actor.kind];
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
	const segment = (SEGMENTS as readonly string[]).includes(word) ? (word as Segment) : SEGMENT_OF_KIND[word];
	if (!segment || !ID.test(id)) return null;
	return { kind: segment, id };
}

/** The actor's path under `/v1`, plus `suffix` (e.g. `/events`). */
export function actorApiPath(org: string, actor: ActorPath, suffix = ""): string {
	const base = `/v1/orgs/${encodeURIComponent(org)}`;
	return actor.kind === "org" ? `${base}${suffix}` : `${base}/${actor.kind}/${encodeURIComponent(actor.id)}${suffix}`;
}

/** The tag snapshots carry: `<kind>@<reducerVersion>`. */
export const reducerTag = (definition: ActorDefinition<unknown>): string => `${definition.kind}@${definition.reducerVersion}`;

export const isSandbox = (actor: ActorPath): boolean => actor.kind !== "org" && actor.id.startsWith("sandbox-");
