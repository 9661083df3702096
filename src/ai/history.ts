/**
 * What the model sees of a chat: instructions, a running summary of older messages, and the last N messages
 * verbatim. The summary is extractive (each folded message's opening, newest kept when it grows too long),
 * so it needs no model call and is the same on every replay. The full conversation stays in the log.
 */
import type { ModelMessage } from "ai";
import type { ChatMessage } from "../reducers/chat.ts";

export const DEFAULT_HISTORY_MESSAGES = 20;
/** Longest running summary, in characters. */
export const MAX_SUMMARY_CHARS = 4000;
const LINE_CHARS = 200;

export function historyMessages(configured: string | undefined): number {
	const n = Number(configured);
	return Number.isSafeInteger(n) && n >= 1 && n <= 200 ? n : DEFAULT_HISTORY_MESSAGES;
}

export function instructions(context: { org: string; now: number; summary: string | null; maxSteps: number }): string {
	const lines = [
		`You are Roost's analyst for the organisation "${context.org}". Roost records its customers' interactions: web visits, CCTV camera episodes and chats.`,
		"Answer questions about them with the tools: get_interactions (what the org received), get_patterns (rollups and detected patterns by period), get_top_pages (the most visited pages of the last days), search_sessions (ended web visits by user, page or time) and get_chat_history (earlier messages of this chat).",
		`Use at most ${context.maxSteps - 1} rounds of tool calls, then answer. Base every number on a tool result; if the data does not say, say so. Be concise.`,
		`The time now is ${new Date(context.now).toISOString()}.`,
	];
	if (context.summary) lines.push(`Summary of the earlier conversation, oldest first:\n${context.summary}`);
	return lines.join("\n");
}

/** The window as model messages, at most `limit` of them, ending with the question being answered. */
export function promptMessages(window: readonly ChatMessage[], limit: number): ModelMessage[] {
	return window.slice(-Math.max(1, limit)).map((message) => ({ role: message.role, content: message.text }));
}

function opening(text: string): string {
	const flat = text.replace(/\s+/g, " ").trim();
	const sentence = /^.*?[.!?](\s|$)/.exec(flat)?.[0]?.trim() ?? flat;
	return sentence.length > LINE_CHARS ? `${sentence.slice(0, LINE_CHARS - 1)}…` : sentence;
}

/** The running summary with `dropped` folded in: one line per message, the oldest lines given up past the size limit. */
export function foldSummary(previous: string | null, dropped: readonly ChatMessage[]): string {
	const lines = previous ? previous.split("\n").filter((line) => line && !line.startsWith("(")) : [];
	for (const message of dropped) {
		lines.push(`- ${message.role} at ${new Date(message.ts).toISOString().slice(0, 16)}Z: ${opening(message.text)}`);
	}
	let omitted = Number(/^\((\d+) older/.exec(previous ?? "")?.[1] ?? 0);
	while (lines.join("\n").length > MAX_SUMMARY_CHARS && lines.length > 1) {
		lines.shift();
		omitted++;
	}
	return [...(omitted > 0 ? [`(${omitted} older messages omitted)`] : []), ...lines].join("\n");
}

/** After an answer: how many of the oldest messages to fold so that `keep` remain, and the new summary; null if none. */
export function summaryStep(
	window: readonly ChatMessage[],
	summary: string | null,
	keep: number,
): { dropped: number; summary: string } | null {
	const dropped = window.length - keep;
	if (dropped <= 0) return null;
	return { dropped, summary: foldSummary(summary, window.slice(0, dropped)) };
}
