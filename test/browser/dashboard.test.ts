/**
 * The dashboard (web/, served by the Worker as static assets) in Debian's Chromium against the real Worker on a
 * local workerd, with demo traffic running. The page is loaded through a TCP proxy that can be cut, so killing
 * every socket (and the HTTP around it) is a real network failure, not a call into the page. Screenshots of
 * every view, at a laptop's and a phone's width, go to test-results/dashboard/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patternFrame, postFrame } from "../../scripts/camera-uploader.mjs";
import { startDemoTraffic } from "../../scripts/demo-traffic.mjs";
import { launchChromium } from "./chromium.ts";
import { startTcpProxy, type TcpProxy } from "./dashboard-proxy.mjs";
import { type LocalRoost, PAGE_SECURITY_HEADERS, securityHeadersOf, startLocalRoost } from "./local-roost.ts";

interface SocketStats {
	name: string;
	state: string;
	cursor: number;
	received: number;
	duplicates: number;
	connections: number;
}

/** The page's globals the functions run in the page use (this project is typed for Workers, not the DOM). */
declare const window: {
	roostDashboard: { sockets(): SocketStats[]; ratesTotal(): number };
	loadedOnce?: boolean;
	answerLengths?: number[];
};
declare const document: {
	querySelector(selector: string): { textContent: string | null } | null;
	getElementById(id: string): unknown;
	scrollingElement: { scrollWidth: number } | null;
};
declare const MutationObserver: new (
	callback: () => void,
) => { observe(target: unknown, options: { subtree: boolean; childList: boolean; characterData: boolean }): void };

const SHOTS = "test-results/dashboard";
const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const VIEWS = ["rates", "sessions", "feed", "chat", "cameras", "patterns"] as const;

let roost: LocalRoost;
let proxy: TcpProxy;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every WebSocket URL the page opened. */
const socketUrls: string[] = [];
let org: string;
let apiKey: string;
let traffic: { stop(): Promise<void> } | undefined;

/** Console errors and uncaught page errors, each marked with whether the network was cut when it came. */
const problems: { text: string; duringOutage: boolean }[] = [];
/** The browser's own report of a refused request that a step provokes on purpose (a wrong key's 401). */
let expecting: RegExp | undefined;
let outageEndedAt = 0;
const duringOutage = () => proxy.isCut || Date.now() - outageEndedAt < 1500;

const sockets = () => page.evaluate(() => window.roostDashboard.sockets());
const ratesTotal = () => page.evaluate(() => window.roostDashboard.ratesTotal());
const text = (selector: string) => page.locator(selector).first().textContent();

