/**
 * Rollup metrics: what one window of an org's interactions adds up to. Every field merges by
 * addition (counts, histogram buckets, keyed counts), so a day's metrics are exactly the merge of
 * its hours, whatever order they are merged in. Pure.
 */
import type { Interaction } from "../events/interaction.ts";

/** Upper bounds (ms) of the visit-duration histogram's buckets; the last is open-ended. */
export const DURATION_BUCKETS_MS = [
	1_000,
	5_000,
	10_000,
	30_000,
	60_000,
	120_000,
	300_000,
	600_000,
	1_800_000,
	3_600_000,
	7_200_000,
	Number.POSITIVE_INFINITY,
];
/** Keyed counts keep their largest entries; the rest is summed under this key. */
export const OTHER = "(other)";
export const MAX_KEYS = 50;

export interface Metrics {
	interactions: number;
	bySource: { web: number; cctv: number; chat: number };
	web: {
		sessions: number;
		events: number;
		pageViews: number;
		clicks: number;
		errors: number;
		/** Visit durations, counted per DURATION_BUCKETS_MS bucket. */
		durations: number[];
		/** Visits that viewed each path. */
		pages: Record<string, number>;
		/** Clicks per CSS target. */
		clickTargets: Record<string, number>;
	};
	cctv: { episodes: number; frames: number; motionFrames: number; motionMs: number; peopleSeen: number; offlineMs: number };
	chat: { conversations: number; messages: number; toolCalls: Record<string, number> };
	/** Interactions counted in a later hour than they ended in, because theirs was already rolled up. */
	late: number;
}

