/**
 * The first minutes of `npm start` on a fresh state, as a new user sees them: the real script (scripts/start.mjs, so
 * wrangler dev on a local workerd) on a free port with a fresh state directory, its own demo org and the key it
 * prints. Within 2 minutes of the start every dashboard view has data: active sessions, a web interaction, a camera
 * with an analysed frame, hourly, daily, weekly and monthly rollups with their charts, a spike and a new top page,
 * a report, and an offline chat answer naming this week's most visited page with its real count. A second start on
 * the same state backfills nothing. Screenshots of every view go to test-results/live-demo/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAUNCH_PAGE } from "../../scripts/demo-history.mjs";
import { freePort, type NpmStart, npmStart, printedLines, stopNpmStart } from "../support/npm-start.ts";
import { launchChromium } from "./chromium.ts";

/** The promise the issue makes: every view has data this soon after `npm start` on a fresh state. */
const LIVE_WITHIN_MS = 120_000;
const SHOTS = "test-results/live-demo";
const VIEWS = ["rates", "sessions", "feed", "cameras", "patterns", "chat"] as const;

declare const window: { scrollTo(x: number, y: number): void; roostDashboard: { ratesTotal(): number } };

let stateDir: string;
let port: number;
let inspectorPort: number;
let startedAt: number;
let start: NpmStart & { announced: Promise<string> };
let base: string;
let org: string;
let apiKey: string;
let browser: Browser;
let page: Page;

/** `npm start` on this test's ports and state; `announced` once it printed its block of lines (the keys, the demo's). */
function startDemo(): NpmStart & { announced: Promise<string> } {
	const started = npmStart([], { port, inspectorPort, stateDir });
	return { ...started, announced: printedLines(started, /Admin token:[\s\S]*History:.*\n/) };
}

async function api<T>(path: string): Promise<T> {
	const res = await fetch(`${base}/v1/orgs/${org}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
	if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

/** Waits for `selector`, at the latest until LIVE_WITHIN_MS after the start: the view must have its data by then. */
async function liveBy(selector: string): Promise<void> {
	const left = startedAt + LIVE_WITHIN_MS - Date.now();
	await page
		.locator(selector)
		.first()
		.waitFor({ timeout: Math.max(1000, left) })
		.catch((error) => {
			throw new Error(`${selector} not on the dashboard ${Math.round((Date.now() - startedAt) / 1000)} s after npm start: ${error}`);
		});
	seen.push(`${Math.round((Date.now() - startedAt) / 1000)} s: ${selector}`);
}

/** When each view had its data, in seconds after the start (written to test-results/live-demo/timeline.txt). */
const seen: string[] = [];

/** The org's recorded web interactions of backfilled visits (their sessions are named bf-<day>-<n>). */
async function backfilledVisits(): Promise<number> {
	let n = 0;
	let cursor: string | null = null;
	do {
		const page: { interactions: { actor: { id: string } }[]; cursor: string | null } = await api(
			`/interactions/search?source=web&limit=200${cursor ? `&cursor=${cursor}` : ""}`,
		);
		n += page.interactions.filter((i) => i.actor.id.startsWith("bf-")).length;
		cursor = page.cursor;
	} while (cursor);
	return n;
}

const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? "";

beforeAll(async () => {
	stateDir = mkdtempSync(join(tmpdir(), "roost-live-demo-"));
	[port, inspectorPort] = [await freePort(), await freePort()];
	base = `http://localhost:${port}`;
	mkdirSync(SHOTS, { recursive: true });
	startedAt = Date.now();
	start = startDemo();
	const printed = await start.announced;
	org = /Demo org:\s+(\S+)/.exec(printed)?.[1] ?? "";
	apiKey = /API key:\s+(\S+)/.exec(printed)?.[1] ?? "";
	browser = await launchChromium();
	page = await (await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: "light" })).newPage();
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await stopNpmStart(start);
	// What npm start printed, and when each view had its data: for a failure's why.
	writeFileSync(`${SHOTS}/npm-start-last.log`, start?.output() ?? "");
	writeFileSync(`${SHOTS}/timeline.txt`, `${seen.join("\n")}\n`);
	rmSync(stateDir, { recursive: true, force: true });
});

