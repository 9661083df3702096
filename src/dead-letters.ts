/**
 * The dead-letter queues' consumer (docs/operations.md): a message the interactions, CCTV or org intake consumer gave up on
 * (after `max_retries`) is recorded in the org that sent it as parked work (`dead_letter`), listed with the rest,
 * and sent to its queue again by a retry. A message whose org cannot be told is logged and left to expire.
 */
import type { QueueBinding } from "./actors/outbox.ts";
import { actorName, ID_PATTERN } from "./core/identity.ts";
import { log } from "./core/log.ts";
import type { Env } from "./env.ts";

/** Whether a batch comes from a dead-letter queue (wrangler.jsonc names them `<queue>-dlq`). */
export const isDeadLetterQueue = (queue: string): boolean => queue.endsWith("-dlq");

/** The producer binding of the queue a dead-letter queue backs, by its name. */
export function sourceBinding(queue: string): QueueBinding | null {
	if (/-interactions-dlq$/.test(queue)) return "INTERACTIONS_QUEUE";
	if (/-org-intake-dlq$/.test(queue)) return "ORG_INTAKE_QUEUE";
	if (/-cctv-dlq$/.test(queue)) return "CCTV_QUEUE";
	return null;
}

/**
 * What a queue consumer should read of a message: an operator's retry of a parked dead letter (src/actors/kernel/parking.ts)
 * arrives as the org's own outbox envelope (id `~redrive:<seq>`, from the org) whose data is the message that died;
 * that inner message is answered, if it belongs to the same org, else null (to be dropped as malformed). Any other
 * body is answered as it is.
 */
export function redriven(body: unknown): unknown {
	const outer = body as { id?: unknown; from?: { kind?: unknown; org?: unknown }; data?: unknown } | null;
	if (typeof outer?.id !== "string" || !outer.id.startsWith("~redrive:") || outer.from?.kind !== "org") return body;
	return orgOf(outer.data) === outer.from.org ? outer.data : null;
}

/** The org a dead message belongs to: its sender's (outbox envelopes carry `from`), else its data's. */
function orgOf(body: unknown): string | null {
	const b = body as { from?: { org?: unknown }; data?: { org?: unknown } } | null;
	const org = b?.from?.org ?? b?.data?.org;
	return typeof org === "string" && ID_PATTERN.test(org) ? org : null;
}

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	const binding = sourceBinding(batch.queue);
	for (const message of batch.messages) {
		const org = orgOf(message.body);
		if (!org || !binding) {
			log("error", "dead letter with no org to record it in", { queue: batch.queue, messageId: message.id });
			message.ack();
			continue;
		}
		const recorded = await env.ORG.getByName(actorName(org, org)).recordDeadLetter({
			queue: batch.queue,
			binding,
			messageId: message.id,
			attempts: message.attempts,
			body: message.body,
		});
		if (recorded.ok) message.ack();
		else {
			log("error", "dead letter not recorded, will retry", {
				queue: batch.queue,
				messageId: message.id,
				org,
				error: recorded.error.detail,
			});
			message.retry();
		}
	}
}