export function emptyMetrics(): Metrics {
	return {
		interactions: 0,
		bySource: { web: 0, cctv: 0, chat: 0 },
		web: {
			sessions: 0,
			events: 0,
			pageViews: 0,
			clicks: 0,
			errors: 0,
			durations: DURATION_BUCKETS_MS.map(() => 0),
			pages: {},
			clickTargets: {},
		},
		cctv: { episodes: 0, frames: 0, motionFrames: 0, motionMs: 0, peopleSeen: 0, offlineMs: 0 },
		chat: { conversations: 0, messages: 0, toolCalls: {} },
		late: 0,
	};
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/**
 * Keys of keyed counts come from the data (pages, click targets, tool names), so they may be "constructor" or
 * "__proto__": counts are read from own properties only and written as own properties, never through the prototype.
 */
const countAt = (map: Record<string, number>, key: string): number => (Object.hasOwn(map, key) ? (map[key] ?? 0) : 0);
function setCount(map: Record<string, number>, key: string, n: number): void {
	Object.defineProperty(map, key, { value: n, writable: true, enumerable: true, configurable: true });
}

const counts = (value: unknown): Record<string, number> => {
	if (!value || typeof value !== "object" || Array.isArray(value)) return {};
	const out: Record<string, number> = {};
	for (const [key, n] of Object.entries(value)) if (num(n) > 0) setCount(out, key, num(n));
	return out;
};

export function durationBucket(ms: number): number {
	return DURATION_BUCKETS_MS.findIndex((upper) => ms < upper);
}

/** The metrics of one interaction, read defensively from its summary (a missing number counts 0). */
export function metricsOf(interaction: Interaction, late = false): Metrics {
	const m = emptyMetrics();
	const s = interaction.summary as Record<string, unknown>;
	m.interactions = 1;
	m.bySource[interaction.source] = 1;
	m.late = late ? 1 : 0;
	if (interaction.source === "web") {
		m.web.sessions = 1;
		m.web.events = num(s.events);
		m.web.pageViews = num(s.pageViews);
		m.web.clicks = num(s.clicks);
		m.web.errors = num(s.errors);
		const bucket = durationBucket(Math.max(0, num(s.durationMs)));
		m.web.durations[bucket] = 1;
		const pages = Array.isArray(s.pages) ? s.pages.filter((p): p is string => typeof p === "string") : [];
		for (const page of new Set(pages)) setCount(m.web.pages, page, 1);
		m.web.clickTargets = capKeys(counts(s.clickTargets));
	} else if (interaction.source === "cctv") {
		m.cctv = {
			episodes: 1,
			frames: num(s.frames),
			motionFrames: num(s.motionFrames),
			motionMs: num(s.motionMs),
			peopleSeen: num(s.peopleSeen),
			offlineMs: num(s.offlineMs),
		};
	} else {
		m.chat = { conversations: 1, messages: num(s.messages), toolCalls: capKeys(counts(s.toolCalls)) };
	}
	return m;
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
	const out = { ...a };
	for (const [key, n] of Object.entries(b)) setCount(out, key, countAt(out, key) + n);
	return capKeys(out);
}

/** Keeps the MAX_KEYS largest counts (ties by key) and sums the rest under OTHER. */
export function capKeys(map: Record<string, number>): Record<string, number> {
	const entries = Object.entries(map);
	if (entries.length <= MAX_KEYS) return map;
	const ranked = entries.filter(([key]) => key !== OTHER).sort(([ka, a], [kb, b]) => b - a || ka.localeCompare(kb));
	const kept = Object.fromEntries(ranked.slice(0, MAX_KEYS - 1));
	const rest = ranked.slice(MAX_KEYS - 1).reduce((sum, [, n]) => sum + n, map[OTHER] ?? 0);
	return { ...kept, [OTHER]: rest };
}

export function mergeMetrics(a: Metrics, b: Metrics): Metrics {
	return {
		interactions: a.interactions + b.interactions,
		bySource: { web: a.bySource.web + b.bySource.web, cctv: a.bySource.cctv + b.bySource.cctv, chat: a.bySource.chat + b.bySource.chat },
		web: {
			sessions: a.web.sessions + b.web.sessions,
			events: a.web.events + b.web.events,
			pageViews: a.web.pageViews + b.web.pageViews,
			clicks: a.web.clicks + b.web.clicks,
			errors: a.web.errors + b.web.errors,
			durations: a.web.durations.map((n, i) => n + (b.web.durations[i] ?? 0)),
			pages: addCounts(a.web.pages, b.web.pages),
			clickTargets: addCounts(a.web.clickTargets, b.web.clickTargets),
		},
		cctv: {
			episodes: a.cctv.episodes + b.cctv.episodes,
			frames: a.cctv.frames + b.cctv.frames,
			motionFrames: a.cctv.motionFrames + b.cctv.motionFrames,
			motionMs: a.cctv.motionMs + b.cctv.motionMs,
			peopleSeen: a.cctv.peopleSeen + b.cctv.peopleSeen,
			offlineMs: a.cctv.offlineMs + b.cctv.offlineMs,
		},
		chat: {
			conversations: a.chat.conversations + b.chat.conversations,
			messages: a.chat.messages + b.chat.messages,
			toolCalls: addCounts(a.chat.toolCalls, b.chat.toolCalls),
		},
		late: a.late + b.late,
	};
}

export const mergeAll = (list: readonly Metrics[]): Metrics => list.reduce(mergeMetrics, emptyMetrics());

/** A duration quantile estimated from the histogram: linear within the bucket that holds it. */
export function durationQuantile(durations: readonly number[], q: number): number | null {
	const total = durations.reduce((a, b) => a + b, 0);
	if (total === 0) return null;
	const rank = q * total;
	let seen = 0;
	for (let i = 0; i < durations.length; i++) {
		const n = durations[i] ?? 0;
		if (n > 0 && seen + n >= rank) {
			const lower = i === 0 ? 0 : (DURATION_BUCKETS_MS[i - 1] ?? 0);
			const upper = DURATION_BUCKETS_MS[i] ?? lower;
			if (!Number.isFinite(upper)) return lower;
			return Math.round(lower + ((rank - seen) / n) * (upper - lower));
		}
		seen += n;
	}
	return null;
}

export function topOf(map: Record<string, number>, n = 10): { key: string; count: number }[] {
	return Object.entries(map)
		.filter(([key]) => key !== OTHER)
		.sort(([ka, a], [kb, b]) => b - a || ka.localeCompare(kb))
		.slice(0, n)
		.map(([key, count]) => ({ key, count }));
}

/** Metrics as people read them: medians and top lists instead of histograms and maps. */
export function describeMetrics(m: Metrics) {
	return {
		interactions: m.interactions,
		bySource: m.bySource,
		web: {
			sessions: m.web.sessions,
			events: m.web.events,
			pageViews: m.web.pageViews,
			clicks: m.web.clicks,
			errors: m.web.errors,
			medianSessionMs: durationQuantile(m.web.durations, 0.5),
			p90SessionMs: durationQuantile(m.web.durations, 0.9),
			topPages: topOf(m.web.pages).map(({ key, count }) => ({ path: key, visits: count })),
			topClickTargets: topOf(m.web.clickTargets).map(({ key, count }) => ({ target: key, clicks: count })),
		},
		cctv: m.cctv,
		chat: { ...m.chat, toolCalls: topOf(m.chat.toolCalls).map(({ key, count }) => ({ tool: key, calls: count })) },
		late: m.late,
	};
}
export type MetricsView = ReturnType<typeof describeMetrics>;