describe("npm start's live demo", () => {
	it("prints the demo org, its key, the 2-minute visit timeout, the camera and the history it backfills", async () => {
		const printed = start.output();
		expect(org).toMatch(/^\S+$/);
		expect(apiKey).toMatch(/^rk_/);
		expect(printed).toContain("created now");
		expect(printed).toMatch(/Timeouts:\s+a visit ends after 2 min without events/);
		expect(printed).toMatch(/Demo camera:\s+entrance/);
		expect(printed).toMatch(/History:\s+backfilling 4 weeks/);
		expect(await api<{ sessionInactivitySeconds: number }>("/settings")).toMatchObject({ sessionInactivitySeconds: 120 });
	});

	it(
		"signs in with the printed key, and within 2 minutes every view has data",
		async () => {
			await page.goto(`${base}/`);
			await page.fill("#api-key", apiKey);
			await page.click("#sign-in-form button[type=submit]");
			await page.waitForSelector("#app:not([hidden])");

			// Simulated visitors on the shop's pages right now.
			await liveBy("#session-list li[data-session] .session-page");
			// Finished web visits: the backfilled ones at once, the live ones 2 minutes after their last event.
			await liveBy('#feed-list li[data-interaction^="session:"]');
			// The simulated entrance camera, online, with its latest frame analysed.
			await liveBy('#camera-grid [data-camera="entrance"][data-status="online"] .facts');
			expect(await text('#camera-grid [data-camera="entrance"] .facts')).toContain("Brightness");
			// The event-rate chart counts the events of the logs the page follows.
			await expect.poll(() => page.evaluate(() => window.roostDashboard.ratesTotal()), { timeout: 10_000 }).toBeGreaterThan(0);

			// Rollups of every period, each drawn as a chart with its table, from the backfilled weeks; the reports the
			// org writes on them (one timer each, hundreds after a backfill) follow.
			const reports: string[] = [];
			for (const period of ["hourly", "weekly", "monthly", "daily"]) {
				await page.click(`#patterns [role=tab][data-period="${period}"]`);
				// The view shows this period's rollups ("48 hourly rollups, newest first"), not the last tab's.
				await liveBy(`#patterns-status:text-matches("^[0-9]+ ${period} rollups")`);
				await liveBy("#rollup-table tbody tr:not(:has(td.empty))");
				expect(await page.locator("#patterns-chart canvas").count()).toBeGreaterThan(0);
				if (await page.locator("#report article .headline").count()) reports.push(`${period}: ${await text("#report .headline")}`);
				await page.locator("#patterns").screenshot({ path: `${SHOTS}/patterns-${period}.png` });
			}
			// The daily view: the newsletter day's spike and the launched product as a new top page.
			await liveBy('#pattern-list li[data-pattern*=":spike:"]');
			await liveBy(`#pattern-list li[data-pattern*=":new_top_page:"]`);
			expect(await text("#pattern-list")).toContain(LAUNCH_PAGE);
			// And a report: the daily one, or one another period showed already.
			if (reports.length === 0) {
				await liveBy("#report article .headline");
				reports.push(`daily: ${await text("#report .headline")}`);
			}
			expect(reports.join("\n")).toMatch(/interactions/);
			seen.push(`reports: ${reports.join(" | ")}`);
			expect(Date.now() - startedAt).toBeLessThanOrEqual(LIVE_WITHIN_MS);
		},
		LIVE_WITHIN_MS + 30_000,
	);

	it("the offline chat answers which pages were visited most this week, with the backfill's real figures", async () => {
		await page.fill("#chat-input", "Which pages were visited most this week?");
		await page.click("#chat-send");
		const answer = page.locator("#chat-log .msg-assistant").last();
		await page.waitForSelector('#chat-log .msg-assistant[data-state="done"]', { timeout: 30_000 });
		const said = (await answer.locator(".answer-text").textContent()) ?? "";
		expect(said).toMatch(/^\[offline responder\]/);
		const named = /Most visited pages in the (\d+) days from (\S+) to (\S+): (\/\S*) \((\d+) visits\)/.exec(said);
		expect(named, said).not.toBeNull();
		const [, n, , , path, visits] = named ?? [];
		expect(Number(n)).toBe(7);
		// The same sum, from the API: the top page of the last 7 daily rollups and its visits.
		const daily = await api<{ rollups: { metrics: { web: { topPages: { path: string; visits: number }[] } } }[] }>(
			"/patterns?period=daily&limit=7",
		);
		const sum = new Map<string, number>();
		for (const r of daily.rollups) for (const p of r.metrics.web.topPages) sum.set(p.path, (sum.get(p.path) ?? 0) + p.visits);
		const [topPath, topVisits] = [...sum].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0] ?? [];
		expect(path).toBe(topPath);
		expect(Number(visits)).toBe(topVisits);
		expect(Number(visits)).toBeGreaterThan(0);
		expect(path).toBe(LAUNCH_PAGE);
	});

	it("saves a screenshot of the whole dashboard and of every view", async () => {
		await page.evaluate(() => window.scrollTo(0, 0));
		// The README's picture: the first screen of the dashboard, as a new user sees it.
		await page.screenshot({ path: `${SHOTS}/first-screen.png` });
		await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });
		const unpin = await page.addStyleTag({ content: ".masthead { position: static; }" });
		for (const view of VIEWS) await page.locator(`#${view}`).screenshot({ path: `${SHOTS}/${view}.png` });
		await unpin.evaluate((style) => style.remove());
	});

	it("a second start on the same state reuses the org and backfills nothing", async () => {
		const before = await backfilledVisits();
		await stopNpmStart(start);
		writeFileSync(`${SHOTS}/npm-start-first.log`, start.output());
		start = startDemo();
		const printed = await start.announced;
		expect(printed).toContain("from an earlier start");
		expect(/API key:\s+(\S+)/.exec(printed)?.[1]).toBe(apiKey);
		expect(printed).toMatch(/History:\s+28 days, \d+ visits, backfilled at an earlier start/);
		expect(before).toBeGreaterThan(100);
		expect(await backfilledVisits()).toBe(before);
	}, 120_000);
});
