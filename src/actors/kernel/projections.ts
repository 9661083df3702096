/**
 * Inline projections (src/reducers/projection.ts): a kind's indexed tables kept beside its log. The append path
 * calls `apply` inside the one transaction that writes the events, so a projection that is live always holds exactly
 * the log's events; a crash anywhere rolls both back together.
 *
 * Each projection's declared version is stored in `kernel_projections` (made here from raw DDL, like the subject
 * keys, because only kinds that declare projections need it). When a wake finds a different stored version (or none:
 * a kind's first wake with the projection), it drops the tables, creates them from the declared DDL, and rebuilds them
 * from the log in chunks of PROJECTION_CHUNK events (default 5,000), each chunk its own transaction: the first on the
 * wake, the rest one per alarm (an alarm part, due at once while any projection is rebuilding), so no single request or
 * alarm folds a long log. While a projection rebuilds, appends skip it (the rebuild reads them from the log when it
 * gets there) and its readers are told it is rebuilding; it turns live in the chunk that reaches the head of the log.
 * `rebuild` starts the same from an operator's request. A sandbox runs no alarm, so its rebuild goes a chunk per
 * wake or request.
 */
import { fail, type Outcome, ok } from "../../core/outcome.ts";
import type { RecordedEvent } from "../../events/envelope.ts";
import { eventForFold } from "../../events/stored.ts";
import type { Projection } from "../../reducers/projection.ts";
import { faultPoint } from "../faults.ts";
import type { AlarmPart } from "./alarm.ts";
import type { KernelHost } from "./host.ts";

/** Events folded into a rebuilding projection per transaction (one wake, or one alarm). */
export const DEFAULT_REBUILD_CHUNK = 5000;

const META_DDL =
	"CREATE TABLE IF NOT EXISTS kernel_projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL, through INTEGER NOT NULL, live INTEGER NOT NULL)";

export interface ProjectionStatus {
	name: string;
	version: number;
	status: "live" | "rebuilding";
	/** The seq the projection holds the log through (the head of the log when live). */
	through: number;
	/** Rows in each of its tables. */
	tables: { name: string; rows: number }[];
	/** Rows in its first (main) table. */
	rows: number;
}

type Stored = { version: number; through: number; live: boolean };

/** Whether the projection `name` is live in this object's storage (false while it rebuilds, or before it exists). */
export function projectionLive(sql: SqlStorage, name: string): boolean {
	const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kernel_projections'").toArray().length > 0;
	return exists && sql.exec<{ live: number }>("SELECT live FROM kernel_projections WHERE name = ?", name).toArray()[0]?.live === 1;
}

export class Projections<S> implements AlarmPart {
	readonly #stored = new Map<string, Stored>();
	readonly #chunk: number;

	constructor(private readonly host: KernelHost<S>) {
		const chunk = Number(host.env.PROJECTION_CHUNK);
		this.#chunk = Number.isSafeInteger(chunk) && chunk > 0 ? chunk : DEFAULT_REBUILD_CHUNK;
	}

	get #declared(): readonly Projection[] {
		return this.host.definition.projections ?? [];
	}

	get #sql(): SqlStorage {
		return this.host.ctx.storage.sql;
	}

	/** On wake, after the head is rebuilt: creates or resets what changed version, and runs one rebuild chunk of each. */
	wake(): void {
		this.#stored.clear();
		if (this.#declared.length === 0) return;
		this.#sql.exec(META_DDL);
		const rows = this.#sql.exec<{ name: string; version: number; through: number; live: number }>(
			"SELECT name, version, through, live FROM kernel_projections",
		);
		for (const row of rows) this.#stored.set(row.name, { version: row.version, through: row.through, live: row.live === 1 });
		for (const projection of this.#declared) {
			if (this.#stored.get(projection.name)?.version !== projection.version) this.#reset(projection);
			this.#step(projection);
		}
	}

	/** Applies appended events to every live projection; called inside the append's transaction. */
	apply(events: readonly RecordedEvent[]): void {
		if (events.length === 0) return;
		for (const projection of this.#declared) {
			if (!this.#stored.get(projection.name)?.live) continue;
			for (const event of events) projection.apply(event, this.#sql);
		}
	}

	/** Drops `name`'s tables and rebuilds them from the log: the first chunk now, the rest on the alarm. */
	rebuild(name: string): Outcome<ProjectionStatus> {
		const projection = this.#declared.find((p) => p.name === name);
		if (!projection) return fail({ kind: "not_found", detail: `${this.host.definition.kind} has no projection ${name}` });
		this.#reset(projection);
		this.#step(projection);
		this.host.ctx.waitUntil(this.host.rearm());
		return ok(this.#status(projection));
	}

	/** Every declared projection: version, status, how far it is built, and its rows; after starting `rebuild`'s rebuild if named. */
	statuses(rebuild?: string): Outcome<ProjectionStatus[]> {
		if (rebuild !== undefined) {
			const started = this.rebuild(rebuild);
			if (!started.ok) return started;
		}
		return ok(this.#declared.map((projection) => this.#status(projection)));
	}

	nextDueAt(): number | null {
		for (const stored of this.#stored.values()) if (!stored.live) return this.host.now();
		return null;
	}

	async onAlarm(): Promise<number> {
		let work = 0;
		for (const projection of this.#declared) work += this.#step(projection);
		return work;
	}

	#status(projection: Projection): ProjectionStatus {
		const stored = this.#stored.get(projection.name);
		const live = stored?.live === true;
		const tables = projection.tables.map((name) => ({
			name,
			rows: this.#sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`).one().n,
		}));
		return {
			name: projection.name,
			version: projection.version,
			status: live ? "live" : "rebuilding",
			through: live ? this.host.head.version : (stored?.through ?? 0),
			tables,
			rows: tables[0]?.rows ?? 0,
		};
	}

	/** New, empty tables at the declared version; live at once on an empty log, else rebuilding from seq 0. */
	#reset(projection: Projection): void {
		const live = this.host.head.version === 0;
		this.host.ctx.storage.transactionSync(() => {
			for (const table of projection.tables) this.#sql.exec(`DROP TABLE IF EXISTS "${table}"`);
			for (const statement of projection.ddl) this.#sql.exec(statement);
			this.#sql.exec(
				"INSERT INTO kernel_projections (name, version, through, live) VALUES (?, ?, 0, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version, through = 0, live = excluded.live",
				projection.name,
				projection.version,
				live ? 1 : 0,
			);
		});
		this.#stored.set(projection.name, { version: projection.version, through: 0, live });
	}

	/** Folds the next chunk of the log into a rebuilding projection, in one transaction; answers the events it read. */
	#step(projection: Projection): number {
		const stored = this.#stored.get(projection.name);
		if (!stored || stored.live) return 0;
		const head = this.host.head.version;
		const upTo = Math.min(stored.through + this.#chunk, head);
		const rows = [...this.host.log.range(stored.through, upTo)];
		const { catalog } = this.host.definition;
		const live = upTo >= head;
		this.host.ctx.storage.transactionSync(() => {
			for (const row of rows) projection.apply(eventForFold(row, catalog), this.#sql);
			this.#sql.exec("UPDATE kernel_projections SET through = ?, live = ? WHERE name = ?", upTo, live ? 1 : 0, projection.name);
			faultPoint("projection.after-chunk", this.host.ctx);
		});
		Object.assign(stored, { through: upTo, live });
		return rows.length;
	}
}
