/// <reference types="node" />
/**
 * `roost events tail` and `roost events export`: an actor's log live over its WebSocket, and its stored
 * log to NDJSON, paged, with a progress bar, resumable.
 */
import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import { truncate } from "node:fs/promises";
import { type ActorPath, actorLabel } from "./actors.ts";
import { type ExportedEvent, parseLine, toNdjsonLine } from "./chain.ts";
import type { RoostClient } from "./client.ts";
import { CheckFailed, UsageError } from "./errors.ts";
import { fileTail } from "./files.ts";
import { type CliIo, eventLine, type Output, progress, writeAll } from "./output.ts";

export interface TailOptions {
	after: number;
	/** Stop after this many events (default: run until Ctrl-C). */
	count?: number;
	json: boolean;
}

type Frame =
	| { t: "hello"; version: number }
	| { t: "event"; event: ExportedEvent }
	| { t: "error"; status?: number; title?: string; detail?: string }
	| { t: string };

const HEARTBEAT_MS = 20_000;

/**
 * Prints the actor's events after `after`, then live ones as they are appended. A dropped connection
 * reconnects after the last seq printed, so nothing is missed or printed twice. Resolves when `count`
 * events were printed or the run is aborted.
 */
export async function tail(client: RoostClient, actor: ActorPath, options: TailOptions, io: CliIo): Promise<void> {
	// A plain read first: a wrong key or org is a problem+json here, where a refused WebSocket says nothing.
	const version = await client.version(actor);
	if (options.after > version) throw new UsageError(`--after ${options.after} is beyond ${actorLabel(actor)}'s version ${version}`);
	io.stderr.write(`tailing ${actorLabel(actor)} after seq ${options.after} (version ${version} now); Ctrl-C stops\n`);
	let cursor = options.after;
	let printed = 0;
	let failures = 0;
	const done = () => io.signal?.aborted || (options.count !== undefined && printed >= options.count);
	while (!done()) {
		const opened = await new Promise<boolean>((resolve) => {
			const socket = new WebSocket(client.socketUrl(actor, cursor));
			let lastFrame = Date.now();
			let wasOpen = false;
			const beat = setInterval(() => {
				if (Date.now() - lastFrame > HEARTBEAT_MS * 1.5) socket.close();
				else if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ t: "ping" }));
			}, HEARTBEAT_MS);
			const stop = () => socket.close(1000, "done");
			io.signal?.addEventListener("abort", stop, { once: true });
			socket.addEventListener("open", () => {
				wasOpen = true;
				failures = 0;
			});
			socket.addEventListener("message", (message) => {
				lastFrame = Date.now();
				let frame: Frame;
				try {
					frame = JSON.parse(String(message.data)) as Frame;
				} catch {
					return;
				}
				if (frame.t === "event" && "event" in frame) {
					if (frame.event.seq <= cursor || done()) return;
					cursor = frame.event.seq;
					printed++;
					io.stdout.write(options.json ? toNdjsonLine(frame.event) : eventLine(frame.event));
					if (done()) stop();
				} else if (frame.t === "error" && "detail" in frame) {
					io.stderr.write(`server: ${frame.title ?? "error"}: ${frame.detail ?? ""}\n`);
				}
			});
			socket.addEventListener("close", () => {
				clearInterval(beat);
				io.signal?.removeEventListener("abort", stop);
				resolve(wasOpen);
			});
		});
		if (done()) break;
		failures = opened ? 0 : failures + 1;
		const wait = Math.min(10_000, 500 * 2 ** failures);
		io.stderr.write(`connection to ${actorLabel(actor)} lost; reconnecting after seq ${cursor} in ${wait} ms\n`);
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, wait);
			io.signal?.addEventListener("abort", () => {
				clearTimeout(timer);
				resolve();
			});
		});
	}
}

export interface ExportOptions {
	out?: string;
	resume: boolean;
	force: boolean;
	/** Export up to this seq (default: the version when the export starts). */
	to?: number;
	quiet: boolean;
}

export interface ExportSummary {
	first: number;
	last: number;
	exported: number;
	headHash: string | null;
}

/**
 * Writes the actor's stored events (as `GET .../events?raw=true` gives them) as NDJSON, to a file or stdout.
 * With --resume, an existing file is continued after its last complete line, once that line's hash is
 * found at the same seq on the server (so the file is a prefix of this actor's log); a line cut short by an
 * interrupted export is dropped first.
 */
export async function exportEvents(client: RoostClient, actor: ActorPath, options: ExportOptions, io: CliIo): Promise<ExportSummary> {
	if (options.resume && !options.out) throw new UsageError("--resume continues a file: give it with --out");
	const version = await client.version(actor);
	const to = options.to ?? version;
	if (to > version) throw new UsageError(`--to ${to} is beyond ${actorLabel(actor)}'s version ${version}`);
	let after = 0;
	let headHash: string | null = null;
	if (options.out && existsSync(options.out)) {
		if (options.resume) {
			({ after, headHash } = await resumePoint(client, actor, options.out));
		} else if (!options.force) {
			throw new UsageError(`${options.out} exists: --resume continues it, --force overwrites it`);
		}
	}
	const file: WriteStream | undefined = options.out ? createWriteStream(options.out, { flags: options.resume ? "a" : "w" }) : undefined;
	const out: Output = file ?? io.stdout;
	const bar = progress(io, options.quiet, `export ${actorLabel(actor)}`, to, after);
	let exported = 0;
	let last = after;
	try {
		for await (const page of client.rawEvents(actor, { after, to })) {
			await writeAll(out, page.map(toNdjsonLine).join(""));
			exported += page.length;
			const end = page.at(-1) as ExportedEvent;
			last = end.seq;
			headHash = end.hash;
			bar.update(last);
			if (io.signal?.aborted) break;
		}
	} finally {
		bar.stop();
		if (file) await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
	}
	return { first: after + 1, last, exported, headHash };
}

async function resumePoint(client: RoostClient, actor: ActorPath, path: string): Promise<{ after: number; headHash: string | null }> {
	const tailOfFile = await fileTail(path);
	if (tailOfFile.completeBytes < tailOfFile.size) await truncate(path, tailOfFile.completeBytes);
	if (tailOfFile.last === null) return { after: 0, headHash: null };
	let last: ExportedEvent;
	try {
		last = parseLine(tailOfFile.last, 0);
	} catch {
		throw new CheckFailed(`${path} does not end with an exported event, so it cannot be resumed`);
	}
	const page = await client.get<{ events: ExportedEvent[] }>(client.path(actor, "/events"), { after: last.seq - 1, limit: 1, raw: "true" });
	const stored = page.events[0];
	if (!stored || stored.seq !== last.seq || stored.hash !== last.hash) {
		throw new CheckFailed(
			`${path} ends with seq ${last.seq} (hash ${last.hash.slice(0, 12)}…), which is not ${actorLabel(actor)}'s event at that seq: it is another actor's export, or the log differs; nothing was written`,
		);
	}
	return { after: last.seq, headHash: last.hash };
}
