/**
 * Bench-only counters read from the real runtime, so the bench reports what the code did rather than an estimate:
 * rows written (`rowsWritten` of every SQL cursor any actor of this isolate opens, drizzle's included, since both go
 * through `SqlStorage.prototype.exec`), alarm writes (`setAlarm`/`deleteAlarm`), and RPCs to the org actor (every
 * method called on an `ORG` stub, counted where the call is made: in the Worker and in every actor's env). Nothing in
 * src/ knows about it: bench/worker.ts patches the prototypes once and hands the actors a counting `ORG` binding.
 * Counting is on only between `startCounting` and `stopCounting`; the cursors are kept until then, because a cursor's
 * `rowsWritten` grows as its statement is stepped.
 */

/** Where a cursor's rows are attributed: the actor class whose storage ran it. */
const owners = new WeakMap<object, string>();
let cursors: { cursor: SqlStorageCursor<Record<string, SqlStorageValue>>; owner: string; query: string }[] = [];
let alarms: Record<string, number> = {};
let orgCalls: Record<string, number> = {};
let counting = false;
let patched = false;

export interface Counts {
	/** Rows written by all statements, and per actor class. */
	rowsWritten: number;
	rowsByOwner: Record<string, number>;
	/** Rows written per statement that wrote any (owner and the statement's first 90 characters), most first. */
	rowsByStatement: { statement: string; rows: number; runs: number }[];
	statements: number;
	/** `setAlarm` and `deleteAlarm` calls, per actor class. */
	alarmWrites: Record<string, number>;
	/** RPCs to the org actor, per method. */
	orgRpcs: Record<string, number>;
	orgRpcTotal: number;
}

const bump = (counts: Record<string, number>, key: string) => {
	counts[key] = (counts[key] ?? 0) + 1;
};

/** Patches the storage prototypes (once per isolate) and names this actor's storage, before the actor's constructor runs. */
export function instrument(ctx: DurableObjectState, owner: string): void {
	owners.set(ctx.storage.sql, owner);
	owners.set(ctx.storage, owner);
	if (patched) return;
	patched = true;
	const sqlProto = Object.getPrototypeOf(ctx.storage.sql) as SqlStorage;
	const exec = sqlProto.exec;
	sqlProto.exec = function (this: SqlStorage, ...args: Parameters<SqlStorage["exec"]>) {
		const cursor = exec.apply(this, args);
		if (counting) cursors.push({ cursor, owner: owners.get(this) ?? "other", query: args[0] });
		return cursor;
	} as SqlStorage["exec"];
	const storageProto = Object.getPrototypeOf(ctx.storage) as DurableObjectStorage;
	for (const method of ["setAlarm", "deleteAlarm"] as const) {
		const original = storageProto[method] as (...args: unknown[]) => Promise<void>;
		(storageProto as unknown as Record<string, unknown>)[method] = function (this: DurableObjectStorage, ...args: unknown[]) {
			if (counting) bump(alarms, owners.get(this) ?? "other");
			return original.apply(this, args);
		};
	}
}

/** `env` with its ORG binding replaced by one that counts every method called on the stubs it hands out. */
export function countingOrgEnv<E extends { ORG: DurableObjectNamespace }>(env: E): E {
	const namespace = env.ORG;
	const wrapStub = (stub: object) =>
		new Proxy(stub, {
			get(target, prop) {
				const value = Reflect.get(target, prop);
				// `then` must stay what it is, or awaiting a stub would call it.
				if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
				return (...args: unknown[]) => {
					if (counting) bump(orgCalls, prop);
					return (target as Record<string, (...a: unknown[]) => unknown>)[prop]?.(...args);
				};
			},
		});
	const counted = new Proxy(namespace, {
		get(target, prop) {
			const value = Reflect.get(target, prop);
			if (typeof value !== "function") return value;
			if (prop === "get" || prop === "getByName")
				return (...args: unknown[]) => wrapStub((value as (...a: unknown[]) => object).apply(target, args));
			return (value as (...a: unknown[]) => unknown).bind(target);
		},
	});
	return { ...env, ORG: counted };
}

export function startCounting(): void {
	cursors = [];
	alarms = {};
	orgCalls = {};
	counting = true;
}

/** Stops counting and sums what was counted since `startCounting`. */
export function stopCounting(): Counts {
	counting = false;
	const rowsByOwner: Record<string, number> = {};
	let rowsWritten = 0;
	const byStatement = new Map<string, { rows: number; runs: number }>();
	for (const { cursor, owner, query } of cursors) {
		const rows = cursor.rowsWritten;
		rowsWritten += rows;
		rowsByOwner[owner] = (rowsByOwner[owner] ?? 0) + rows;
		if (rows === 0) continue;
		const key = `${owner}: ${query.replace(/\s+/g, " ").slice(0, 90)}`;
		const seen = byStatement.get(key) ?? { rows: 0, runs: 0 };
		byStatement.set(key, { rows: seen.rows + rows, runs: seen.runs + 1 });
	}
	const rowsByStatement = [...byStatement]
		.map(([statement, { rows, runs }]) => ({ statement, rows, runs }))
		.sort((a, b) => b.rows - a.rows);
	const counts = {
		rowsWritten,
		rowsByOwner,
		rowsByStatement,
		statements: cursors.length,
		alarmWrites: alarms,
		orgRpcs: orgCalls,
		orgRpcTotal: Object.values(orgCalls).reduce((a, b) => a + b, 0),
	};
	cursors = [];
	return counts;
}
