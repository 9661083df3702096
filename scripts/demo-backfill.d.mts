/** Types of scripts/demo-backfill.mjs, for the tests that drive it. */
import type { DemoHistory } from "./demo-history.mjs";

export interface Target {
	endpoint: string;
	org: string;
	apiKey: string;
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface Backfilled {
	at: number;
	seed: number;
	days: number;
	visits: number;
	cameraBatches: number;
	chats: number;
	requests: number;
	rollups: Record<string, number>;
	/** How long sending, waiting for the org to record every visit, and rolling up took. */
	seconds: { send: number; settle: number; rollUp: number };
}

export function backfillRequests(history: DemoHistory): Record<string, unknown>[];
export function backfillHistory(
	target: Target,
	history: DemoHistory,
	options?: { fetch?: Fetch; concurrency?: number; perMinute?: number; onProgress?: (done: number, total: number) => void },
): Promise<{ requests: number; accepted: number }>;
export function rollUpHistory(target: Target, options?: { fetch?: Fetch }): Promise<Record<string, number>>;
export function waitForVisits(target: Target, history: DemoHistory, options?: { fetch?: Fetch; timeoutMs?: number }): Promise<number>;
export function backfillOnce(
	target: Target,
	options: { now: number; seed?: number; days?: number; fetch?: Fetch; onProgress?: (done: number, total: number) => void },
): Promise<Backfilled>;
