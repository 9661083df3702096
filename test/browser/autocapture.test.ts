/**
 * The built SDK (dist/sdk/index.js) in Debian's Chromium, against the real Worker on a local workerd.
 * The shop page is served from another origin than the API (another loopback port), so every batch
 * goes through a CORS preflight as it would from a real website.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium.ts";
import { type EventEnvelope, type LocalRoost, startLocalRoost } from "./local-roost.ts";
import { type LoopbackServer, startCuttableProxy, startStaticSite } from "./static-site.mjs";

/** The page's globals that the functions run in the page use (this project is typed for Workers, not the DOM). */
interface PageClient {
	sessionId: string;
	stats: { buffered: number };
	flush(): Promise<unknown>;
}
declare const window: { roost: PageClient; roostErrors: unknown[] };
declare const localStorage: { getItem(key: string): string | null };

let roost: LocalRoost;
let site: LoopbackServer;
/** The API behind a proxy that can be cut, for the offline tests. */
let proxy: LoopbackServer & { down: boolean };
let SITE: string;
let browser: Browser;
let org: string;
let apiKey: string;

/** The shop page; `?api=proxy` points the SDK at the cuttable proxy, `?flush=<ms>` sets its batching interval. */
function shopPage(url: URL): string {
	const endpoint = url.searchParams.get("api") === "proxy" ? proxy.url : roost.url;
	const flushIntervalMs = Number(url.searchParams.get("flush") ?? 100);
	return `<!doctype html>
<html>
<head><title>Home</title></head>
<body>
	<nav id="main"><a href="/" data-spa>Home</a><a href="/products" data-spa>Products</a><a href="/about" data-spa>About</a></nav>
	<main>
		<button id="buy"><span class="label">Buy now</span></button>
		<ul class="products"><li><a href="#trail-runner">Trail Runner</a></li><li><a href="#city-sneaker">City Sneaker</a></li></ul>
		<div class="private"><button id="secret">Account number</button></div>
		<button id="ignored" data-roost-ignore>Not tracked</button>
		<input type="password" id="password">
	</main>
	<script type="module">
		import { createSession } from "/sdk/index.js";
		window.roostErrors = [];
		window.roost = createSession({
			endpoint: ${JSON.stringify(endpoint)},
			apiKey: ${JSON.stringify(apiKey)},
			orgId: ${JSON.stringify(org)},
			autocapture: { exclude: ".private" },
			flushIntervalMs: ${flushIntervalMs},
			retry: { minDelayMs: 100, maxDelayMs: 400 },
			onError: (error) => window.roostErrors.push(error),
		});
		// A single-page app's router: pushState, then the new title.
		for (const link of document.querySelectorAll("a[data-spa]")) {
			link.addEventListener("click", (event) => {
				event.preventDefault();
				history.pushState({}, "", link.getAttribute("href") + location.search);
				document.title = link.textContent;
			});
		}
	</script>
</body>
</html>`;
}

async function openShop(): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser.newContext();
	const page = await context.newPage();
	page.on("pageerror", (error) => console.error("page error:", error));
	return { context, page };
}

const sessionIdOf = (page: Page) => page.evaluate(() => window.roost.sessionId);
const data = (events: EventEnvelope[], type: string) => events.filter((e) => e.type === type).map((e) => e.data);

beforeAll(async () => {
	roost = await startLocalRoost();
	({ org, apiKey } = await roost.createOrg("Browser tests"));
	site = await startStaticSite(shopPage);
	proxy = await startCuttableProxy(roost.url);
	SITE = site.url;
	browser = await launchChromium();
});

afterAll(async () => {
	await browser?.close();
	await site?.close();
	await proxy?.close();
	await roost?.dispose();
});

