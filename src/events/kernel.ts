/**
 * What the kernel itself records in any actor's log, whatever its kind: work it parked after too many failures,
 * and what an operator did about it. Kinds' reducers never see these (withKernelEvents in src/reducers/kernel.ts
 * passes them by), so adding them changed no kind's state; the parked rows live in the outbox and timer tables.
 */
import { z } from "zod";
import { defineEvent, EventCatalog } from "./catalog.ts";

/** `dead_letter`: a queue message that landed in a dead-letter queue, recorded by the org (src/dead-letters.ts). */
export const PARKED_WORK = ["outbox", "timer", "dead_letter"] as const;
export type ParkedWork = (typeof PARKED_WORK)[number];
/** `attempts`: it failed the configured number of times; `invalid`: its plan can never pass validation (a timer). */
export const PARK_REASONS = ["attempts", "invalid", "dead_letter"] as const;

const name = z.string().min(1).max(200);
const lastError = z.string().max(2000);

/** An outbox message or a timer stopped being retried; it waits for an operator's retry or discard. */
export const workParked = defineEvent(
	"kernel.work_parked",
	z.object({
		work: z.enum(PARKED_WORK),
		/** The outbox message's id, or the timer's name. */
		name,
		/** Where an outbox message goes (`org:acme`, `queue:INTERACTIONS_QUEUE`) and its type; absent for timers. */
		target: z.string().max(300).optional(),
		messageType: z.string().max(200).optional(),
		reason: z.enum(PARK_REASONS),
		attempts: z.number().int().nonnegative(),
		lastError,
		/** A dead letter's message as it was sent, so a retry sends it to its queue again. */
		message: z.json().optional(),
	}),
	{ internal: true },
);

const resolution = z.object({
	/** The seq of the `kernel.work_parked` event it acts on. */
	parkedSeq: z.number().int().positive(),
	work: z.enum(PARKED_WORK),
	name,
});

/** An operator asked for parked work to be tried again: its attempts start again from zero. */
export const parkedRetried = defineEvent("kernel.parked_retried", resolution, { internal: true });
/** An operator gave parked work up: the message is deleted, the timer skips this firing. */
export const parkedDiscarded = defineEvent("kernel.parked_discarded", resolution, { internal: true });

/** One parked item as the org lists it. */
export const parkedItemSchema = z.object({
	/** `<kind>.<actor id>.<seq of its kernel.work_parked event>`. */
	id: z.string().min(1).max(400),
	actor: z.object({ kind: z.string().min(1).max(32), id: z.string().min(1).max(200) }),
	work: z.enum(PARKED_WORK),
	name,
	reason: z.enum(PARK_REASONS),
	attempts: z.number().int().nonnegative(),
	lastError,
	parkedAt: z.number().int().nonnegative(),
});
export type ParkedItem = z.infer<typeof parkedItemSchema>;

/** The org heard (through the outbox) that one of its actors parked work. */
export const parkedReported = defineEvent("kernel.parked_reported", parkedItemSchema, { internal: true });
/** The org heard that parked work was retried or discarded. */
export const parkedCleared = defineEvent(
	"kernel.parked_cleared",
	z.object({ id: parkedItemSchema.shape.id, how: z.enum(["retried", "discarded"]) }),
	{ internal: true },
);

export const KERNEL_EVENTS = [workParked, parkedRetried, parkedDiscarded, parkedReported, parkedCleared] as const;
export const kernelCatalog = new EventCatalog([...KERNEL_EVENTS]);

/** Outbox message types the kernel sends the org about parked work, handled by the kernel's `receive`. */
export const PARKED_MESSAGE = { reported: "kernel.parked_reported", cleared: "kernel.parked_cleared" } as const;

/** Whether a stored event is the kernel's own rather than its kind's. */
export const isKernelEventType = (type: string): boolean => type.startsWith("kernel.");

/** The org-wide id of a parked item: unambiguous because kinds have no `.` and the seq is digits. */
export const parkedItemId = (kind: string, actorId: string, seq: number): string => `${kind}.${actorId}.${seq}`;

export function parseParkedItemId(id: string): { kind: string; actorId: string; seq: number } | null {
	const match = /^([a-z]{1,32})\.(.+)\.([1-9][0-9]{0,14})$/.exec(id);
	if (!match) return null;
	return { kind: match[1] as string, actorId: match[2] as string, seq: Number(match[3]) };
}
