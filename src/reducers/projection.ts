/**
 * Inline projections (like Marten's): indexed tables a kind keeps in its own SQLite beside the log, written by the
 * kernel in the same transaction as the events they are built from, so the tables and the log never disagree. A
 * kind declares them on its definition; the kernel (src/actors/kernel/projections.ts) creates their tables from the
 * declared DDL, applies every appended event, and rebuilds them from the log when the declared version changes.
 * Pure types: imported by workerd, Node and the browser.
 */
import type { RecordedEvent } from "../events/envelope.ts";

/** The SQL a projection writes with: the object's SQLite (DO `ctx.storage.sql`), inside the kernel's transaction. */
export interface ProjectionSql {
	exec(query: string, ...bindings: (string | number | null)[]): unknown;
}

export interface Projection {
	/** Unique within the kind: names its row in the kernel's `kernel_projections` table and its rebuild route. */
	name: string;
	/** Bump whenever `apply` or `ddl` changes meaning: on its next wake the actor drops the tables and rebuilds them from the log. */
	version: number;
	/** The tables it owns, each dropped on a rebuild (their indexes go with them). */
	tables: readonly string[];
	/** CREATE TABLE / CREATE INDEX statements for `tables`, run in order on a fresh start or a rebuild. */
	ddl: readonly string[];
	/**
	 * Writes what one event (validated and upcast by the catalog, as a reducer sees it) means to the tables. Deterministic
	 * like a reducer: it reads only the event and its own tables, never a clock. Throwing rolls the whole append back.
	 * Kept to a few rows per event: each row and index entry it writes is a row written on the platform's bill.
	 */
	apply(event: RecordedEvent, sql: ProjectionSql): void;
}
