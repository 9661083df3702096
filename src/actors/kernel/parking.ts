/**
 * Parked work: an outbox message or a timer that failed `PARK_AFTER_ATTEMPTS` times (or a timer whose plan can never
 * pass validation) stops being retried. The kernel records `kernel.work_parked` in the actor's own log in the
 * transaction that parks the row, and tells the org through the outbox, which keeps the org-wide list
 * (ParkedIndex). An operator's retry or discard is a `kernel.parked_retried`/`kernel.parked_discarded` event in
 * the actor's log, with an id derived from the parked event, so a repeat appends nothing (docs/operations.md).
 */

import { log } from "../../core/log.ts";
import { fail, type Outcome, ok } from "../../core/outcome.ts";
import type { ActorRef } from "../../events/envelope.ts";
import {
	isKernelEventType,
	kernelCatalog,
	PARKED_MESSAGE,
	type ParkedItem,
	type ParkedWork,
	parkedItemId,
	parkedItemSchema,
} from "../../events/kernel.ts";
import { eventForFold, eventOfType } from "../../events/stored.ts";
import { kindNamed } from "../../kinds.ts";
import type { ActorMessage, OutboxMessage, PendingMessage, QueueBinding } from "../outbox.ts";
import { ParkedIndex, type ParkedPage } from "../parked-index.ts";
import type { Timer } from "../timers.ts";
import type { KernelHost } from "./host.ts";
import type { AppendOptions, Effects, Plan, PlanOf } from "./types.ts";

/** About nine hours of retries at the capped backoff (15 min, jittered to 7.5-15): an outage of hours passes. */
export const DEFAULT_PARK_AFTER_ATTEMPTS = 50;

export type ParkedAction = "retried" | "discarded";

/** A queue message recorded as parked work; `reason` when not for landing in a dead-letter queue (the org intake's refusal of it). */
export interface DeadLetter {
	queue: string;
	binding: QueueBinding;
	messageId: string;
	attempts: number;
	body: unknown;
	reason?: string;
}
export interface ParkedActionResult {
	id: string;
	status: ParkedAction;
	version: number;
	/** True when this action had already been taken: nothing new was appended. */
	repeated: boolean;
}

const errorOf = (detail: string): string => detail.slice(0, 2000);

export class Parking<S> {
	readonly index: ParkedIndex;

	constructor(
		private readonly host: KernelHost<S>,
		private readonly run: <R>(plan: PlanOf<R, S>, options?: AppendOptions) => Outcome<R>,
	) {
		this.index = new ParkedIndex(host.db);
	}

	/** Failures after which work is parked: `PARK_AFTER_ATTEMPTS`, or the default. */
	get limit(): number {
		const n = Number(this.host.env.PARK_AFTER_ATTEMPTS);
		return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_PARK_AFTER_ATTEMPTS;
	}

	/** Whether work that has now failed `attempts` times is parked rather than retried. */
	reached(attempts: number): boolean {
		return attempts >= this.limit;
	}

