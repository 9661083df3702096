/** How times, durations and numbers read on the pages. */

export function ago(ts: number, now = Date.now()): string {
	const s = Math.max(0, Math.round((now - ts) / 1000));
	if (s < 5) return "just now";
	if (s < 60) return `${s}s ago`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ago`;
	const hours = Math.floor(m / 60);
	if (hours < 48) return `${hours} h ago`;
	return `${Math.floor(hours / 24)} d ago`;
}

export function duration(ms: number): string {
	const s = Math.round(ms / 1000);
	if (s < 60) return `${s}s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
	return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** An instant as ISO 8601 (UTC), or the raw number when it is no valid date (a log may hold any stored `ts`). */
export function isoTime(ts: number): string {
	const date = new Date(ts);
	return Number.isNaN(date.getTime()) ? String(ts) : date.toISOString();
}

export const clock = (ts: number): string => new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export const dateTime = (ts: number): string =>
	new Date(ts).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export const count = (n: number): string => n.toLocaleString();

export const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

/** An id cut to a readable length, e.g. a UUIDv7 session id. */
export const shortId = (id: string, keep = 8): string => (id.length > keep + 1 ? `${id.slice(0, keep)}…` : id);

/** "1 frame", "3 frames": `word` is the singular; `plural` when adding an s will not do. */
export const plural = (n: number, word: string, pluralWord = `${word}s`): string => `${n.toLocaleString()} ${n === 1 ? word : pluralWord}`;
