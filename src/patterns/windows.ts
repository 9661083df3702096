/**
 * Rollup periods and their windows, in UTC. Pure: every function takes the instant it reasons
 * about; nothing reads a clock.
 */

export const PERIODS = ["hourly", "daily", "weekly", "monthly", "yearly"] as const;
export type Period = (typeof PERIODS)[number];
export type PeriodOrAll = Period | "all";

export interface Window {
	start: number;
	end: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** When each period's rollup runs (UTC cron), and how long after its window ends that is. */
export const SCHEDULE: Record<Period, { cron: string; delayMs: number }> = {
	hourly: { cron: "0 * * * *", delayMs: 0 },
	daily: { cron: "0 2 * * *", delayMs: 2 * HOUR },
	weekly: { cron: "0 3 * * 1", delayMs: 3 * HOUR },
	monthly: { cron: "0 4 1 * *", delayMs: 4 * HOUR },
	yearly: { cron: "0 5 1 1 *", delayMs: 5 * HOUR },
};

/** The period each one is built from: a day from its hours, a week and a month from days, a year from months. */
export const BUILT_FROM: Record<Exclude<Period, "hourly">, Period> = {
	daily: "hourly",
	weekly: "daily",
	monthly: "daily",
	yearly: "monthly",
};

/** Start of the window of `period` that contains `at`. Weeks start on Monday (ISO). */
export function windowStart(period: Period, at: number): number {
	const d = new Date(at);
	switch (period) {
		case "hourly":
			return Math.floor(at / HOUR) * HOUR;
		case "daily":
			return Math.floor(at / DAY) * DAY;
		case "weekly": {
			const day = Math.floor(at / DAY) * DAY;
			const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
			return day - weekday * DAY;
		}
		case "monthly":
			return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
		case "yearly":
			return Date.UTC(d.getUTCFullYear(), 0, 1);
	}
}

/** The window of `period` that starts at `start`. */
export function windowAt(period: Period, start: number): Window {
	const d = new Date(start);
	switch (period) {
		case "hourly":
			return { start, end: start + HOUR };
		case "daily":
			return { start, end: start + DAY };
		case "weekly":
			return { start, end: start + 7 * DAY };
		case "monthly":
			return { start, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
		case "yearly":
			return { start, end: Date.UTC(d.getUTCFullYear() + 1, 0, 1) };
	}
}

/** Whether a window's rollup is due at `asOf`: on schedule, or (forced) as soon as the window has ended. */
export function isDue(period: Period, window: Window, asOf: number, forced = false): boolean {
	return asOf >= window.end + (forced ? 0 : SCHEDULE[period].delayMs);
}

export function windowLabel(period: PeriodOrAll, window: Window): string {
	const iso = new Date(window.start).toISOString();
	switch (period) {
		case "hourly":
			return `${iso.slice(0, 13)}:00Z`;
		case "daily":
			return iso.slice(0, 10);
		case "weekly":
			return `week of ${iso.slice(0, 10)}`;
		case "monthly":
			return iso.slice(0, 7);
		case "yearly":
			return iso.slice(0, 4);
		case "all":
			return "all time";
	}
}
