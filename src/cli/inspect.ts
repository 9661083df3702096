/// <reference types="node" />
/** `roost state` and `roost verify`: an actor's state at any version, and its hash chain (on the server, or in a file). */
import { type ActorPath, actorLabel } from "./actors.ts";
import { type ChainCheck, ChainChecker, type ExportedEvent } from "./chain.ts";
import type { RoostClient } from "./client.ts";
import { readExport } from "./files.ts";

export interface StateAnswer {
	version: number;
	state: unknown;
	kernel?: unknown;
}

/** The actor's state now, or as it was at version `at` (the server folds the log up to it). */
export function readState(client: RoostClient, actor: ActorPath, at?: number): Promise<StateAnswer> {
	return client.get<StateAnswer>(client.path(actor, "/state"), { at });
}

export interface ServerChainReport {
	ok: boolean;
	version: number;
	headHash: string;
	brokenAt?: number;
	reason?: string;
}

export function verifyOnServer(client: RoostClient, actor: ActorPath): Promise<ServerChainReport> {
	return client.get<ServerChainReport>(client.path(actor, "/verify"));
}

export interface FileChainReport extends ChainCheck {
	file: string;
	/** The line of the first broken event, when the chain is broken. */
	line?: number;
	/** Whether the file's last event is the server's event at that seq (only when an actor was given). */
	matchesServer?: { ok: boolean; detail: string };
}

/**
 * Re-checks an exported file's hash chain here, without the server: every line must continue the seq and
 * hash like the stored rows do. With an actor, also checks that the file's last event is the server's.
 */
export async function verifyFile(path: string, server?: { client: RoostClient; actor: ActorPath }): Promise<FileChainReport> {
	const checker = new ChainChecker();
	let line: number | undefined;
	let last: ExportedEvent | undefined;
	try {
		for await (const { event, line: at } of readExport(path)) {
			if (!checker.push(event)) {
				line = at;
				break;
			}
			last = event;
		}
	} catch (error) {
		// A line that is not an event breaks the chain where it stands.
		const message = error instanceof Error ? error.message : String(error);
		checker.breakHere(message);
		line = Number(/line (\d+)/.exec(message)?.[1]) || undefined;
	}
	const report: FileChainReport = { file: path, ...checker.result, ...(line !== undefined && !checker.result.ok ? { line } : {}) };
	if (server && last && report.ok) {
		const { client, actor } = server;
		const page = await client.get<{ events: ExportedEvent[] }>(client.path(actor, "/events"), {
			after: last.seq - 1,
			limit: 1,
			raw: "true",
		});
		const stored = page.events[0];
		report.matchesServer =
			stored?.hash === last.hash
				? { ok: true, detail: `seq ${last.seq} is ${actorLabel(actor)}'s event on the server` }
				: {
						ok: false,
						detail: `${actorLabel(actor)} has ${stored ? `another event at seq ${last.seq}` : `no seq ${last.seq}`}: this file is not a copy of its log`,
					};
	}
	return report;
}
