/**
 * The object's one alarm, shared by every part with work due later (timers, outbox retries): each part says when
 * its next work is due and does it on the alarm, and the schedule keeps the alarm at the earliest of them.
 */

/** A kernel part with work due at some instant. */
export interface AlarmPart {
	/** The earliest instant this part has work due (overdue included), or null when it has none. */
	nextDueAt(): number | null;
	/** Does the work that is due; parts are called in order on every alarm. Answers how much it did (for the metrics). */
	onAlarm(now: number): Promise<number>;
}

export class AlarmSchedule {
	/** When the alarm is set for, as far as this instance knows (null: none). */
	#armedAt: number | null = null;

	constructor(
		private readonly storage: DurableObjectStorage,
		private readonly parts: readonly AlarmPart[],
	) {}

	/** Learns the alarm a previous instance set; on wake. */
	async load(): Promise<void> {
		this.#armedAt = await this.storage.getAlarm();
	}

	/** The alarm that is running is spent: rearm sets the next one. */
	spent(): void {
		this.#armedAt = null;
	}

	/** Runs each part's due work, in order, on the alarm; answers how late the alarm ran (ms) and the work done. */
	async fire(now: () => number): Promise<{ latenessMs: number; work: number }> {
		const latenessMs = this.#armedAt === null ? 0 : Math.max(0, now() - this.#armedAt);
		this.spent();
		let work = 0;
		for (const part of this.parts) work += await part.onAlarm(now());
		return { latenessMs, work };
	}

	/**
	 * Makes sure the alarm fires no later than the earliest work any part has due, overdue work included. An alarm
	 * already set earlier is left alone: when it fires with nothing due, the rearm after it arms for what is. So most
	 * appends, which only push a deadline later, cost no alarm write.
	 */
	async rearm(): Promise<void> {
		let next: number | null = null;
		for (const part of this.parts) {
			const due = part.nextDueAt();
			if (due !== null && (next === null || due < next)) next = due;
		}
		if (next === null) {
			if (this.#armedAt !== null) {
				this.#armedAt = null;
				await this.storage.deleteAlarm();
			}
			return;
		}
		if (this.#armedAt !== null && this.#armedAt <= next) return;
		this.#armedAt = next;
		await this.storage.setAlarm(next);
	}

	/**
	 * Whether the armed alarm already fires no later than work just set to be due at `earliest` (null: only
	 * cancels). The armed alarm is never later than any due work (rearm keeps it so), so then it still is, and
	 * rearm's reads can be skipped. This is the common append: a session pushing its inactivity deadline on.
	 */
	covers(earliest: number | null): boolean {
		return this.#armedAt !== null && (earliest === null || this.#armedAt <= earliest);
	}
}
