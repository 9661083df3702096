/// <reference types="node" />
/** NDJSON export files: read line by line (they can be large), and their last complete line for --resume. */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { type ExportedEvent, parseLine } from "./chain.ts";

/** The events of an NDJSON file in order, with their line numbers; a line that is not an event throws naming it. */
export async function* readExport(path: string): AsyncGenerator<{ event: ExportedEvent; line: number }> {
	const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Number.POSITIVE_INFINITY });
	let line = 0;
	for await (const text of lines) {
		line++;
		if (text.trim() === "") continue;
		yield { event: parseLine(text, line), line };
	}
}

export interface FileTail {
	/** The last line that ends with a newline, or null when there is none. */
	last: string | null;
	/** Bytes up to and including that newline: anything after it is a line cut short. */
	completeBytes: number;
	size: number;
}

/** Finds the last complete line by reading backwards from the end, so a large file is not read whole. */
export async function fileTail(path: string): Promise<FileTail> {
	const handle = await open(path, "r");
	try {
		const { size } = await handle.stat();
		const chunk = 64 * 1024;
		let end = size;
		let buffer = Buffer.alloc(0);
		let lastNewline = -1;
		// The end of the last complete line: the last newline in the file.
		while (end > 0 && lastNewline < 0) {
			const start = Math.max(0, end - chunk);
			const part = Buffer.alloc(end - start);
			await handle.read(part, 0, part.length, start);
			buffer = Buffer.concat([part, buffer]);
			end = start;
			lastNewline = buffer.lastIndexOf(0x0a);
		}
		if (lastNewline < 0) return { last: null, completeBytes: 0, size };
		const completeBytes = end + lastNewline + 1;
		// Its start: the newline before it, or the start of the file.
		let previous = buffer.lastIndexOf(0x0a, lastNewline - 1);
		while (previous < 0 && end > 0) {
			const start = Math.max(0, end - chunk);
			const part = Buffer.alloc(end - start);
			await handle.read(part, 0, part.length, start);
			buffer = Buffer.concat([part, buffer]);
			lastNewline += part.length;
			end = start;
			previous = buffer.lastIndexOf(0x0a, lastNewline - 1);
		}
		const text = buffer.subarray(previous + 1, lastNewline).toString("utf8");
		return { last: text.trim() === "" ? null : text, completeBytes, size };
	} finally {
		await handle.close();
	}
}
