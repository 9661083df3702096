/** What the org makes of a message another actor's outbox delivered: the command it asks for, validated. */
import type { z } from "zod";
import { type ActorError, fail, type Outcome } from "../core/outcome.ts";
import { zodErrors } from "../events/catalog.ts";
import { ERASURE_STEP_MESSAGE, erasureStepReport } from "../events/erasure.ts";
import {
	CAMERA_STATUS_MESSAGE,
	cameraStatusSchema,
	INTERACTION_MESSAGE,
	interactionSchema,
	VISIT_STARTED_MESSAGE,
	visitInteractionId,
	visitStartedSchema,
} from "../events/interaction.ts";
import type { Refusal } from "../reducers/definition.ts";
import type { OrgCommand } from "../reducers/org.ts";
import type { DeadLetter } from "./kernel/parking.ts";
import { sealed } from "./org-erasures.ts";
import type { ActorMessage } from "./outbox.ts";
import type { SubjectKeys } from "./subject-keys.ts";

/** The command a delivered message asks for, a refusal of its data, or null for a type the org does not handle. */
export function messageCommand(
	message: ActorMessage,
	subjects: SubjectKeys,
	stored: (eventId: string) => boolean,
): OrgCommand | { refused: Refusal } | null {
	const invalid = (what: string, error: z.ZodError) => ({
		refused: { kind: "invalid" as const, detail: `the ${what} has invalid fields`, errors: zodErrors(error, "data") },
	});
	if (message.type === ERASURE_STEP_MESSAGE) {
		const parsed = erasureStepReport.safeParse(message.data);
		if (!parsed.success) return invalid("erasure step", parsed.error);
		return { kind: "record_erasure_step", ...parsed.data, part: "actor", keys: 0 };
	}
	if (message.type === CAMERA_STATUS_MESSAGE) {
		const parsed = cameraStatusSchema.safeParse(message.data);
		if (!parsed.success) return invalid("camera status", parsed.error);
		return { kind: "record_camera_status", id: message.id.replace(/>org$/, ""), status: parsed.data };
	}
	if (message.type === VISIT_STARTED_MESSAGE) {
		const parsed = visitStartedSchema.safeParse(message.data);
		if (!parsed.success) return invalid("visit", parsed.error);
		const ended = stored(visitInteractionId(parsed.data.session, parsed.data.visit));
		return { kind: "record_visit_started", visit: parsed.data, ended };
	}
	if (message.type !== INTERACTION_MESSAGE) return null;
	const parsed = interactionSchema.safeParse(message.data);
	if (!parsed.success) return invalid("interaction", parsed.error);
	return { kind: "record_interaction", interaction: sealed(parsed.data, subjects) };
}

/** What the org made of one message of a `receiveBatch`: `done` (recorded, or already recorded), `parked` (refused for good and kept as parked work), or `retry`. */
export type IntakeAnswer = { id: string; status: "done" | "parked" } | { id: string; status: "retry"; error: string };

/** The messages the org takes through its intake queue (src/intake.ts): what a web session tells its org. */
export const INTAKE_MESSAGES: ReadonlySet<string> = new Set([VISIT_STARTED_MESSAGE, INTERACTION_MESSAGE]);

/**
 * Why a message that came through the intake may not act on `org`, or null when it may: it must be of a type the intake
 * carries, sent by a session of this org, about that session itself (a visit start names it, an interaction's actor is it).
 */
export function intakeRefusal(message: ActorMessage, org: string): Refusal | null {
	const refused = (path: string, reason: string): Refusal => ({
		kind: "invalid",
		detail: `the intake does not take this message: ${reason}`,
		errors: [{ path, message: reason }],
	});
	if (!INTAKE_MESSAGES.has(message.type)) return refused("type", `${message.type} messages do not come through the intake`);
	const { from } = message;
	if (from.org !== org) return refused("from.org", "sent by an actor of another org");
	if (from.kind !== "session") return refused("from.kind", "not sent by a web session");
	const data = (message.data ?? {}) as { session?: unknown; actor?: { kind?: unknown; id?: unknown } };
	const about = message.type === VISIT_STARTED_MESSAGE ? data.session : data.actor?.kind === "session" ? data.actor.id : undefined;
	if (about !== from.id) return refused("data", "about another session than the one that sent it");
	return null;
}

/**
 * The org's side of an intake batch (`OrgActor.receiveBatch`): each message checked (`intakeRefusal`) and recorded by
 * `record` (what `receive` does: deduped by its id). Each message is its own append, so one refused or failing undoes
 * none of the others, and all of them run in one synchronous turn, so the runtime confirms their writes together
 * before the answers leave. Answers per message: `done` (recorded, or recorded before), `parked` (refused for good,
 * kept by `park` as parked work an operator can retry), or `retry` (refused for now, e.g. while the org is deleted, or
 * failed), which the consumer retries on its own.
 */
export function receiveIntake(
	messages: readonly ActorMessage[],
	org: string,
	sandbox: { ok: false; error: ActorError } | null,
	to: {
		record: (message: ActorMessage) => Outcome<unknown>;
		park: (message: ActorMessage, reason: string) => Outcome<null>;
	},
): IntakeAnswer[] {
	// A sandbox takes no live writes: nothing it could record now, and nothing to park there.
	if (sandbox) return messages.map(({ id }) => ({ id, status: "retry", error: sandbox.error.detail }));
	return messages.map((message): IntakeAnswer => {
		const { id } = message;
		try {
			const refusal = intakeRefusal(message, org);
			const outcome = refusal ? fail(refusal) : to.record(message);
			if (outcome.ok) return { id, status: "done" };
			const error = `${outcome.error.kind}: ${outcome.error.detail}`;
			// Invalid never becomes valid: kept as parked work now rather than retried until the dead-letter queue.
			if (outcome.error.kind !== "invalid") return { id, status: "retry", error };
			const parked = to.park(message, `refused by the org: ${error}`);
			return parked.ok ? { id, status: "parked" } : { id, status: "retry", error: `${error}; not parked: ${parked.error.detail}` };
		} catch (thrown) {
			return { id, status: "retry", error: thrown instanceof Error ? thrown.message : String(thrown) };
		}
	});
}

/** A message the org intake refused for good, as the org's parked work (`dead_letter`), which a retry sends through the intake again. */
export function intakeDeadLetter(message: ActorMessage, queue: string, reason: string): DeadLetter {
	return { queue, binding: "ORG_INTAKE_QUEUE", messageId: message.id, attempts: 1, body: message, reason };
}
