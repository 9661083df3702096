/**
 * Erasure of a whole actor, asked by its org's outbox (`erase` messages, src/events/erasure.ts): the kind's own
 * objects outside the actor go first (R2), then every row of its Durable Object storage (events, snapshots,
 * timers, outbox, client actions, identity) and its alarm, then the org hears how it went. Each part is idempotent,
 * so a delivery that fails anywhere is retried by the org's outbox and ends the same way.
 */
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import type { Connection } from "partyserver";
import migrations from "../../../migrations/migrations.js";
import { GENESIS_HASH } from "../../core/hash.ts";
import { type Outcome, ok } from "../../core/outcome.ts";
import { ERASURE_STEP_MESSAGE, type ErasureStepReport, eraseRequest } from "../../events/erasure.ts";
import { actorStub } from "../directory.ts";
import { faultPoint } from "../faults.ts";
import { actorLogArchive, actorLogName } from "../org-objects.ts";
import type { ActorMessage } from "../outbox.ts";
import type { KernelHost } from "./host.ts";
import type { KernelParts } from "./parts.ts";

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
	const { erasure, step, archive } = parsed.data;
	// Retention with `archiveSessions` keeps the log in R2 (written again on a retry, never once the storage is empty);
	// any other erasure deletes an archive an earlier retention wrote.
	const archived = actorLogArchive(host.env.ARCHIVE, actor.org);
	if (archive === true) await archiveLog(host);
	const objects = (await hooks.eraseObjects()) + (archive === true ? 0 : await archived.deleteAll(actorLogName(actor.kind, actor.id)));
	faultPoint("erase.after-objects", host.ctx);
	const bytesLeft = await hooks.clearStorage();
	faultPoint("erase.after-storage", host.ctx);
	const report: ErasureStepReport = { erasure, step, objects, bytesLeft };
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

/**
 * Writes the actor's log to R2 as NDJSON, one stored row a line with its hash (so the chain can be checked offline),
 * under its org's prefix: `logs/<org>/<kind>:<id>.ndjson`. Nothing is written for an empty log (an actor already
 * cleared by an earlier try of the same erasure), so a retry never overwrites an archive with nothing.
 */
export async function archiveLog<S>(host: KernelHost<S>): Promise<void> {
	if (host.head.version === 0) return;
	const { org, kind, id } = host.actor;
	const lines: string[] = [];
	for (const row of host.log.range(0)) lines.push(JSON.stringify(row));
	const archive = actorLogArchive(host.env.ARCHIVE, org);
	await archive.put(archive.keyOf(actorLogName(kind, id)), `${lines.join("\n")}\n`, "application/x-ndjson", {
		version: String(host.head.version),
		head: host.head.hash,
	});
}

/**
 * Deletes every row of the actor's storage and its alarm, closes its sockets, and starts it again empty (so a later
 * write to the same id makes a new actor). Answers the database size right after the deletion: an empty database,
 * EMPTY_DATABASE_BYTES.
 */
export async function clearActorStorage<S>(
	host: KernelHost<S>,
	parts: Pick<KernelParts<S>, "schedule" | "projections">,
	connections: Iterable<Connection>,
	initialState: S,
): Promise<number> {
	const { ctx } = host;
	for (const connection of connections) connection.close(1000, "erased");
	await ctx.storage.deleteAlarm();
	await ctx.storage.deleteAll();
	const tablesLeft = ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master").one().n;
	if (tablesLeft > 0) throw new Error(`${tablesLeft} tables are left after deleting all storage`);
	// With no table left, the database is one empty page (EMPTY_DATABASE_BYTES): nothing of the actor remains.
	const bytesLeft = ctx.storage.sql.databaseSize;
	await migrate(host.db, migrations);
	host.meta.load();
	host.log.start = { seq: 0, hash: GENESIS_HASH };
	Object.assign(host.head, { state: initialState, version: 0, hash: GENESIS_HASH });
	parts.projections.wake();
	await parts.schedule.load();
	return bytesLeft;
}
