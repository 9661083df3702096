/**
 * The client action ledger: the first result of each client action id, returned again when the same id comes back
 * (an SDK retry, an outbox redelivery as `~outbox:<message id>`). It keeps a window, the actor's newest
 * CLIENT_ACTIONS_KEPT ids (docs/architecture.md, "Idempotency by client action id"): an older id runs again, and its
 * events are still deduplicated by their ids, which the events table and compacted_ids keep forever.
 */
import { eq } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { positiveInt } from "../core/settings.ts";
import type { Env } from "../env.ts";
import { clientActions } from "./schema.ts";

/** Client action ids each actor remembers (the newest); env CLIENT_ACTIONS_KEPT overrides it. */
export const CLIENT_ACTIONS_KEPT = 10_000;

export class ClientActionLedger {
	/** How many of the newest ids are kept. */
	readonly kept: number;

	constructor(
		private readonly db: DrizzleSqliteDODatabase,
		private readonly sql: SqlStorage,
		env: Pick<Env, "CLIENT_ACTIONS_KEPT">,
	) {
		this.kept = positiveInt(env.CLIENT_ACTIONS_KEPT) ?? CLIENT_ACTIONS_KEPT;
	}

	/** The recorded result of `id` (JSON text), or undefined when it is not in the window. */
	resultOf(id: string): string | undefined {
		return this.db.select({ result: clientActions.result }).from(clientActions).where(eq(clientActions.id, id)).get()?.result;
	}

	/** Records the first result of `id` and drops what fell out of the window. Inside the append's transaction. */
	record(id: string, result: unknown, version: number): void {
		this.db
			.insert(clientActions)
			.values({ id, result: JSON.stringify(result), version })
			.run();
		// Raw SQL: drizzle's schema has no rowid. Rowids only grow here (the newest row is never deleted, so SQLite's
		// max+1 never reuses one), so the newest `kept` rows are the last `kept` rowids; in steady state this deletes one row.
		this.sql.exec("DELETE FROM client_actions WHERE rowid <= (SELECT max(rowid) FROM client_actions) - ?", this.kept);
	}
}
