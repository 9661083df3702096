/**
 * The interactions queue consumer: archives each interaction to R2 under a key named by org and
 * interaction id, so a redelivered message overwrites the same object instead of adding a copy.
 */
import { z } from "zod";
import { interactionArchive, interactionName, ownerKey } from "./actors/org-objects.ts";
import { ID_PATTERN } from "./core/identity.ts";
import { errorText, log } from "./core/log.ts";
import { redriven } from "./dead-letters.ts";
import type { Env } from "./env.ts";
import { INTERACTION_MESSAGE, interactionSchema } from "./events/interaction.ts";

const interactionMessage = z.object({
	id: z.string(),
	type: z.literal(INTERACTION_MESSAGE),
	data: z.object({ org: z.string().regex(ID_PATTERN), interaction: interactionSchema }),
});

export function archiveKey(org: string, interactionId: string): string {
	return ownerKey("interactions", { org }, interactionName(interactionId));
}

export async function consumeInteractions(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	for (const message of batch.messages) {
		// An operator's retry of a dead letter arrives wrapped by the org's outbox: the interaction is inside.
		const parsed = interactionMessage.safeParse(redriven(message.body));
		if (!parsed.success) {
			// A malformed message can never succeed: drop it loudly rather than retry it forever.
			log("error", "interactions queue: dropping malformed message", {
				messageId: message.id,
				issues: parsed.error.issues.length,
				firstIssue: parsed.error.issues[0]?.path.join("."),
			});
			message.ack();
			continue;
		}
		const { org, interaction } = parsed.data.data;
		try {
			await interactionArchive(env.ARCHIVE, org).put(archiveKey(org, interaction.id), JSON.stringify(interaction), "application/json", {
				source: interaction.source,
				messageId: parsed.data.id,
			});
			message.ack();
		} catch (error) {
			log("warn", "interactions queue: archiving failed, will retry", {
				org,
				messageId: message.id,
				interactionId: interaction.id,
				attempts: message.attempts,
				error: errorText(error),
			});
			message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
		}
	}
}
