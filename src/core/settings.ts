/** Settings read from environment variables (decimal strings in wrangler.jsonc vars). */

/** A positive integer from an environment variable, or undefined when it is unset or not one. */
export function positiveInt(value: string | undefined): number | undefined {
	const n = Number(value);
	return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
