/**
 * The actor's own facts in actor_meta: its identity (stored with its first event, so a wake by alarm alone knows
 * who it is) and the sandbox mark (set by its first import: from then on it runs no timers, sends nothing and
 * takes no live writes).
 */
import { eq } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { type ActorError, fail } from "../../core/outcome.ts";
import type { ActorRef } from "../../events/envelope.ts";
import { actorMeta } from "../schema.ts";

/** The actor_meta key that marks a sandbox. */
const SANDBOX_MARK = "sandbox";
/** When a sandbox was last imported into (ms): its expiry counts from there (src/actors/kernel/sandbox-expiry.ts). */
const SANDBOX_WRITTEN = "sandbox_written_at";

export class ActorMeta {
	/** The identity stored with the first event, if there is one yet. */
	identity: ActorRef | undefined;
	#identityStored = false;
	#sandbox = false;
	#sandboxWrittenAt: number | null = null;

	constructor(private readonly db: DrizzleSqliteDODatabase) {}

	/** Reads both facts; on wake, before the log is folded. */
	load(): void {
		const row = this.db.select().from(actorMeta).where(eq(actorMeta.key, "identity")).get();
		this.#identityStored = false;
		if (row) {
			this.identity = JSON.parse(row.value) as ActorRef;
			this.#identityStored = true;
		}
		this.#sandbox = this.db.select().from(actorMeta).where(eq(actorMeta.key, SANDBOX_MARK)).get() !== undefined;
		const written = this.db.select().from(actorMeta).where(eq(actorMeta.key, SANDBOX_WRITTEN)).get();
		this.#sandboxWrittenAt = written ? Number(written.value) : null;
	}

	get isSandbox(): boolean {
		return this.#sandbox;
	}

	/** Stores the identity with the first appended rows. Call inside the append's transaction. */
	storeIdentity(actor: ActorRef): void {
		if (this.#identityStored) return;
		this.db
			.insert(actorMeta)
			.values({ key: "identity", value: JSON.stringify(actor) })
			.onConflictDoNothing()
			.run();
	}

	/** After the transaction that stored it committed. */
	identityCommitted(): void {
		this.#identityStored = true;
	}

	/** Marks this actor a sandbox in storage, before its first imported event: from then on it is inert for good. */
	markSandbox(): void {
		if (this.#sandbox) return;
		// Only an empty actor gets here (importEvents refuses a live one), so there are no timers or messages to drop.
		this.db.insert(actorMeta).values({ key: SANDBOX_MARK, value: "true" }).onConflictDoNothing().run();
		this.#sandbox = true;
	}

	/** When this sandbox was last imported into (ms), or null: not a sandbox, or one marked before this was recorded. */
	get sandboxWrittenAt(): number | null {
		return this.#sandbox ? this.#sandboxWrittenAt : null;
	}

	/** Records a write to this sandbox at `at` (ms). */
	sandboxWritten(at: number): void {
		const value = String(at);
		this.db.insert(actorMeta).values({ key: SANDBOX_WRITTEN, value }).onConflictDoUpdate({ target: actorMeta.key, set: { value } }).run();
		this.#sandboxWrittenAt = at;
	}

	/** The refusal every live write to a sandbox gets, or null for an ordinary actor; check it before any side effect. */
	refuseIfSandbox(actor: ActorRef): { ok: false; error: ActorError } | null {
		if (!this.#sandbox) return null;
		const { kind, id } = actor;
		const detail = `${kind} ${id} is a sandbox: it takes imports only, never live writes, and runs no timers, messages or models.`;
		return fail({ kind: "read_only", detail, errors: [{ path: "path.id", message: `${id} is a sandbox` }] });
	}
}
