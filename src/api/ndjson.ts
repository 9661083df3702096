/** NDJSON bodies, in and out, a line at a time: an archive or an export is never held whole in the Worker's memory. */

export const NDJSON = "application/x-ndjson";
/** The response header: with its charset, so readers (workerd's own `.text()` included) take it as UTF-8 text. */
export const NDJSON_HEADER = { "content-type": `${NDJSON}; charset=utf-8` };

/** The lines of a text body as they arrive. */
export async function* textLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
	let rest = "";
	for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
		const parts = (rest + chunk).split("\n");
		rest = parts.pop() ?? "";
		yield* parts;
	}
	if (rest !== "") yield rest;
}

/** The values as an NDJSON body, produced as the reader pulls them; `end` (given the count) is the last line, if any. */
export function ndjsonBody(values: AsyncGenerator<unknown>, end?: (lines: number) => unknown): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	let count = 0;
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const next = await values.next();
			if (next.done) {
				if (end) controller.enqueue(encoder.encode(`${JSON.stringify(end(count + 1))}\n`));
				controller.close();
				return;
			}
			count++;
			controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
		},
		async cancel() {
			await values.return(undefined);
		},
	});
}
