/// <reference types="node" />
/**
 * How the CLI talks: results on stdout, everything about the work (progress bars, notices) on stderr, so
 * `roost events export ... > file` stays clean. Progress bars (cli-progress) draw only on a terminal.
 */
import { Presets, SingleBar } from "cli-progress";
import type { Delta } from "jsondiffpatch";
import { format as formatDelta } from "jsondiffpatch/formatters/console";
import type { ExportedEvent } from "./chain.ts";

export interface Output {
	write(chunk: string): unknown;
	isTTY?: boolean;
	once?(event: "drain", listener: () => void): unknown;
}

export interface CliIo {
	stdout: Output;
	stderr: Output;
	env: Record<string, string | undefined>;
	cwd: string;
	/** Aborted on Ctrl-C: long commands stop cleanly (a tail closes its socket, an export finishes its page). */
	signal?: AbortSignal;
}

/** Writes and waits for the stream to drain when it asks to, so a large export never piles up in memory. */
export async function writeAll(out: Output, text: string): Promise<void> {
	if (out.write(text) === false && out.once) await new Promise<void>((resolve) => out.once?.("drain", resolve));
}

export interface Progress {
	update(value: number): void;
	stop(): void;
}

/** A progress bar on stderr when it is a terminal (and not --quiet); nothing otherwise. */
export function progress(io: CliIo, quiet: boolean, label: string, total: number, start = 0): Progress {
	if (quiet || !io.stderr.isTTY) return { update() {}, stop() {} };
	const bar = new SingleBar(
		{
			stream: io.stderr as NodeJS.WritableStream,
			format: `${label} [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left`,
			hideCursor: true,
			etaBuffer: 50,
			fps: 10,
		},
		Presets.shades_classic,
	);
	bar.start(Math.max(total, start), start);
	return {
		update: (value) => bar.update(value),
		stop: () => bar.stop(),
	};
}

const compact = (value: unknown, max: number): string => {
	const text = JSON.stringify(value) ?? "";
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** One event on one line: seq, time (UTC), type, id and data, for people. */
export function eventLine(event: ExportedEvent): string {
	const meta = Object.keys(event.meta ?? {}).length > 0 ? `  meta ${compact(event.meta, 120)}` : "";
	return `#${event.seq}  ${new Date(event.ts).toISOString()}  ${event.type}  ${event.id}  ${compact(event.data, 160)}${meta}\n`;
}

/** A jsondiffpatch delta for a terminal (coloured when stdout is one); a string delta is a note, printed as it is. */
export function deltaText(delta: unknown, left?: unknown): string {
	if (typeof delta === "string") return `  ${delta}\n`;
	const text = formatDelta(delta as Delta, left) ?? "";
	return `${text
		.split("\n")
		.map((line) => `  ${line}`)
		.join("\n")}\n`;
}

export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
