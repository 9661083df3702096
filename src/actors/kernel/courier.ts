/**
 * Outbox delivery on the alarm: sends each ready message (to another actor's `receive`, or to a queue) and
 * acknowledges it only after it was taken, so delivery is at least once and the receiver's dedupe by message id
 * makes it act once. A failed send is retried with backoff, and parked after PARK_AFTER_ATTEMPTS failures.
 */
import { log } from "../../core/log.ts";
import { backoffDelay } from "../backoff.ts";
import { actorStub } from "../directory.ts";
import { faultPoint } from "../faults.ts";
import type { ActorMessage, PendingMessage } from "../outbox.ts";
import type { AlarmPart } from "./alarm.ts";
import type { KernelHost } from "./host.ts";
import type { Parking } from "./parking.ts";

const OUTBOX_BATCH = 50;
const MAX_OUTBOX_ROUNDS = 20;

/**
 * What the actor's own sender made of a message to the outside world (a webhook): `settled` (delivered, or given
 * up and kept elsewhere, e.g. a parked delivery) removes it from the outbox; `retryAt` keeps it for then.
 */
export type ExternalVerdict = { settled: true } | { retryAt: number; error: string };

export class OutboxCourier<S> implements AlarmPart {
	#draining: Promise<number> | undefined;

	constructor(
		private readonly host: KernelHost<S>,
		private readonly parking: Parking<S>,
		private readonly external: (message: PendingMessage) => Promise<ExternalVerdict>,
	) {}

	nextDueAt(): number | null {
		return this.host.outbox.nextAttemptAt();
	}

	/** Delivers ready messages; one drain at a time per object. */
	onAlarm(): Promise<number> {
		if (this.host.meta.isSandbox) return Promise.resolve(0);
		// Cleared when the drain settles (asynchronously, after this assignment), even if it found nothing to send.
		this.#draining ??= this.#drainOnce().finally(() => {
			this.#draining = undefined;
		});
		return this.#draining;
	}

	/** Answers how many messages it tried to send. */
	async #drainOnce(): Promise<number> {
		let tried = 0;
		for (let round = 0; round < MAX_OUTBOX_ROUNDS; round++) {
			const ready = this.host.outbox.ready(this.host.now(), OUTBOX_BATCH);
			for (const message of ready) await this.#deliver(message);
			tried += ready.length;
			if (ready.length < OUTBOX_BATCH) break;
		}
		return tried;
	}

	async #deliver(message: PendingMessage): Promise<void> {
		const { host } = this;
		const envelope: ActorMessage = { id: message.id, from: host.actor, type: message.type, data: message.data, meta: message.meta ?? {} };
		try {
			faultPoint("outbox.before-delivery", host.ctx);
			if ("webhook" in message.target) {
				const verdict = await this.external(message);
				if ("retryAt" in verdict) {
					host.outbox.failed(message, verdict.error, verdict.retryAt);
					return;
				}
			} else if ("queue" in message.target) {
				await host.env[message.target.queue].send(envelope);
			} else {
				const outcome = await actorStub(host.env, message.target.actor).receive(envelope);
				if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.detail}`);
			}
			faultPoint("outbox.after-delivery", host.ctx);
			host.outbox.acknowledged(message.id);
		} catch (error) {
			const detail = error instanceof Error ? error.message : String(error);
			const attempts = message.attempts + 1;
			if (this.parking.reached(attempts)) {
				this.parking.parkMessage(message, detail);
				return;
			}
			const retryAt = host.now() + backoffDelay(attempts);
			const { kind, id } = host.actor;
			log("warn", "outbox message not delivered", {
				actorKind: kind,
				actorId: id,
				messageId: message.id,
				attempts,
				retryAt,
				error: detail,
			});
			host.outbox.failed(message, detail, retryAt);
		}
	}
}
