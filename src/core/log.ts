/**
 * Structured logs: every line the Worker and its actors write is one JSON object (docs/operations.md), so
 * Workers Logs and Logpush can filter by field. Callers pass ids, counts and error messages, never keys, tokens
 * or event data (which may carry personal data).
 */

export type LogLevel = "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const write: Record<LogLevel, (line: string) => void> = {
	info: (line) => console.log(line),
	warn: (line) => console.warn(line),
	error: (line) => console.error(line),
};

/** One JSON line: `{ level, msg, ...fields }`; undefined fields are left out. */
export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
	write[level](JSON.stringify({ level, msg, ...fields }));
}

/** An error's message as a log field (never its stack, which may quote data). */
export const errorText = (error: unknown): string =>
	(error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1000);
