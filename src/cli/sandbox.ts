/// <reference types="node" />
/**
 * `roost fork` and `roost import`: experiments in sandbox actors (ids `sandbox-…`, inert: imported events
 * run no timers and send nothing). A fork copies an actor's first N events on the server; an import
 * sends an exported file, in chunks, after checking its chain here, and the server checks every hash again.
 */
import { uuidv7 } from "uuidv7";
import { type ActorPath, actorLabel, type Segment, segmentOfKind, segments, spokenList } from "./actors.ts";
import { ChainChecker, type ExportedEvent } from "./chain.ts";
import type { RoostClient } from "./client.ts";
import { CheckFailed, UsageError } from "./errors.ts";
import { readExport } from "./files.ts";
import { type CliIo, progress } from "./output.ts";

export const SANDBOX_PREFIX = "sandbox-";
/** The server takes at most 1000 events and 8 MiB per import request; stay well under both. */
const CHUNK_EVENTS = 1000;
const CHUNK_CHARS = 4 * 1024 * 1024;

export interface ForkResult {
	actor: { kind: string; org: string; id: string };
	path: string;
	version: number;
	headHash: string;
}

/** Copies the actor's first `at` events (default: all of them) into a new sandbox actor of the same kind. */
export async function fork(client: RoostClient, actor: ActorPath, at?: number): Promise<ForkResult> {
	if (actor.kind === "org") throw new UsageError(`the org cannot be forked: fork one of its ${spokenList(segments())}`);
	const keep = at ?? (await client.version(actor));
	return client.post<ForkResult>(client.path(actor, "/fork"), { at: keep });
}

export interface ImportOptions {
	/** A kind's segment (`sessions`), or a sandbox to continue (`sessions/sandbox-…`); default: the file's kind, a new sandbox. */
	target?: ActorPath | Segment;
	quiet: boolean;
}

export interface ImportResult {
	actor: ActorPath & { id: string };
	imported: number;
	version: number;
	headHash: string;
}

/**
 * Imports an exported file into a sandbox. The file's chain is checked here first (a broken file sends
 * nothing). Into a sandbox that already holds events, the file's events up to its version are skipped
 * once the file's event at that version is found to be the sandbox's head, so an interrupted import
 * resumes by running it again.
 */
export async function importFile(client: RoostClient, path: string, options: ImportOptions, io: CliIo): Promise<ImportResult> {
	const checker = new ChainChecker();
	let count = 0;
	let fileKind: string | undefined;
	for await (const { event, line } of readExport(path)) {
		if (!checker.push(event)) {
			const { brokenAt, reason } = checker.result;
			throw new CheckFailed(`${path} line ${line}: the chain breaks at seq ${brokenAt} (${reason}); nothing was imported`);
		}
		fileKind ??= event.actor?.kind;
		count++;
	}
	if (count === 0) throw new CheckFailed(`${path} holds no events`);
	const { unchecked } = checker.result;
	if (unchecked.length > 0)
		throw new CheckFailed(
			`${path} holds redacted events (seq ${unchecked.join(", ")}): their stored data is not in the file; fork the actor instead`,
		);
	const target = resolveTarget(options.target, fileKind);
	if (!target.id.startsWith(SANDBOX_PREFIX))
		throw new UsageError(`imports go only into sandbox actors: ids starting with "${SANDBOX_PREFIX}"`);
	const version = await client.version(target);
	if (version > 0) await checkContinues(client, target, path, version);
	if (version >= count) throw new CheckFailed(`${actorLabel(target)} already holds all ${count} events of ${path}`);

	const bar = progress(io, options.quiet, `import into ${actorLabel(target)}`, count, version);
	let result = { version, headHash: "", imported: 0 };
	let imported = 0;
	let chunk: ExportedEvent[] = [];
	let chars = 0;
	const send = async () => {
		if (chunk.length === 0) return;
		const events = chunk.map(({ actor: _actor, ...event }) => event);
		result = await client.post<typeof result>(client.path(target, "/import"), { events });
		imported += result.imported;
		bar.update(result.version);
		chunk = [];
		chars = 0;
	};
	try {
		for await (const { event } of readExport(path)) {
			if (event.seq <= version) continue;
			const size = JSON.stringify(event).length;
			if (chunk.length >= CHUNK_EVENTS || (chunk.length > 0 && chars + size > CHUNK_CHARS)) await send();
			chunk.push(event);
			chars += size;
		}
		await send();
	} finally {
		bar.stop();
	}
	return { actor: target, imported, version: result.version, headHash: result.headHash };
}

function resolveTarget(target: ImportOptions["target"], fileKind: string | undefined): ActorPath & { id: string } {
	if (typeof target === "object") {
		if (target.kind === "org")
			throw new UsageError(`the org cannot be imported into: import into a sandbox of its ${spokenList(segments())}`);
		return target;
	}
	const segment = target ?? (fileKind ? segmentOfKind(fileKind) : undefined);
	if (!segment) {
		throw new UsageError(
			fileKind === "org"
				? `an org's log cannot be imported (sandboxes are ${spokenList(segments())})`
				: `say which kind of actor to import into: ${spokenList(segments())}`,
		);
	}
	return { kind: segment, id: `${SANDBOX_PREFIX}${uuidv7()}` };
}

/** The sandbox's log must be the file's first `version` events: its head is the file's event at that seq. */
async function checkContinues(client: RoostClient, target: ActorPath, path: string, version: number): Promise<void> {
	let atVersion: ExportedEvent | undefined;
	for await (const { event } of readExport(path)) {
		if (event.seq === version) {
			atVersion = event;
			break;
		}
	}
	const page = await client.get<{ events: ExportedEvent[] }>(client.path(target, "/events"), { after: version - 1, limit: 1, raw: "true" });
	if (!atVersion || page.events[0]?.hash !== atVersion.hash) {
		throw new CheckFailed(
			`${actorLabel(target)} holds ${version} events that are not the start of ${path}; import into a new sandbox instead`,
		);
	}
}
