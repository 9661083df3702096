/** Types of scripts/demo-traffic.mjs, for the tests that drive it. */
export interface VisitResult {
	sessionId: string;
	stats: { buffered: number; accepted: number; duplicates: number; dropped: number; rejected: number; retries: number };
}

export interface Target {
	endpoint: string;
	orgId: string;
	apiKey: string;
}

export function ensureSdkBuilt(): void;
export function loadSdk(): Promise<typeof import("../src/sdk/index.ts")>;

export function simulateVisit(
	options: Target & {
		sdk: Awaited<ReturnType<typeof loadSdk>>;
		visitMs: number;
		flushIntervalMs?: number;
		signal?: AbortSignal;
		onError?: (error: unknown) => void;
	},
): Promise<VisitResult>;

export function startDemoTraffic(
	options: Target & {
		visitorsPerMinute?: number;
		maxConcurrent?: number;
		visitSeconds?: [number, number];
		timeScale?: number;
		onVisit?: (visit: VisitResult) => void;
		log?: { warn(message: string): void };
	},
): Promise<{ stop(): Promise<void> }>;
