/// <reference types="node" />
/**
 * `roost subject export --user <id>`: a subject access request answered (docs/privacy.md). Asks
 * POST /v1/orgs/{org}/subject-exports page by page and writes every line as the server sent it (NDJSON), to a file
 * or stdout. A page that does not end with its `end` line (counting the page's lines) was cut short: an error.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { NetworkError, type RoostClient } from "./client.ts";
import { type CliIo, type Output, writeAll } from "./output.ts";

export interface SubjectExportSummary {
	/** The export ids, one per page, as the org's audit trail records them. */
	exports: string[];
	sessions: number;
	interactions: number;
	events: number;
	/** Archived interactions and archived log lines in R2. */
	archived: number;
	lines: number;
}

/** Writes the whole export of `userId` to `out` (stdout when absent). */
export async function exportSubject(
	client: RoostClient,
	userId: string,
	out: string | undefined,
	io: CliIo,
): Promise<SubjectExportSummary> {
	const summary: SubjectExportSummary = { exports: [], sessions: 0, interactions: 0, events: 0, archived: 0, lines: 0 };
	let file: WriteStream | undefined;
	try {
		let after: string | undefined;
		do {
			const res = await client.open("POST", `/v1/orgs/${encodeURIComponent(client.org)}/subject-exports`, {
				userId,
				...(after === undefined ? {} : { after }),
			});
			// The file is made once the server has answered, so a refused export leaves none behind.
			if (out !== undefined && file === undefined) file = createWriteStream(out);
			after = await copyPage(res, file ?? io.stdout, summary);
		} while (after !== undefined);
	} finally {
		const opened = file;
		if (opened) await new Promise<void>((resolve, reject) => opened.end((error?: Error | null) => (error ? reject(error) : resolve())));
	}
	return summary;
}

/** Copies one page's lines to `sink`, counting them; answers the next page's `after`, if any. */
async function copyPage(res: Response, sink: Output, summary: SubjectExportSummary): Promise<string | undefined> {
	if (!res.body) throw new NetworkError("the server answered the export with no body");
	const lines = createInterface({
		input: Readable.fromWeb(res.body as unknown as NodeReadableStream),
		crlfDelay: Number.POSITIVE_INFINITY,
	});
	let count = 0;
	let next: string | null = null;
	let ended = false;
	for await (const text of lines) {
		if (text.trim() === "") continue;
		count++;
		const line = JSON.parse(text) as { kind: string; id?: string; next?: string | null; lines?: number };
		if (line.kind === "export") {
			summary.exports.push(line.id ?? "");
			next = line.next ?? null;
		} else if (line.kind === "session") summary.sessions++;
		else if (line.kind === "interaction") summary.interactions++;
		else if (line.kind === "event") summary.events++;
		else if (line.kind === "archived_interaction" || line.kind === "archived_event") summary.archived++;
		else if (line.kind === "end") ended = line.lines === count;
		await writeAll(sink, `${text}\n`);
	}
	summary.lines += count;
	if (!ended) throw new NetworkError(`the export was cut short after ${count} lines: run it again`);
	return next ?? undefined;
}
