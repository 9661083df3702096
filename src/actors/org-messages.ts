/** What the org makes of a message another actor's outbox delivered: the command it asks for, validated. */
import type { z } from "zod";
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
