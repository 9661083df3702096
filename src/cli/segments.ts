/// <reference types="node" />
/**
 * `roost segments list|get`: the org's compacted log segments in R2 (GET /v1/orgs/{org}/segments), and
 * `roost verify --file <segment>`: a downloaded segment checked here (src/cli/segment-check.ts), against a checkpoint
 * hash given by hand or the actor's checkpoint as the server's verify states it.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { parseLine } from "./chain.ts";
import type { RoostClient } from "./client.ts";
import { type CliIo, writeAll } from "./output.ts";
import { segmentsPath, serverAnchor } from "./segment-anchor.ts";
import { type Anchor, anchorCheck, type SegmentCheck, SegmentChecker, type SegmentInfo, segmentHeaderOf } from "./segment-check.ts";

export { allSegments, listSegments, type SegmentListing } from "./segment-anchor.ts";

/** Downloads one segment as the server serves it, to `out` or to stdout. */
export async function downloadSegment(client: RoostClient, name: string, out: string | undefined, io: CliIo): Promise<void> {
	const res = await client.open("GET", `${segmentsPath(client)}/${encodeURIComponent(name)}`);
	if (!res.body) return;
	if (out !== undefined) {
		await pipeline(Readable.fromWeb(res.body as unknown as NodeReadableStream), createWriteStream(out));
		return;
	}
	const decoder = new TextDecoder();
	for await (const chunk of res.body) await writeAll(io.stdout, decoder.decode(chunk, { stream: true }));
}

async function* fileLines(path: string): AsyncGenerator<{ text: string; line: number }> {
	const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Number.POSITIVE_INFINITY });
	let line = 0;
	for await (const text of lines) {
		line++;
		if (text.trim() !== "") yield { text, line };
	}
}

/** The segment header of a file's first line, or null when the file is not a segment (an events export, say). */
export async function segmentHeaderOfFile(path: string): Promise<SegmentInfo | null> {
	for await (const { text } of fileLines(path)) return segmentHeaderOf(text);
	return null;
}

export interface SegmentFileReport extends SegmentCheck {
	file: string;
	line?: number;
	/** Whether the segment ends at the checkpoint (or where the next segment starts), when one was asked for. */
	anchor?: { ok: boolean; detail: string };
}

/**
 * Checks a segment file's chain here, then (with `anchor`) that it ends at the checkpoint: `{ hash }` given by hand, or
 * `{ client }` to ask the server for the actor's checkpoint (and the next segment's start when the checkpoint is later).
 */
export async function verifySegmentFile(
	path: string,
	segment: SegmentInfo,
	anchor?: { hash: string } | { client: RoostClient },
): Promise<SegmentFileReport> {
	const checker = new SegmentChecker(segment);
	let line: number | undefined;
	let header = true;
	try {
		for await (const { text, line: at } of fileLines(path)) {
			if (header) {
				header = false;
				continue;
			}
			if (!checker.push(parseLine(text, at))) {
				line = at;
				break;
			}
		}
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		checker.breakHere(message);
		line = Number(/line (\d+)/.exec(message)?.[1]) || undefined;
	}
	const result = checker.result;
	const report: SegmentFileReport = { file: path, ...result, ...(line !== undefined && !result.ok ? { line } : {}) };
	if (!report.ok || !anchor) return report;
	const against: Anchor = "hash" in anchor ? anchor : await serverAnchor(anchor.client, segment);
	return { ...report, anchor: anchorCheck(result, against) };
}