async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
	const res = await fetch(`${roost.url}/v1/orgs/${org}${path}`, {
		method: init.method ?? "GET",
		headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

/** The whole page, then each view on its own (with the header unpinned, so it covers none of them). */
async function screenshots(suffix: string): Promise<void> {
	await page.evaluate("window.scrollTo(0, 0)");
	await page.screenshot({ path: `${SHOTS}/dashboard-${suffix}.png`, fullPage: true });
	const unpin = await page.addStyleTag({ content: ".masthead { position: static; }" });
	for (const view of VIEWS) await page.locator(`#${view}`).screenshot({ path: `${SHOTS}/${view}-${suffix}.png` });
	await unpin.evaluate((style) => style.remove());
}

beforeAll(async () => {
	// Visits end 4 s after their last event and camera batches close every 3 s, so interactions arrive within
	// the test; the offline responder writes a word every 30 ms, so its answer visibly streams.
	roost = await startLocalRoost({
		vars: { SESSION_INACTIVITY_MS: "4000", CAMERA_BATCH_MS: "3000", RATE_LIMITS: "off", AI_PROVIDER: "offline", AI_OFFLINE_TOKEN_MS: "30" },
	});
	({ org, apiKey } = await roost.createOrg("Dashboard tests"));
	proxy = await startTcpProxy(roost.url);
	browser = await launchChromium();
	context = await browser.newContext({ viewport: LAPTOP, colorScheme: "light" });
	page = await context.newPage();
	page.on("console", (message) => {
		if (message.type() !== "error" || expecting?.test(message.text())) return;
		problems.push({ text: message.text(), duringOutage: duringOutage() });
	});
	page.on("pageerror", (error) => problems.push({ text: `uncaught: ${error.message}`, duringOutage: false }));
	page.on("websocket", (socket) => socketUrls.push(socket.url()));
});

afterAll(async () => {
	await traffic?.stop();
	await browser?.close();
	await proxy?.close();
	await roost?.dispose();
});

describe("the dashboard in Chromium", () => {
	it("is served at / and /dashboard, while the API, /openapi.json and unknown paths still reach the Worker", async () => {
		for (const path of ["/", "/dashboard"]) {
			const res = await fetch(`${roost.url}${path}`);
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toContain("text/html");
			expect(await res.text()).toContain("/assets/dashboard.js");
			const headers = securityHeadersOf(res.headers);
			expect(headers).toEqual(PAGE_SECURITY_HEADERS);
			expect(headers.csp).toContain("frame-ancestors 'none'");
		}
		// The Worker's own answers carry nosniff, no Referer, and a CSP that lets nothing run or frame them.
		const api = securityHeadersOf((await fetch(`${roost.url}/openapi.json`)).headers);
		expect(api).toMatchObject({ nosniff: "nosniff", referrer: "no-referrer" });
		expect(api.csp).toContain("default-src 'none'");
		expect((await fetch(`${roost.url}/openapi.json`)).headers.get("content-type")).toContain("application/json");
		expect((await fetch(`${roost.url}/v1/orgs/${org}`)).status).toBe(401);
		const unknown = await fetch(`${roost.url}/no-such-page`);
		expect(unknown.status).toBe(404);
		expect(unknown.headers.get("content-type")).toContain("application/problem+json");
	});

	it("refuses a wrong key, signs in with the org's key, and keeps it in session storage", async () => {
		await page.goto(`${proxy.url}/`);
		await page.fill("#api-key", `rk_${org}.${"x".repeat(43)}`);
		expecting = /the server responded with a status of 401/;
		await page.click("#sign-in-form button[type=submit]");
		await expect.poll(() => text("#sign-in-error")).toContain("does not open any org");
		expecting = undefined;

		await page.fill("#api-key", apiKey);
		await page.click("#sign-in-form button[type=submit]");
		await page.waitForSelector("#app:not([hidden])");
		expect(await text("#org-name")).toBe("Dashboard tests");
		expect(await page.evaluate(() => sessionStorage.getItem("roost.apiKey"))).toBe(apiKey);
		await page.waitForSelector('#live-status[data-state="live"]');
		// A marker that a reload would wipe: every later check runs on this same page load.
		await page.evaluate(() => {
			window.loadedOnce = true;
		});
	});

	it("with demo traffic running, the session list and the event-rate chart change without a reload", async () => {
		const ratesBefore = await ratesTotal();
		const summaryBefore = await text("#rates-summary");
		traffic = await startDemoTraffic({
			endpoint: roost.url,
			orgId: org,
			apiKey,
			visitorsPerMinute: 40,
			maxConcurrent: 4,
			timeScale: 1 / 20,
			log: { warn: (message) => console.warn(message) },
		});
		// Sessions appear with the page they are on (a path of the shop), from their own sockets.
		const onAPage = page.locator("#session-list li[data-session] .session-page", { hasText: /^\/[a-z/-]*$/ });
		await onAPage.first().waitFor({ timeout: 15_000 });
		const firstSeen = await page
			.locator("#session-list li[data-session]")
			.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-session")));
		expect(firstSeen.length).toBeGreaterThan(0);
		// Visits end (4 s without events) and become interactions; new visitors take their place in the list.
		await page.waitForSelector('#feed-list li[data-interaction^="session:"]', { timeout: 20_000 });
		await expect
			.poll(
				async () => {
					const now = await page
						.locator("#session-list li[data-session]")
						.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-session")));
					return now.some((id) => !firstSeen.includes(id));
				},
				{ timeout: 15_000 },
			)
			.toBe(true);
		expect(await ratesTotal()).toBeGreaterThan(ratesBefore);
		await expect.poll(() => text("#rates-summary"), { timeout: 5000 }).not.toBe(summaryBefore);
		expect(await page.evaluate(() => window.loadedOnce)).toBe(true);
	});

	it("a chat question streams its answer token by token, with the tool calls as they happen", async () => {
		await page.evaluate(() => {
			const lengths: number[] = [];
			window.answerLengths = lengths;
			new MutationObserver(() => {
				const answer = document.querySelector("#chat-log .msg-assistant:last-of-type .answer-text");
				const length = answer?.textContent?.length ?? 0;
				if (length !== lengths.at(-1)) lengths.push(length);
			}).observe(document.getElementById("chat-log"), { subtree: true, childList: true, characterData: true });
		});
		await page.fill("#chat-input", "How many web visits were there today?");
		await page.click("#chat-send");
		await page.waitForSelector("#chat-log .msg-user");
		const answer = page.locator("#chat-log .msg-assistant").last();
		await answer.locator(".tool").first().waitFor();
		await page.waitForSelector('#chat-log .msg-assistant[data-state="done"]', { timeout: 20_000 });
		const lengths = (await page.evaluate(() => window.answerLengths)) ?? [];
		const final = (await answer.locator(".answer-text").textContent()) ?? "";
		// Many partial texts, each longer than the one before, before the whole answer.
		const partial = lengths.filter((n) => n > 0 && n < final.length);
		expect(partial.length).toBeGreaterThanOrEqual(5);
		expect(partial).toEqual([...partial].sort((a, b) => a - b));
		expect(final).toMatch(/^\[offline responder\]/);
		expect(Number(await answer.getAttribute("data-tokens"))).toBeGreaterThanOrEqual(5);
		expect(await answer.locator(".tool .tool-result").first().textContent()).toMatch(/→|failed/);
		expect(await text("#chat-provider")).toContain("offline responder");
	});

	it("a running answer can be cancelled", async () => {
		await page.fill("#chat-input", "Tell me everything about the sessions and the pages they visited");
		await page.click("#chat-send");
		const answer = page.locator("#chat-log .msg-assistant").last();
		await expect.poll(async () => Number(await answer.getAttribute("data-tokens")), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
		await page.click("#chat-cancel");
		await expect.poll(() => answer.getAttribute("data-state"), { timeout: 10_000 }).toBe("cancelled");
		expect(await page.locator("#chat-cancel").isDisabled()).toBe(true);
	});

	it("cameras appear with their first frame, online, with their latest analysis", async () => {
		const target = { endpoint: roost.url, org, key: apiKey };
		for (let i = 0; i < 3; i++) {
			for (const camera of ["door", "lobby"]) {
				expect((await postFrame(target, camera, patternFrame(i * 4, { cycle: 30 }), `${camera}-${i}`)).ok).toBe(true);
			}
		}
		for (const camera of ["door", "lobby"]) {
			await page.waitForSelector(`#camera-grid [data-camera="${camera}"][data-status="online"] .facts`, { timeout: 15_000 });
			expect(await text(`#camera-grid [data-camera="${camera}"] .facts`)).toContain("Brightness");
		}
		// The square moved between frames: the analysis found changed regions, drawn over the frame.
		expect(await page.locator('#camera-grid [data-camera="door"] svg .region').count()).toBeGreaterThan(0);
		// Camera batches close every 3 s here, and reach the org as cctv interactions.
		await page.waitForSelector("#feed-list li[data-interaction] .source-cctv", { timeout: 15_000 });
	});

	it("patterns and rollups: asks the org to roll up now, and shows rollups, patterns and the report of a period", async () => {
		// A fresh org has no complete hour yet, so the real answer is that there is nothing to roll up.
		await page.click('#patterns [role=tab][data-period="hourly"]');
		await page.click("#roll-up-now");
		await expect.poll(() => text("#patterns-status"), { timeout: 10_000 }).toMatch(/already rolled up|Rolled up the last hourly window/);
		expect(await page.locator("#patterns-chart canvas").count()).toBeGreaterThan(0);

		// With rollups to show (the API's own example shape, three hours), the chart, table, patterns and report fill in.
		await page.route("**/patterns?*", (route) =>
			route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(patternsFixture()) }),
		);
		await page.click('#patterns [role=tab][data-period="daily"]');
		await page.click('#patterns [role=tab][data-period="hourly"]');
		await expect.poll(() => page.locator("#rollup-table tbody tr[data-window]").count()).toBe(3);
		expect(await text("#rollup-table tbody tr[data-window] td")).toBe("60");
		expect(await text("#pattern-list li[data-pattern]")).toContain("baseline of 10");
		expect(await text("#report .headline")).toBe("Traffic spiked at 10:00");
		expect(await page.locator("#patterns [role=tab][aria-selected=true]").textContent()).toBe("hourly");
		await page.screenshot({
			path: `${SHOTS}/patterns-with-rollups.png`,
			clip: (await page.locator("#patterns").boundingBox()) ?? undefined,
		});
		await page.unroute("**/patterns?*");
	});

	it("the Operations view shows each kind's health from the org's report, and turns red past the thresholds with parked work to act on", async () => {
		await page.waitForSelector('#ops-kinds tr[data-kind="session"]', { timeout: 15_000 });
		for (const kind of ["org", "session", "camera"]) {
			expect(await page.getAttribute(`#ops-kinds tr[data-kind="${kind}"]`, "data-status")).toMatch(/^(ok|amber|red)$/);
		}
		expect(await text("#ops-parked")).toContain("Nothing parked");
		// A report past the thresholds (a stuck message, parked work), as the server would give it: the view follows it.
		const red = {
			followed: 3,
			probed: 3,
			outboxPending: 2,
			oldestUndeliveredAgeMs: 7_200_000,
			overdueTimers: 0,
			parked: 1,
			sockets: 0,
			snapshotLagEvents: 4,
			storageBytes: 65_536,
		};
		await page.route("**/health", (route) =>
			route.fulfill({
				json: {
					status: "red",
					kinds: { session: { ...red, status: "red" }, camera: { ...red, parked: 0, oldestUndeliveredAgeMs: 600_000, status: "amber" } },
					thresholds: {},
				},
			}),
		);
		const item = {
			id: "session.s-stuck.7",
			actor: { kind: "session", id: "s-stuck" },
			work: "outbox",
			name: "m1",
			reason: "attempts",
			attempts: 50,
			lastError: "boom",
			parkedAt: 0,
			ageMs: 60_000,
		};
		await page.route("**/parked?*", (route) => route.fulfill({ json: { items: [item], next: null, total: 1 } }));
		try {
			await page.waitForSelector('#ops-kinds tr[data-kind="session"][data-status="red"].ops-red', { timeout: 15_000 });
			expect(await page.getAttribute('#ops-kinds tr[data-kind="camera"]', "data-status")).toBe("amber");
			expect(await text("#ops-status")).toBe("red");
			expect(await text('#ops-parked li[data-id="session.s-stuck.7"]')).toContain("50 attempts");
			await page.screenshot({ path: "test-results/dashboard/operations-red.png" });
		} finally {
			await page.unroute("**/health");
			await page.unroute("**/parked?*");
		}
	});

	it("when the network drops, the banner shows; when it is back, every view catches up without duplicates", async () => {
		const before = await sockets();
		const orgBefore = before.find((s) => s.name === "org");
		expect(orgBefore?.state).toBe("open");

		proxy.cut();
		await page.waitForSelector('#offline-banner[data-state="offline"]:not([hidden])', { timeout: 10_000 });
		expect(await text("#offline-banner")).toMatch(/Reconnecting/);
		await page.evaluate("window.scrollTo(0, 0)");
		await page.screenshot({ path: `${SHOTS}/offline-banner.png` });

		// While the dashboard is cut off, a visit starts and ends (4 s without events) and reaches the org.
		const visitor = `outage-${Date.now()}`;
		const ts = Date.now();
		const res = await fetch(`${roost.url}/v1/orgs/${org}/sessions/${visitor}/events`, {
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
			body: JSON.stringify({
				events: [
					{ id: "p1", type: "session.page_viewed", ts, data: { url: "https://shop.example/during-outage", path: "/during-outage" } },
					{ id: "c1", type: "session.clicked", ts: ts + 1, data: { target: "main > button#buy" } },
				],
			}),
		});
		expect(res.status).toBe(202);
		const interactionId = `session:${visitor}:visit-1`;
		await waitUntil("the outage visit's interaction", async () => {
			const body = await api<{ interactions: { id: string }[] }>("/interactions?limit=1000");
			return body.interactions.some((i) => i.id === interactionId);
		});
		expect(await page.locator("#offline-banner").isVisible()).toBe(true);

		proxy.restore();
		outageEndedAt = Date.now();
		await page.waitForSelector('#offline-banner[data-state="back"]', { timeout: 15_000 });
		await page.waitForSelector(`#feed-list li[data-interaction="${interactionId}"]`, { timeout: 10_000 });
		await page.waitForSelector("#offline-banner", { state: "hidden", timeout: 10_000 });

		// Caught up: the missed interaction once, no row twice, the ended visit not listed as active.
		expect(await page.locator(`#feed-list li[data-interaction="${interactionId}"]`).count()).toBe(1);
		const feedIds = await page
			.locator("#feed-list li[data-interaction]")
			.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-interaction")));
		expect(new Set(feedIds).size).toBe(feedIds.length);
		const sessionIds = await page
			.locator("#session-list li[data-session]")
			.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-session")));
		expect(new Set(sessionIds).size).toBe(sessionIds.length);
		expect(sessionIds).not.toContain(visitor);

		// Every socket reconnected from its cursor: nothing was sent twice, and the org socket moved on.
		const after = await sockets();
		const orgAfter = after.find((s) => s.name === "org");
		expect(orgAfter?.connections).toBeGreaterThanOrEqual(2);
		expect(orgAfter?.cursor).toBeGreaterThan(orgBefore?.cursor ?? 0);
		expect(orgAfter?.state).toBe("open");
		for (const socket of after) {
			expect(socket.duplicates, socket.name).toBe(0);
			// Demo visitors keep arriving, so a session socket may have just been opened.
			expect(["open", "connecting"], socket.name).toContain(socket.state);
		}
		const orgLog = await api<{ version: number }>("");
		expect(orgAfter?.cursor).toBeLessThanOrEqual(orgLog.version);
		expect(await page.evaluate(() => window.loadedOnce)).toBe(true);
	});

	it("every view fits a laptop and a phone screen (screenshots in test-results/dashboard)", async () => {
		// The main view as docs/dashboard.png shows it: a roomy laptop screen, scrolled to the top.
		await page.setViewportSize({ width: 1440, height: 1240 });
		await page.evaluate("window.scrollTo(0, 0)");
		await page.screenshot({ path: `${SHOTS}/main-view.png` });
		await page.setViewportSize(LAPTOP);
		await screenshots("laptop");
		await page.setViewportSize(PHONE);
		await page.waitForTimeout(300);
		const overflow = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? 0);
		expect(overflow).toBeLessThanOrEqual(PHONE.width);
		await screenshots("phone");
		await page.setViewportSize(LAPTOP);
	});

	it("a reload keeps the sign-in for the tab and comes back live (in dark mode, for a screenshot of that too)", async () => {
		await page.emulateMedia({ colorScheme: "dark" });
		await page.reload();
		await page.waitForSelector("#app:not([hidden])");
		await page.waitForSelector('#live-status[data-state="live"]');
		expect(await page.locator("#sign-in").isHidden()).toBe(true);
		await page.waitForSelector("#feed-list li[data-interaction]");
		await page.screenshot({ path: `${SHOTS}/main-view-dark.png` });
		await page.emulateMedia({ colorScheme: "light" });
	});

	it("opens every socket with a single-use ticket, never with the API key in the URL", () => {
		expect(socketUrls.length).toBeGreaterThan(0);
		for (const url of socketUrls) {
			expect(new URL(url).searchParams.get("ticket")).toMatch(/^rt_/);
			expect(url).not.toContain("token=");
			expect(url).not.toContain(encodeURIComponent(apiKey));
		}
		expect(new Set(socketUrls.map((url) => new URL(url).searchParams.get("ticket"))).size).toBe(socketUrls.length);
	});

	it("logs no console errors, except the browser's own reports of connections failing while the network was cut", () => {
		const outside = problems.filter((p) => !p.duringOutage);
		expect(outside).toEqual([]);
		// The pages' CSP (web/static/_headers) refused nothing they load: scripts, styles, charts, sockets.
		expect(problems.filter((p) => /Content Security Policy/i.test(p.text))).toEqual([]);
		for (const p of problems) expect(p.text).toMatch(/WebSocket connection to .* failed|net::ERR_|Failed to load resource/);
	});
});

