/**
 * The org intake (docs/scaling.md): a web session's outbox sends its org the `visit_started` message through the
 * ORG_INTAKE_QUEUE rather than straight to the org's `receive`, so a shop with thousands of visits starting at once
 * costs its org one RPC per queue batch, not one per visit. This consumer groups a batch's messages by the org that
 * sent them (`from.org`: the session's own org; actor names are `<org>:<id>`, so a session cannot name another one)
 * and hands each org its messages in one `receiveBatch` RPC; the org answers per message, and each message is acked
 * or retried on its own. A message that is not an outbox envelope at all is logged and dropped (it can never
 * succeed, and names no org to record it in); one the org refuses for good is recorded there as parked work
 * (`dead_letter`) by `receiveBatch` itself; one refused for now (an org being deleted) or not answered is retried
 * with backoff, and after `max_retries` lands in the dead-letter queue where deployed (src/dead-letters.ts).
 */
import { z } from "zod";
import type { IntakeAnswer } from "./actors/org-messages.ts";
import type { ActorMessage } from "./actors/outbox.ts";
import { actorName, ID_PATTERN } from "./core/identity.ts";
import { errorText, log } from "./core/log.ts";
import { redriven } from "./dead-letters.ts";
import type { Env } from "./env.ts";

/** Whether a batch comes from the org intake queue (wrangler.jsonc names it `<prefix>-org-intake`). */
export const isIntakeQueue = (queue: string): boolean => queue.endsWith("org-intake");

const actorRef = z.object({ kind: z.string().min(1), org: z.string().regex(ID_PATTERN), id: z.string().min(1) });
/** An outbox envelope as the courier sends it (src/actors/kernel/courier.ts). */
const envelope = z.object({
	id: z.string().min(1).max(250),
	from: actorRef,
	type: z.string().min(1),
	data: z.unknown(),
	meta: z.record(z.string(), z.unknown()).default({}),
});

/**
 * The envelope a message carries. An operator's retry of a parked dead letter arrives as the org's own outbox message
 * wrapping the original envelope: `redriven` (src/dead-letters.ts) unwraps it, if it names the same org.
 */
export function intakeEnvelope(body: unknown): ActorMessage | null {
	const parsed = envelope.safeParse(redriven(body));
	return parsed.success ? (parsed.data as ActorMessage) : null;
}

/** Seconds before a retried message is delivered again: doubling with its attempts, at most a minute. */
const retryDelay = (attempts: number): number => Math.min(60, 2 ** attempts);

export async function consumeIntake(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	const byOrg = new Map<string, { message: Message<unknown>; envelope: ActorMessage }[]>();
	for (const message of batch.messages) {
		const parsed = intakeEnvelope(message.body);
		if (!parsed) {
			// Not an outbox envelope: it can never succeed and names no org to keep it in. Dropped loudly, as the
			// interactions consumer drops a malformed message (src/queue.ts).
			log("error", "org intake: dropping malformed message", { queue: batch.queue, messageId: message.id });
			message.ack();
			continue;
		}
		const org = parsed.from.org;
		const items = byOrg.get(org) ?? [];
		items.push({ message, envelope: parsed });
		byOrg.set(org, items);
	}
	await Promise.all(
		[...byOrg].map(async ([org, items]) => {
			let answers: IntakeAnswer[];
			try {
				answers = await env.ORG.getByName(actorName(org, org)).receiveBatch(
					items.map((item) => item.envelope),
					batch.queue,
				);
			} catch (error) {
				answers = items.map((item) => ({ id: item.envelope.id, status: "retry", error: errorText(error) }));
			}
			const byId = new Map(answers.map((answer) => [answer.id, answer]));
			for (const { message, envelope } of items) {
				const answer = byId.get(envelope.id);
				if (answer && answer.status !== "retry") {
					message.ack();
					continue;
				}
				log("warn", "org intake: not recorded, will retry", {
					org,
					messageId: envelope.id,
					type: envelope.type,
					attempts: message.attempts,
					error: answer?.error ?? "no answer",
				});
				message.retry({ delaySeconds: retryDelay(message.attempts) });
			}
		}),
	);
}
