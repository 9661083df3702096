/**
 * Shared by the reliability suites (faults-*, fuzz-*, reliability-*): run counts, the seed, and figures.
 *
 * `npm test` runs each property at its default size; `ROOST_LONG=1` multiplies every count by 10 (the long run).
 * `ROOST_SEED=<n>` replays a failure: fast-check prints the seed and path of a failing run. Each suite prints
 * one `[figure]` line per property with what was tried, how often and what was lost (docs/reliability.md).
 */
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect, vi } from "vitest";
import type { ChainReport, ReplayReport } from "../../src/actors/actor.ts";
import { disarmFault } from "../../src/actors/faults.ts";

const flags = env as unknown as { ROOST_LONG?: string; ROOST_SEED?: string };

export const LONG = flags.ROOST_LONG === "1";

/** How many runs a property gets: `base` in npm test, ten times that in the long run. */
export function runs(base: number): number {
	return LONG ? base * 10 : base;
}

/** The seed for fast-check: fixed by ROOST_SEED, else fresh each run (fast-check prints it on failure). */
export function seed(): number {
	const fixed = Number(flags.ROOST_SEED);
	return flags.ROOST_SEED && Number.isSafeInteger(fixed) ? fixed : Math.floor(Math.random() * 2 ** 31);
}

/** fast-check options for a suite whose runs touch real storage: no shrinking past the first failure. */
export function propertyOptions(numRuns: number): { numRuns: number; seed: number; endOnFailure: true; verbose: 1 } {
	return { numRuns, seed: seed(), endOnFailure: true, verbose: 1 };
}

/** Prints one figure for docs/reliability.md. */
export function figure(name: string, data: Record<string, unknown>): void {
	console.log(`[figure] ${name}: ${JSON.stringify(data)}`);
}

/** What an actor's checks say after a fault: whole chain, state equal to a fresh fold, every snapshot readable. */
export interface Integrity {
	verify: ChainReport;
	replay: ReplayReport;
}

/** The kernel's own checks on an actor, as the console runs them. */
export async function expectIntact(stub: {
	verifyChain(): Promise<ChainReport>;
	replayCheck(): Promise<ReplayReport>;
}): Promise<Integrity> {
	const verify = await stub.verifyChain();
	expect(verify, JSON.stringify(verify)).toMatchObject({ ok: true });
	const replay = (await stub.replayCheck()) as ReplayReport;
	expect(replay.mismatches, JSON.stringify(replay.mismatches)).toEqual([]);
	expect(replay.checked).toBe(verify.version);
	return { verify, replay };
}

/** Settles a promise into ok/error without throwing, for calls a fault may break. */
export async function settle<T = unknown>(promise: PromiseLike<unknown>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
	try {
		return { ok: true, value: (await promise) as T };
	} catch (error) {
		return { ok: false, error };
	}
}

/**
 * Mocks `Date` at `t0` before each test (well after the real clock, so real alarms never fire on their own and a
 * test moves time itself), and restores it and disarms any fault after each.
 */
export function clockAt(t0: number): void {
	beforeEach(() => {
		vi.useFakeTimers({ toFake: ["Date"] });
		vi.setSystemTime(t0);
	});
	afterEach(() => {
		disarmFault();
		vi.useRealTimers();
	});
}

/** Runs `stub`'s alarm until it owes nothing, moving the clock to each retry; a fault is a failed run and a crash. */
export async function settleActor(
	stubOf: () => DurableObjectStub & { kernelStatus(): Promise<unknown> },
): Promise<{ alarms: number; failed: number }> {
	let failed = 0;
	for (let alarms = 0; alarms < 40; alarms++) {
		// A fresh stub each round: one that saw its object crash stays broken.
		const stub = stubOf();
		const status = await settle(stub.kernelStatus());
		if (!status.ok) {
			failed++;
			await abortAllDurableObjects();
			continue;
		}
		const { outbox, timers } = status.value as {
			outbox: { pending: number; nextAttemptAt: number | null };
			timers: { name: string; dueAt: number }[];
		};
		// The org's rollup and retention schedules always have a next firing: not work an erasure owes.
		const owed = timers.filter((t) => !t.name.startsWith("rollup:") && t.name !== "retention");
		if (outbox.pending === 0 && owed.length === 0) return { alarms, failed };
		const due = Math.min(...[outbox.nextAttemptAt, ...owed.map((t) => t.dueAt)].filter((at): at is number => at !== null));
		vi.setSystemTime(Math.max(Date.now(), due));
		const ran = await settle(runDurableObjectAlarm(stub));
		if (!ran.ok) {
			failed++;
			await abortAllDurableObjects();
		}
	}
	throw new Error(`still owes work: ${JSON.stringify(await stubOf().kernelStatus())}`);
}