/** GET /patterns?period=hourly as docs/api.md shows it: three hours, a spike in the newest, and its report. */
function patternsFixture() {
	const hour = 3_600_000;
	const newest = Math.floor(Date.now() / hour) * hour - hour;
	const rollup = (start: number, interactions: number) => ({
		period: "hourly",
		start,
		end: start + hour,
		label: new Date(start).toISOString().slice(0, 16).concat("Z"),
		metrics: {
			interactions,
			bySource: { web: interactions - 2, cctv: 2, chat: 0 },
			web: {
				sessions: interactions - 2,
				events: interactions * 5,
				pageViews: interactions * 3,
				clicks: interactions * 2,
				errors: 0,
				medianSessionMs: 30_000,
				p90SessionMs: 54_000,
				topPages: [{ path: "/", visits: interactions - 2 }],
				topClickTargets: [],
			},
			cctv: { episodes: 2, frames: 40, motionFrames: 12, motionMs: 6000, peopleSeen: 1, offlineMs: 0 },
			chat: { conversations: 0, messages: 0, toolCalls: [] },
			late: 0,
		},
	});
	return {
		period: "hourly",
		rollups: [rollup(newest, 60), rollup(newest - hour, 11), rollup(newest - 2 * hour, 9)],
		patterns: [
			{
				id: `pattern:hourly:${newest}:spike:interactions`,
				type: "spike",
				period: "hourly",
				window: { start: newest, end: newest + hour },
				source: "all",
				metric: "interactions",
				value: 60,
				confidence: 0.98,
				baseline: { mean: 10, std: 1.4, n: 24, from: newest - 24 * hour, to: newest },
				detail: "interactions was 60 against a baseline of 10 ± 1.4 (z = 15.8)",
			},
		],
		reports: [
			{
				period: "hourly",
				start: newest,
				end: newest + hour,
				provider: "offline",
				report: { headline: "Traffic spiked at 10:00", highlights: ["60 interactions, six times the usual"], concerns: ["No errors"] },
			},
		],
	};
}