	parkMessage(message: PendingMessage, detail: string): void {
		const to = message.target;
		const target = "queue" in to ? `queue:${to.queue}` : "webhook" in to ? `webhook:${to.webhook}` : `${to.actor.kind}:${to.actor.id}`;
		const now = this.host.now();
		this.#park(
			{
				work: "outbox",
				name: message.id,
				target,
				messageType: message.type,
				reason: "attempts",
				attempts: message.attempts + 1,
				lastError: errorOf(detail),
			},
			now,
			() => this.host.outbox.park(message, detail, now),
			// A report about parked work that cannot reach the org is parked without a report of its own.
			!isKernelEventType(message.type),
		);
	}

	/** The org's side of a dead-letter queue: the message, recorded as parked work of the org; a redelivery records nothing. */
	parkDeadLetter(input: DeadLetter): Outcome<null> {
		const body = input.body as { type?: unknown } | null;
		const data = {
			work: "dead_letter" as const,
			name: input.messageId.slice(0, 200),
			target: `queue:${input.binding}`,
			...(typeof body?.type === "string" ? { messageType: body.type.slice(0, 200) } : {}),
			reason: "dead_letter" as const,
			attempts: input.attempts,
			lastError: errorOf(input.reason ?? `landed in ${input.queue} after ${input.attempts} attempts`),
			message: input.body,
		};
		return this.#park(data, this.host.now(), () => {}, true, { clientActionId: `~dlq:${input.queue}:${input.messageId}`.slice(0, 250) });
	}

	parkTimer(timer: Timer, detail: string, reason: "attempts" | "invalid"): void {
		const now = this.host.now();
		this.#park(
			{ work: "timer", name: timer.name, reason, attempts: timer.attempts + 1, lastError: errorOf(detail) },
			now,
			() => this.host.timers.park(timer, detail, now),
			true,
		);
	}

	#park(
		data: {
			work: ParkedWork;
			name: string;
			target?: string;
			messageType?: string;
			reason: ParkedItem["reason"];
			attempts: number;
			lastError: string;
			message?: unknown;
		},
		now: number,
		parkRow: () => void,
		report: boolean,
		options: AppendOptions = {},
	): Outcome<null> {
		const { actor } = this.host;
		const outcome = this.run((_state, version) => {
			const seq = version + 1;
			const item: ParkedItem = {
				id: parkedItemId(actor.kind, actor.id, seq),
				actor: { kind: actor.kind, id: actor.id },
				work: data.work,
				name: data.name,
				reason: data.reason,
				attempts: data.attempts,
				lastError: data.lastError,
				parkedAt: now,
			};
			const parked = { id: `~parked-${seq}`, type: "kernel.work_parked", ts: now, data };
			return this.#withOrg(report ? { kind: "reported", item } : null, [parked], parkRow, `~parked:${item.id}`);
		}, options);
		log("error", "work parked", {
			actorKind: actor.kind,
			actorId: actor.id,
			work: data.work,
			name: data.name,
			reason: data.reason,
			attempts: data.attempts,
			error: data.lastError,
			recorded: outcome.ok,
		});
		// The log would not take the event (the object's storage is failing): park the row anyway, so it stops retrying.
		if (!outcome.ok) this.host.ctx.storage.transactionSync(parkRow);
		return outcome;
	}

	/**
	 * The plan of a kernel event in this actor plus what the org learns of it: through the outbox, or, when this
	 * actor is the org, as its own `kernel.parked_*` event and index row in the same transaction.
	 */
	#withOrg(
		note: { kind: "reported"; item: ParkedItem } | { kind: "cleared"; id: string; how: ParkedAction } | null,
		events: Plan<unknown, S>["events"],
		write: () => void,
		messageId: string,
	): Plan<null, S> {
		const { actor } = this.host;
		if (!note || !reportsToOrg(actor)) return { events, result: () => null, effects: () => ({ write }) };
		const data = note.kind === "reported" ? note.item : { id: note.id, how: note.how };
		const type = PARKED_MESSAGE[note.kind];
		if (actor.kind === "org") {
			const own = { id: messageId, type, ts: this.host.now(), data };
			return {
				events: [...events, own],
				result: () => null,
				effects: (receipt) => ({
					write: () => {
						write();
						this.#index(type, data, receipt.version);
					},
				}),
			};
		}
		const message: OutboxMessage = { id: messageId, target: { actor: { kind: "org", org: actor.org, id: actor.org } }, type, data };
		return { events, result: () => null, effects: () => ({ write, outbox: [message] }) };
	}

	#index(type: string, data: unknown, seq: number): void {
		if (type === PARKED_MESSAGE.reported) this.index.add(parkedItemSchema.parse(data), seq);
		else this.index.remove((data as { id: string }).id);
	}

	/** The org's side: a report from one of its actors, as a kernel event and its index row. */
	received(
		message: ActorMessage,
	): Plan<{ version: number }, S> | { kind: "invalid"; detail: string; errors: { path: string; message: string }[] } {
		if (message.type !== PARKED_MESSAGE.reported && message.type !== PARKED_MESSAGE.cleared) {
			return { kind: "invalid", detail: `no kernel message ${message.type}`, errors: [{ path: "type", message: "not accepted" }] };
		}
		const type = message.type;
		return {
			events: [{ id: message.id, type, ts: this.host.now(), data: message.data }],
			result: (receipt) => ({ version: receipt.version }),
			effects: (receipt): Effects => ({
				write: () => {
					const event = receipt.appended[0];
					if (event) this.#index(type, event.data, event.seq);
				},
			}),
		};
	}

	/** Retries or discards the work parked by the `kernel.work_parked` event at `seq`; repeating the same action is a no-op. */
	act(seq: number, how: ParkedAction): Outcome<ParkedActionResult> {
		const { host } = this;
		const row = seq >= 1 && seq <= host.head.version ? host.log.range(seq - 1, seq).next().value : undefined;
		const parked =
			row && row.type === "kernel.work_parked"
				? eventOfType(eventForFold(row, host.definition.catalog), kernelCatalog, "kernel.work_parked")
				: undefined;
		const id = parkedItemId(host.actor.kind, host.actor.id, seq);
		if (!parked) return fail({ kind: "not_found", detail: `${id} is not parked work of this actor` });
		const { data } = parked;
		const other: ParkedAction = how === "retried" ? "discarded" : "retried";
		if (host.log.existingIds([`~parked-${seq}:${other}`]).size > 0) return fail({ kind: "rejected", detail: `${id} was already ${other}` });
		if (host.log.existingIds([`~parked-${seq}:${how}`]).size > 0)
			return ok({ id, status: how, version: host.head.version, repeated: true });
		const now = host.now();
		const still = this.#stillParked(data, parked.ts);
		const write = () => {
			// Work that was set again since (a timer re-armed) is live already: only the record changes.
			if (!still) return;
			if (data.work === "dead_letter") {
				// Sent to its queue again, from this actor's outbox; a discard just leaves it recorded.
				const queue = data.target?.replace(/^queue:/, "") as QueueBinding;
				if (how === "retried")
					host.outbox.add([{ id: `~redrive:${seq}`, target: { queue }, type: data.messageType ?? "dead_letter", data: data.message }], now);
				return;
			}
			if (data.work === "outbox") {
				if (how === "retried") host.outbox.unpark(data.name, now);
				else host.outbox.acknowledged(data.name);
			} else {
				const timer = host.timers.get(data.name);
				if (!timer) return;
				if (how === "retried") host.timers.unpark(data.name, now);
				else host.timers.advance(timer, now);
			}
		};
		const resolution = {
			id: `~parked-${seq}:${how}`,
			type: how === "retried" ? "kernel.parked_retried" : "kernel.parked_discarded",
			ts: now,
			data: { parkedSeq: seq, work: data.work, name: data.name },
		};
		const outcome = this.run((_state) => this.#withOrg({ kind: "cleared", id, how }, [resolution], write, `~cleared:${id}:${how}`));
		if (!outcome.ok) return outcome;
		log("info", `parked work ${how}`, {
			actorKind: host.actor.kind,
			actorId: host.actor.id,
			parkedSeq: seq,
			work: data.work,
			name: data.name,
		});
		return ok({ id, status: how, version: host.head.version, repeated: false });
	}

	#stillParked(data: { work: ParkedWork; name: string }, parkedAt: number): boolean {
		if (data.work === "dead_letter") return true;
		const row = data.work === "outbox" ? this.host.outbox.get(data.name) : this.host.timers.get(data.name);
		return row?.parkedAt === parkedAt;
	}

	/** The org's list of parked work across its actors. */
	page(after: number, limit: number): ParkedPage {
		return this.index.page(after, limit, this.host.now());
	}

	/** Parked outbox messages and timers of this actor. */
	count(): { outbox: number; timers: number } {
		return { outbox: this.host.outbox.parkedCount(), timers: this.host.timers.parkedCount() };
	}
}

/** Whether an actor lives in an org that lists its parked work: the org itself and the kinds under it. */
function reportsToOrg(actor: ActorRef): boolean {
	const row = kindNamed(actor.kind);
	return actor.kind === "org" || (row !== undefined && row.segment !== null);
}
