/**
 * The org's side of erasure: which actors and subject keys a request covers, and the effects that carry it out
 * (an `erase` outbox message per actor, a timer that shreds the keys). The org's log records only counts.
 */
import type { ActorRef } from "../events/envelope.ts";
import { ERASE_MESSAGE, type ErasureSubject } from "../events/erasure.ts";
import type { Interaction } from "../events/interaction.ts";
import type { OrgCommand, OrgState } from "../reducers/org.ts";
import { type ErasureView, erasureView } from "../reducers/org-erasure.ts";
import type { OutboxMessage } from "./outbox.ts";
import { type SubjectKey, type SubjectKeys, type SubjectOpener, sealedSubject } from "./subject-keys.ts";
import type { TimerChange } from "./timers.ts";

/** What an erasure is asked for: a user id (every record of it), or one actor by id. */
export type ErasureTarget = { userId: string } | { session: string } | { camera: string } | { chat: string };

export interface ErasureScope {
	subject: ErasureSubject;
	actors: ActorRef[];
	keys: SubjectKey[];
}

export const ERASURE_KEYS_TIMER = "erasure-keys:";
export interface ErasureKeysPayload {
	erasure: string;
	step: number;
	subjects: string[];
}

const ACTOR_KINDS = { session: "session", camera: "camera", chat: "chat" } as const;

/** The actors and keys `target` covers in `org`: for a user, every actor whose records sealed their id. */
export function erasureScope(org: string, target: ErasureTarget, keys: SubjectKeys): ErasureScope {
	if ("userId" in target) {
		const found = keys.ofUser(target.userId);
		const actors = [...new Set(found.map((k) => k.actor))].flatMap((actor) => refOf(org, actor));
		return { subject: "user", actors, keys: found };
	}
	const kind = "session" in target ? "session" : "camera" in target ? "camera" : "chat";
	const id = "session" in target ? target.session : "camera" in target ? target.camera : target.chat;
	return { subject: kind, actors: [{ kind: ACTOR_KINDS[kind], org, id }], keys: keys.ofActor(`${kind}:${id}`) };
}

function refOf(org: string, actor: string): ActorRef[] {
	const [kind, ...rest] = actor.split(":");
	const id = rest.join(":");
	return kind === "session" || kind === "camera" || kind === "chat" ? [{ kind, org, id }] : [];
}

/** One `erase` message per actor (step i), and the key shredding as the last step, on a timer due now. */
export function erasureEffects(erasure: string, scope: ErasureScope, now: number): { outbox: OutboxMessage[]; timers: TimerChange[] } {
	const outbox = scope.actors.map(
		(actor, step): OutboxMessage => ({ id: `erasure:${erasure}>${step}`, target: { actor }, type: ERASE_MESSAGE, data: { erasure, step } }),
	);
	const payload: ErasureKeysPayload = { erasure, step: scope.actors.length, subjects: scope.keys.map((k) => k.subject) };
	const timers = scope.keys.length > 0 ? [{ name: `${ERASURE_KEYS_TIMER}${erasure}`, spec: { once: now }, payload }] : [];
	return { outbox, timers };
}

/** An interaction as the org stores it: its user id sealed under the key for that user and the actor it came from. */
export function sealed(interaction: Interaction, keys: SubjectKeys): Interaction {
	const userId = interaction.summary.userId;
	if (typeof userId !== "string" || sealedSubject(userId) !== null) return interaction;
	const actor = `${interaction.actor.kind}:${interaction.actor.id}`;
	return { ...interaction, summary: { ...interaction.summary, userId: keys.seal(userId, actor) } };
}

/**
 * An interaction as readers see it: its user id opened, or null once the user's key is shredded. A page of them opens
 * with one `keys.opener(...)` made for the page (its keys read together), not with `SubjectKeys` itself (a read a row).
 */
export function opened<T extends { summary: Record<string, unknown> }>(interaction: T, keys: SubjectOpener): T {
	const userId = interaction.summary.userId;
	if (typeof userId !== "string") return interaction;
	let clear: string | null;
	try {
		clear = keys.open(userId);
	} catch {
		clear = null;
	}
	return { ...interaction, summary: { ...interaction.summary, userId: clear } };
}

/** The request for an erasure with id `id`: the actors and keys it covers, and the command that records it (counts only). */
export function erasureRequest(
	org: string,
	target: ErasureTarget,
	keys: SubjectKeys,
	requestedBy: string | null,
	id: string,
): { id: string; scope: ErasureScope; command: OrgCommand } {
	const scope = erasureScope(org, target, keys);
	const command: OrgCommand = {
		kind: "request_erasure",
		erasure: id,
		subject: scope.subject,
		actors: scope.actors.length,
		keys: scope.keys.length,
		requestedBy,
	};
	return { id, scope, command };
}

/** Erasure `id` as the state has it (it must exist). */
export function erasureOf(state: OrgState, id: string): ErasureView {
	const erasure = state.erasures[id];
	if (!erasure) throw new Error(`no erasure ${id}`);
	return erasureView(erasure);
}

/** The last step of an erasure: the subject keys go, so every record sealed under them is unreadable. Idempotent. */
export function shredKeys(payload: ErasureKeysPayload, keys: SubjectKeys): OrgCommand {
	for (const subject of payload.subjects) keys.shred(subject);
	return {
		kind: "record_erasure_step",
		erasure: payload.erasure,
		step: payload.step,
		part: "key",
		objects: 0,
		bytesLeft: 0,
		keys: payload.subjects.length,
	};
}
