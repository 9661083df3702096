/** Types of scripts/demo-history.mjs, for the tests that drive it. */
export interface SdkEvent {
	id: string;
	type: string;
	ts: number;
	data: Record<string, unknown>;
}

export interface CameraBatch {
	start: number;
	end: number;
	frames: number;
	/** The share of the frames with motion, 0..1. */
	motion: number;
	people: number;
	summary: string;
}

export interface ChatMessage {
	role: "user" | "assistant";
	text: string;
	at: number;
}

export interface DemoHistory {
	visits: { session: string; events: SdkEvent[] }[];
	cameras: { camera: string; batches: CameraBatch[] }[];
	chats: { chat: string; messages: ChatMessage[] }[];
	/** Per UTC day: its visits and the visits per page path. */
	byDay: { day: string; visits: number; pages: Record<string, number> }[];
}

export const HISTORY_DAYS: number;
export const SPIKE_DAYS_AGO: number;
export const LAUNCH_DAYS_AGO: number;
export const LAUNCH_PAGE: string;
export function seededRandom(seed: number): () => number;
export function demoHistory(options: { seed?: number; now: number; days?: number; perDay?: number; endBefore?: number }): DemoHistory;
