/** Retry delays for persisted work (timer handlers, outbox deliveries): exponential, capped, with full jitter. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 15 * 60_000;

/** Delay before attempt `attempt + 1`, given `attempt` failures so far (1, 2, ...). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
	const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
	// Full jitter spreads retries of many actors that failed together; never below half the step.
	return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
