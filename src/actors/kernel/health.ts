/** One actor's health figures (docs/operations.md): what it owes, what is stuck, who listens, how big it is. */
import { type ActorHealth, OVERDUE_AFTER_MS } from "../../core/health.ts";
import type { KernelHost } from "./host.ts";

export function actorHealth<S>(host: KernelHost<S>, sockets: number): ActorHealth {
	const now = host.now();
	const depth = host.outbox.depth();
	const newest = host.ctx.storage.sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM snapshots").one().v;
	return {
		version: host.head.version,
		outbox: {
			pending: depth.pending,
			oldestAgeMs: depth.oldestAt === null ? null : Math.max(0, now - depth.oldestAt),
			parked: host.outbox.parkedCount(),
		},
		timers: {
			live: host.timers.count() - host.timers.parkedCount(),
			overdue: host.timers.overdue(now - OVERDUE_AFTER_MS),
			parked: host.timers.parkedCount(),
		},
		sockets,
		snapshotLagEvents: newest === null ? null : host.head.version - newest,
		storageBytes: host.ctx.storage.sql.databaseSize,
	};
}
