/**
 * What every kernel part shares: the object's storage and stores, the head of the log, and the actor it serves.
 * The actor builds one host; each part takes what it needs from it and keeps one concern.
 */
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { Env } from "../../env.ts";
import type { ActorRef } from "../../events/envelope.ts";
import type { ActorDefinition } from "../../reducers/definition.ts";
import { withKernelEvents } from "../../reducers/kernel.ts";
import type { ClientActionLedger } from "../client-actions.ts";
import type { EventLog } from "../log.ts";
import type { OutboxStore } from "../outbox.ts";
import type { SnapshotStore } from "../snapshots.ts";
import type { TimerStore } from "../timers.ts";
import type { ActorMeta } from "./actor-meta.ts";

/** Where the log stands: the state folded up to `version`, whose last row has chain hash `hash`. */
export interface LogHead<S> {
	state: S;
	version: number;
	hash: string;
}

export interface KernelHost<S> {
	readonly ctx: DurableObjectState;
	readonly env: Env;
	readonly db: DrizzleSqliteDODatabase;
	readonly log: EventLog;
	readonly snapshots: SnapshotStore;
	readonly timers: TimerStore;
	readonly outbox: OutboxStore;
	readonly clientActions: ClientActionLedger;
	readonly meta: ActorMeta;
	readonly head: LogHead<S>;
	readonly snapshotEvery: number;
	/** Read on every use, never kept: the actor's definition is the one truth (a test may swap it). */
	readonly definition: ActorDefinition<S>;
	readonly actor: ActorRef;
	now(): number;
	/** Points the one alarm at the earliest work any part has due. */
	rearm(): Promise<void>;
}

/** The tag snapshots are written under: a snapshot of another reducer version is never read. */
export const reducerTag = <S>(definition: ActorDefinition<S>): string => `${definition.kind}@${definition.reducerVersion}`;

/** The stores every part reads and writes, as the actor made them. */
export type HostStores = Pick<KernelHost<unknown>, "ctx" | "env" | "db" | "log" | "snapshots" | "timers" | "outbox" | "clientActions">;

/** The parts' view of `actor`; `definition` and `actor` are read through, so they are never stale. */
export function makeHost<S>(
	actor: { definition(): ActorDefinition<S>; actor(): ActorRef; now(): number; rearm(): Promise<void> },
	stores: HostStores,
	kernel: { meta: ActorMeta; head: LogHead<S>; snapshotEvery: number },
): KernelHost<S> {
	return {
		...stores,
		...kernel,
		get definition() {
			return withKernelEvents(actor.definition());
		},
		get actor() {
			return actor.actor();
		},
		now: () => actor.now(),
		rearm: () => actor.rearm(),
	};
}