describe("the SDK in Chromium with autocapture", () => {
	it("sends page views (history navigation included) and clicks with CSS paths, and skips excluded elements", async () => {
		const { context, page } = await openShop();
		await page.goto(`${SITE}/`);
		await page.waitForFunction(() => "roost" in window);
		const sessionId = await sessionIdOf(page);

		await page.click("nav#main >> text=Products");
		await page.click("#buy .label");
		await page.click("#secret");
		await page.click("#ignored");
		await page.click("#password");
		await page.goBack();
		await page.click("text=City Sneaker");
		await page.evaluate(() => window.roost.flush());

		const events = await roost.waitForEvents(org, apiKey, sessionId, (log) => log.length >= 7);
		expect(events.map((e) => e.type)).toEqual([
			"session.started",
			"session.page_viewed",
			"session.clicked",
			"session.page_viewed",
			"session.clicked",
			"session.page_viewed",
			"session.clicked",
		]);
		expect(data(events, "session.page_viewed")).toEqual([
			{ url: `${SITE}/`, path: "/", title: "Home" },
			{ url: `${SITE}/products`, path: "/products", title: "Products", referrer: `${SITE}/` },
			// Back to the home page: a popstate navigation. The #city-sneaker hash change after it is not a page view.
			expect.objectContaining({ url: `${SITE}/`, path: "/", referrer: `${SITE}/products` }),
		]);
		const clicks = data(events, "session.clicked");
		expect(clicks).toEqual([
			expect.objectContaining({ target: "nav#main > a:nth-of-type(2)", text: "Products", url: `${SITE}/` }),
			// The click landed on the span inside the button: it is recorded as a click on the button.
			expect.objectContaining({ target: "button#buy", text: "Buy now", url: `${SITE}/products` }),
			expect.objectContaining({ target: "main > ul.products > li:nth-of-type(2) > a", text: "City Sneaker" }),
		]);
		for (const click of clicks) {
			expect(click.x).toEqual(expect.any(Number));
			expect(click.y).toEqual(expect.any(Number));
		}
		expect(await page.evaluate(() => window.roostErrors)).toEqual([]);
		await context.close();
	});

	it("events recorded while the API is unreachable survive a reload and arrive once it is back", async () => {
		const { context, page } = await openShop();
		proxy.down = true;
		await page.goto(`${SITE}/?api=proxy`);
		await page.waitForFunction(() => "roost" in window);
		const sessionId = await sessionIdOf(page);
		await page.click("#buy");
		await page.click("nav#main >> text=Products");
		await page.waitForFunction(() => {
			const stored = Object.keys(localStorage).find((key) => key.startsWith("roost:buffer:"));
			return stored !== undefined && JSON.parse(localStorage.getItem(stored) ?? "{}").events?.length === 4;
		});

		await page.reload();
		await page.waitForFunction(() => "roost" in window);
		// sessionStorage kept the session across the reload, and the buffer came back from localStorage.
		expect(await sessionIdOf(page)).toBe(sessionId);
		expect(await page.evaluate(() => window.roost.stats.buffered)).toBe(5);
		expect(await roost.sessionEvents(org, apiKey, sessionId)).toEqual([]);

		proxy.down = false;
		const events = await roost.waitForEvents(org, apiKey, sessionId, (log) => log.length >= 6);
		expect(events.map((e) => e.type)).toEqual([
			"session.started",
			"session.page_viewed",
			"session.clicked",
			"session.clicked",
			"session.page_viewed",
			"session.page_viewed",
		]);
		expect(data(events, "session.page_viewed").map((d) => d.path)).toEqual(["/", "/products", "/products"]);
		expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
		// Delivered events leave the stored buffer.
		await page.waitForFunction(() => !Object.keys(localStorage).some((key) => key.startsWith("roost:buffer:")));
		await context.close();
	});

	it("events still waiting when the page goes away leave with a keepalive request", async () => {
		const { context, page } = await openShop();
		// A batching interval longer than the visit: only the page's exit can send these.
		await page.goto(`${SITE}/?flush=600000`);
		await page.waitForFunction(() => "roost" in window);
		const sessionId = await sessionIdOf(page);
		await page.click("#buy");
		await page.goto("about:blank");
		const events = await roost.waitForEvents(org, apiKey, sessionId, (log) => log.length >= 3);
		expect(events.map((e) => e.type)).toEqual(["session.started", "session.page_viewed", "session.clicked"]);
		await context.close();
	});
});
