/**
 * Fault injection for the reliability suite (test/workers/faults-*.test.ts, docs/reliability.md): named points
 * inside the kernel where a test can make an object fail exactly as a crash at that instant would.
 *
 * Unarmed, which is always outside tests, a point costs one comparison of a module variable. A test arms one point
 * in the isolate its Durable Objects run in (vitest-pool-workers runs a test file and its objects in one isolate):
 * the `after`+1-th time that point is reached in the named object, it either throws `InjectedFault` (the code
 * around it sees an exception: a throw inside `transactionSync` rolls the transaction back) or aborts the object
 * with `ctx.abort()` (nothing after the point runs, and memory is dropped, as in a crash). After `times` failures
 * (default 1) it disarms itself.
 */

/** Where a fault can be injected. */
export const FAULT_POINTS = [
	/** An append has staged its batch and is about to open its transaction. */
	"append.before-commit",
	/** Inside the append transaction, after each statement of event rows (at most 12 rows each). */
	"append.after-rows",
	/** Inside the append transaction, after the event rows and the kind's projections applied to them. */
	"append.after-projections",
	/** Inside the append transaction, after the rows, client action, identity, timers and outbox, before a due snapshot. */
	"append.before-snapshot",
	/** Inside the append transaction, after the snapshot write, just before commit. */
	"append.after-snapshot",
	/** Inside the wake-time snapshot transaction (a replay longer than the snapshot interval). */
	"wake.snapshot",
	/** Inside a projection rebuild's transaction, after one chunk of the log is applied (src/actors/kernel/projections.ts). */
	"projection.after-chunk",
	/** An outbox message is about to be sent. */
	"outbox.before-delivery",
	/** An outbox message was delivered (the receiver acted, or the queue took it), before it is acknowledged. */
	"outbox.after-delivery",
	/** A due timer is about to call its handler. */
	"timer.before-handler",
	/** A timer's handler returned its plan, before it is appended and the timer moved on. */
	"timer.after-handler",
	/** An erased actor deleted its R2 objects, before its storage is cleared. */
	"erase.after-objects",
	/** An erased actor cleared its storage, before it reports the step to its org. */
	"erase.after-storage",
	/** A compaction wrote its segment to R2, before the checkpoint and the deletion of the rows. */
	"compact.after-segment",
	/** Inside the compaction transaction, after the rows are deleted, before commit. */
	"compact.after-delete",
	/** A compaction committed one segment's checkpoint, before it writes the next segment or answers. */
	"compact.after-commit",
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** The exception an armed point throws. */
export class InjectedFault extends Error {
	constructor(readonly point: FaultPoint) {
		super(`injected fault at ${point}`);
		this.name = "InjectedFault";
	}
}

export interface FaultArming {
	point: FaultPoint;
	/** The object it applies to, by the name it is addressed with (`<org>:<id>`); any object if left out. */
	object?: string;
	/** Passes this many times first; 0 fails the first time. */
	after?: number;
	/** `throw` (default) raises InjectedFault; `abort` calls ctx.abort(), as a crash would. */
	mode?: "throw" | "abort";
	/** How many times in a row it fails once it starts (default 1): an outage rather than one crash. */
	times?: number;
}

export interface FaultReport {
	/** Times the armed point was reached in its object, the failing time included. */
	reached: number;
	/** Whether it failed (the point was reached more than `after` times). */
	fired: boolean;
	/** How many times it failed. */
	failures: number;
}

let armed: (Required<Omit<FaultArming, "object">> & { object?: string; reached: number; fired: boolean; failures: number }) | undefined;

/** Arms one point (replacing any armed before). Tests only. */
export function armFault(arming: FaultArming): void {
	armed = { after: 0, mode: "throw", times: 1, ...arming, reached: 0, fired: false, failures: 0 };
}

/** Disarms, and tells how often the point was reached and whether it failed. */
export function disarmFault(): FaultReport {
	const report = { reached: armed?.reached ?? 0, fired: armed?.fired ?? false, failures: armed?.failures ?? 0 };
	armed = undefined;
	return report;
}

/** A point in the kernel; `ctx` is the object passing it. Free when nothing is armed. */
export function faultPoint(point: FaultPoint, ctx: DurableObjectState): void {
	if (armed === undefined) return;
	trip(point, ctx);
}

function trip(point: FaultPoint, ctx: DurableObjectState): void {
	const arming = armed;
	if (!arming || arming.failures >= arming.times || arming.point !== point) return;
	if (arming.object !== undefined && ctx.id.name !== arming.object) return;
	arming.reached++;
	if (arming.reached <= arming.after) return;
	arming.fired = true;
	arming.failures++;
	if (arming.mode === "abort") ctx.abort(`injected crash at ${point}`);
	throw new InjectedFault(point);
}
