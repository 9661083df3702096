/**
 * The read tools a chat's model may call: the org's interactions, patterns and ended web visits (through the
 * org actor), and the chat's own history. Inputs are zod schemas; every result is bounded in size, so a tool
 * can neither flood the model's context nor the chat's log.
 */
import { tool } from "ai";
import { z } from "zod";

/** A JSON value, as event data holds it (`z.json()`). */
export type Json = z.core.util.JSONType;

/** Largest tool result, as JSON text. */
export const MAX_TOOL_RESULT_CHARS = 6000;

export const PATTERN_PERIODS = ["hourly", "daily", "weekly", "monthly", "yearly", "all"] as const;

/** The org actor's read RPCs the tools use (OrgActor's methods, as a stub returns them). */
export interface OrgReader {
	interactions(query: { after?: number; limit?: number }): Promise<{ interactions: unknown[]; next: number | null }>;
	searchSessions(query: { userId?: string; page?: string; from?: number; to?: number; limit?: number }): Promise<{
		sessions: unknown[];
		cursor: string | null;
		rebuilding?: true;
	}>;
	patterns(query: {
		period: (typeof PATTERN_PERIODS)[number];
		limit?: number;
	}): Promise<{ period: string; rollups: unknown[]; patterns: unknown[] }>;
}

export interface HistoryMessage {
	seq: number;
	role: "user" | "assistant";
	text: string;
	ts: number;
}

/** The chat's own messages, newest last; `before` pages back by seq. */
export type HistoryReader = (query: { limit: number; before?: number }) => { messages: HistoryMessage[]; total: number };

export interface ToolDeps {
	org: OrgReader;
	history: HistoryReader;
}

/**
 * Shrinks a value until its JSON fits `max` characters: arrays lose items from the end (the oldest-first lists
 * keep their head, newest-first lists their newest), long strings are cut. Adds `truncated: true` when it cut.
 */
export function bounded(input: unknown, max = MAX_TOOL_RESULT_CHARS): Json {
	// Plain JSON from here on (no undefined, no class instances): it is stored as event data.
	const value: Json = input === undefined ? null : JSON.parse(JSON.stringify(input));
	if (JSON.stringify(value).length <= max) return value;
	let current = value;
	for (let round = 0; round < 40 && JSON.stringify(current).length > max; round++) current = shrink(current);
	if (JSON.stringify(current).length > max) return { truncated: true, preview: JSON.stringify(current).slice(0, max - 60) };
	return current !== null && typeof current === "object" && !Array.isArray(current) ? { ...current, truncated: true } : current;
}

function shrink(value: Json): Json {
	if (typeof value === "string") return value.length > 200 ? `${value.slice(0, Math.floor(value.length / 2))}…` : value;
	if (Array.isArray(value)) return value.length > 1 ? value.slice(0, Math.ceil(value.length / 2)).map(shrink) : value.map(shrink);
	if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrink(v)]));
	return value;
}

const isoTime = z.string().max(40).describe("An ISO 8601 date or date-time in UTC, e.g. 2026-11-20 or 2026-11-20T14:00:00Z.");

function instant(text: string | undefined, field: string): number | undefined {
	if (text === undefined) return undefined;
	const ms = Date.parse(text);
	if (Number.isNaN(ms)) throw new Error(`${field} is not an ISO 8601 date: ${text}`);
	return ms;
}

interface DailyView {
	label?: string;
	metrics?: { web?: { topPages?: { path: string; visits: number }[] } };
}

/** Visits per page summed over daily rollups (newest first, as the org lists them): the 10 most visited. */
export function topPages(view: { rollups: unknown[] }): {
	days: number;
	from: string | null;
	to: string | null;
	pages: { path: string; visits: number }[];
} {
	const rollups = view.rollups as DailyView[];
	const visits = new Map<string, number>();
	for (const rollup of rollups)
		for (const page of rollup.metrics?.web?.topPages ?? []) visits.set(page.path, (visits.get(page.path) ?? 0) + page.visits);
	const pages = [...visits]
		.sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
		.slice(0, 10)
		.map(([path, n]) => ({ path, visits: n }));
	return { days: rollups.length, from: rollups.at(-1)?.label ?? null, to: rollups[0]?.label ?? null, pages };
}

/** The tool set for one answer, bound to the org's actor and this chat's log. */
export function chatTools(deps: ToolDeps) {
	return {
		get_interactions: tool({
			description:
				"Interactions the org received (one per ended web visit, camera episode or chat), oldest first, with their summaries. Page with `after` (the `next` of the previous page).",
			inputSchema: z.object({
				after: z.number().int().min(0).optional().describe("Only interactions after this position (a `next` value)."),
				limit: z.number().int().min(1).max(50).optional().describe("How many, 1..50 (default 20)."),
			}),
			execute: async ({ after, limit }) => bounded(await deps.org.interactions({ after: after ?? 0, limit: limit ?? 20 })),
		}),
		get_patterns: tool({
			description:
				"The org's rollups (counts, rates, top pages and products) and detected patterns (spikes against the baseline) for a period.",
			inputSchema: z.object({
				period: z.enum(PATTERN_PERIODS).describe("Which rollup period; `all` is all-time."),
				limit: z.number().int().min(1).max(20).optional().describe("How many rollups and patterns, 1..20 (default 5)."),
			}),
			execute: async ({ period, limit }) => bounded(await deps.org.patterns({ period, limit: limit ?? 5 })),
		}),
		get_top_pages: tool({
			description:
				"The most visited pages over the last complete days (each day's daily rollup, its top 10 pages summed), with the days they cover. For 'this week', 7 days.",
			inputSchema: z.object({
				days: z.number().int().min(1).max(62).optional().describe("How many of the latest complete days, 1..62 (default 7)."),
			}),
			execute: async ({ days }) => bounded(topPages(await deps.org.patterns({ period: "daily", limit: days ?? 7 }))),
		}),
		search_sessions: tool({
			description:
				"Ended web visits, newest first, matching every filter given: a user id, a page path the visit viewed, and when it ended.",
			inputSchema: z.object({
				userId: z.string().min(1).max(256).optional(),
				page: z.string().min(1).max(2048).optional().describe("A path the visit viewed, exactly, e.g. /shoes."),
				from: isoTime.optional().describe("Ended at or after this instant (ISO 8601)."),
				to: isoTime.optional().describe("Ended before this instant (ISO 8601)."),
				limit: z.number().int().min(1).max(20).optional().describe("How many, 1..20 (default 10)."),
			}),
			execute: async ({ userId, page, from, to, limit }) =>
				bounded(await deps.org.searchSessions({ userId, page, from: instant(from, "from"), to: instant(to, "to"), limit: limit ?? 10 })),
		}),
		get_chat_history: tool({
			description: "Earlier messages of this chat (user and assistant), oldest first, including ones older than what you were shown.",
			inputSchema: z.object({
				limit: z.number().int().min(1).max(50).optional().describe("How many messages, 1..50 (default 20)."),
				before: z.number().int().min(1).optional().describe("Only messages before this seq, to page further back."),
			}),
			execute: async ({ limit, before }) => bounded(deps.history({ limit: limit ?? 20, before })),
		}),
	};
}

export type ChatTools = ReturnType<typeof chatTools>;
export const CHAT_TOOL_NAMES = ["get_interactions", "get_patterns", "get_top_pages", "search_sessions", "get_chat_history"] as const;
