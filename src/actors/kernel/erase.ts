/**
 * Erasure of a whole actor, asked by its org's outbox (`erase` messages, src/events/erasure.ts): the kind's own
 * objects outside the actor go first (R2), then every row of its Durable Object storage (events, snapshots,
 * timers, outbox, client actions, identity) and its alarm, then the org hears how it went. Each part is idempotent,
 * so a delivery that fails anywhere is retried by the org's outbox and ends the same way.
 */
import { type Outcome, ok } from "../../core/outcome.ts";
import { ERASURE_STEP_MESSAGE, type ErasureStepReport, eraseRequest } from "../../events/erasure.ts";
import { actorStub } from "../directory.ts";
import { faultPoint } from "../faults.ts";
import type { ActorMessage } from "../outbox.ts";
import type { KernelHost } from "./host.ts";

export interface EraseHooks {
	/** Deletes what the kind keeps outside its storage (R2 objects); answers how many objects went. */
	eraseObjects(): Promise<number>;
	/** Clears the storage and starts the actor again empty; answers the database size right after clearing. */
	clearStorage(): Promise<number>;
}

export async function eraseActor<S>(host: KernelHost<S>, message: ActorMessage, hooks: EraseHooks): Promise<Outcome<{ version: number }>> {
	const { actor } = host;
	// Only the actor's own org may erase it.
	if (message.from.kind !== "org" || message.from.org !== actor.org || message.from.id !== actor.org) {
		return { ok: false, error: { kind: "rejected", detail: "only the actor's org can erase it" } };
	}
	const parsed = eraseRequest.safeParse(message.data);
	if (!parsed.success) return { ok: false, error: { kind: "invalid", detail: "the erase request has invalid fields", errors: [] } };
	const objects = await hooks.eraseObjects();
	faultPoint("erase.after-objects", host.ctx);
	const bytesLeft = await hooks.clearStorage();
	faultPoint("erase.after-storage", host.ctx);
	const report: ErasureStepReport = { ...parsed.data, objects, bytesLeft };
	const answered = await actorStub(host.env, message.from).receive({
		id: `${message.id}:done`,
		from: actor,
		type: ERASURE_STEP_MESSAGE,
		data: report,
		meta: {},
	});
	if (!answered.ok) return answered;
	return ok({ version: 0 });
}
