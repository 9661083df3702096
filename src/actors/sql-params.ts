/** Durable Object SQLite binds at most 100 parameters per statement: what a statement over many values is cut by. */
export const MAX_PARAMS = 100;

/** `items` in consecutive slices of at most `size`, each with its `?, ?, …` placeholders for an `IN (...)`. */
export function* paramChunks<T>(items: readonly T[], size = MAX_PARAMS): Generator<{ chunk: T[]; marks: string }> {
	for (let start = 0; start < items.length; start += size) {
		const chunk = items.slice(start, start + size);
		yield { chunk, marks: chunk.map(() => "?").join(", ") };
	}
}
