/** The org's list of parked work across its actors (table `parked_index`), written with the org's kernel events. */
import { asc, count, eq, gt } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { ParkedItem } from "../events/kernel.ts";
import { parkedIndex } from "./schema.ts";

export interface ParkedPage {
	items: (ParkedItem & { ageMs: number })[];
	/** Pass as `after` for the next page; null at the end. */
	next: number | null;
	total: number;
}

export class ParkedIndex {
	constructor(private readonly db: DrizzleSqliteDODatabase) {}

	/** Call inside the transaction of the `kernel.parked_reported` event at `seq`. */
	add(item: ParkedItem, seq: number): void {
		const row = {
			id: item.id,
			notedSeq: seq,
			actorKind: item.actor.kind,
			actorId: item.actor.id,
			work: item.work,
			name: item.name,
			reason: item.reason,
			attempts: item.attempts,
			lastError: item.lastError,
			parkedAt: item.parkedAt,
		};
		this.db.insert(parkedIndex).values(row).onConflictDoUpdate({ target: parkedIndex.id, set: row }).run();
	}

	remove(id: string): void {
		this.db.delete(parkedIndex).where(eq(parkedIndex.id, id)).run();
	}

	/** Parked items in the order the org heard of them, after cursor `after`. */
	page(after: number, limit: number, now: number): ParkedPage {
		const rows = this.db
			.select()
			.from(parkedIndex)
			.where(gt(parkedIndex.notedSeq, after))
			.orderBy(asc(parkedIndex.notedSeq))
			.limit(limit + 1)
			.all();
		const items = rows.slice(0, limit).map((row) => ({
			id: row.id,
			actor: { kind: row.actorKind, id: row.actorId },
			work: row.work as ParkedItem["work"],
			name: row.name,
			reason: row.reason as ParkedItem["reason"],
			attempts: row.attempts,
			lastError: row.lastError,
			parkedAt: row.parkedAt,
			ageMs: Math.max(0, now - row.parkedAt),
		}));
		return { items, next: rows.length > limit ? (rows[limit - 1]?.notedSeq ?? null) : null, total: this.count() };
	}

	/** Parked items per actor kind. */
	countsByKind(): Record<string, number> {
		const rows = this.db.select({ kind: parkedIndex.actorKind, n: count() }).from(parkedIndex).groupBy(parkedIndex.actorKind).all();
		return Object.fromEntries(rows.map((row) => [row.kind, row.n]));
	}

	count(): number {
		return this.db.select({ n: count() }).from(parkedIndex).get()?.n ?? 0;
	}
}
