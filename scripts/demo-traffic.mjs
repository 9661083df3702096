#!/usr/bin/env node
// Demo traffic: simulated visitors of a small shop, sent through the built SDK (dist/sdk) to a local
// Roost, so the dashboard has life on a bare machine. Bounded and polite: a few visitors a minute, each
// a short visit of 3 to 10 events over a minute or two, at most a handful at once.
//
// `npm start` runs it against the demo org (`npm start -- --no-demo` turns it off). On its own:
//   node scripts/demo-traffic.mjs [--once]      (reads .wrangler/roost-demo.json, or ROOST_ENDPOINT/ROOST_ORG/ROOST_API_KEY)
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = fileURLToPath(new URL("../dist/sdk/index.js", import.meta.url));
const sdkSources = fileURLToPath(new URL("../src/sdk/", import.meta.url));

const SITE = "https://shop.example";
const PRODUCTS = [
	{ slug: "trail-runner", title: "Trail Runner", price: 129 },
	{ slug: "city-sneaker", title: "City Sneaker", price: 89 },
	{ slug: "rain-jacket", title: "Rain Jacket", price: 159 },
	{ slug: "wool-socks", title: "Wool Socks (3 pack)", price: 24 },
	{ slug: "day-pack", title: "Day Pack 20L", price: 74 },
];
const REFERRERS = ["https://www.google.com/", "https://duckduckgo.com/", "https://news.example/best-running-shoes", undefined, undefined];
const SEARCHES = ["shoes", "jacket", "socks", "waterproof", "gift"];

/** Where a visitor goes next from each kind of page, with weights; "leave" ends the visit early. */
const NEXT = {
	home: { category: 5, product: 3, search: 2, blog: 1, leave: 1 },
	category: { product: 6, category: 1, search: 1, leave: 1 },
	search: { product: 5, search: 1, leave: 1 },
	product: { cart: 4, product: 2, category: 2, leave: 2 },
	blog: { product: 2, home: 2, leave: 2 },
	cart: { checkout: 5, product: 1, leave: 2 },
	checkout: { done: 6, cart: 1, leave: 1 },
	done: { home: 1, leave: 3 },
};

const pick = (items) => items[Math.floor(Math.random() * items.length)];
const between = (min, max) => min + Math.random() * (max - min);

function weighted(weights) {
	const entries = Object.entries(weights);
	let roll = Math.random() * entries.reduce((n, [, w]) => n + w, 0);
	for (const [key, weight] of entries) {
		roll -= weight;
		if (roll <= 0) return key;
	}
	return entries[0][0];
}

/** One page of the shop: its URL and title, and the click that leads to it from the page before. */
function pageOf(kind, visit) {
	switch (kind) {
		case "home":
			return { url: `${SITE}/`, title: "Shop — Outdoor gear", click: { target: "header > a.logo", text: "Shop" } };
		case "category": {
			const category = pick(["shoes", "jackets", "accessories"]);
			return {
				url: `${SITE}/c/${category}?sort=${pick(["popular", "new", "price"])}`,
				title: `${category[0].toUpperCase()}${category.slice(1)} — Shop`,
				click: { target: `header > nav.main > a:nth-of-type(${1 + Math.floor(Math.random() * 3)})`, text: category },
			};
		}
		case "search": {
			const q = pick(SEARCHES);
			return { url: `${SITE}/search?q=${q}`, title: `“${q}” — Shop`, click: { target: "header > form#search > button", text: "Search" } };
		}
		case "product": {
			visit.product = pick(PRODUCTS);
			const position = 1 + PRODUCTS.indexOf(visit.product);
			return {
				url: `${SITE}/p/${visit.product.slug}`,
				title: `${visit.product.title} — Shop`,
				click: { target: `main > div.product-grid > article:nth-of-type(${position}) > a`, text: visit.product.title },
			};
		}
		case "blog":
			return {
				url: `${SITE}/blog/how-to-choose-trail-shoes`,
				title: "How to choose trail shoes",
				click: { target: "footer > a.blog", text: "Blog" },
			};
		case "cart":
			return { url: `${SITE}/cart`, title: "Your cart — Shop", click: { target: "button#add-to-cart", text: "Add to cart" } };
		case "checkout":
			return { url: `${SITE}/checkout`, title: "Checkout — Shop", click: { target: "main > section.cart > a.checkout", text: "Checkout" } };
		default:
			return {
				url: `${SITE}/checkout/done`,
				title: "Thank you — Shop",
				click: { target: "form#pay > button[type=submit]", text: "Pay now" },
			};
	}
}

/** A visit as a list of SDK calls: a first page, then clicks and page views along a walk of the shop. */
function plan() {
	const budget = 3 + Math.floor(Math.random() * 8);
	const visit = { product: undefined };
	const steps = [];
	let kind = weighted({ home: 5, product: 2, blog: 1, category: 2 });
	let page = pageOf(kind, visit);
	steps.push((s) => s.page(page.url, page.title, pick(REFERRERS)));
	let previous = page.url;
	while (steps.length < budget) {
		const next = weighted(NEXT[kind]);
		if (next === "leave") break;
		kind = next;
		page = pageOf(kind, visit);
		const { click, url, title } = page;
		const from = previous;
		steps.push((s) =>
			s.track("session.clicked", { ...click, url: from, x: Math.round(between(40, 1200)), y: Math.round(between(60, 900)) }),
		);
		if (steps.length >= budget) break;
		steps.push((s) => s.page(url, title, from));
		previous = url;
		const product = visit.product;
		if (kind === "cart" && product && steps.length < budget) {
			steps.push((s) => s.track("added_to_cart", { sku: product.slug, price: product.price, currency: "EUR" }));
		}
		if (kind === "checkout" && Math.random() < 0.6 && steps.length < budget) {
			const userId = `user-${1000 + Math.floor(Math.random() * 9000)}`;
			steps.push((s) => s.identify(userId, { plan: pick(["guest", "member"]) }));
		}
		if (kind === "done" && steps.length < budget)
			steps.push((s) => s.track("order_completed", { total: product?.price ?? 0, currency: "EUR" }));
		if (Math.random() < 0.04 && steps.length < budget) {
			steps.push((s) =>
				s.track("session.error", {
					message: "TypeError: Cannot read properties of undefined (reading 'price')",
					source: `${SITE}/assets/app.js`,
					url,
				}),
			);
		}
	}
	// Too short a walk (an early leave): the visitor looks around the page before going.
	while (steps.length < 3) {
		const at = previous;
		steps.push((s) => s.track("session.clicked", { target: "main > section.hero > a.cta", text: "Shop now", url: at }));
	}
	return steps;
}

/** Waits `ms`, or less if `signal` aborts (it then resolves, never rejects). */
const sleep = (ms, signal) => delay(ms, undefined, { signal }).catch(() => {});

/** Builds dist/sdk when it is missing or older than its sources. */
export function ensureSdkBuilt() {
	const newestSource = Math.max(...readdirSync(sdkSources).map((name) => statSync(`${sdkSources}${name}`).mtimeMs));
	if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource) return;
	execFileSync("npm", ["run", "--silent", "build:sdk"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}

/** Loads the built SDK (building it first when needed). */
export async function loadSdk() {
	ensureSdkBuilt();
	return import(pathToFileURL(bundle).href);
}

/**
 * One visitor: a walk of the shop as 3 to 10 events spread over `visitMs`, then close (which flushes).
 * An aborted `signal` ends the walk early. Resolves with the session id and its stats.
 */
export async function simulateVisit({ sdk, endpoint, orgId, apiKey, visitMs, flushIntervalMs = 3000, signal, onError = () => {} }) {
	const steps = plan();
	const session = sdk.createSession({ endpoint, apiKey, orgId, storage: "memory", flushIntervalMs });
	session.on("error", onError);
	try {
		for (const [i, step] of steps.entries()) {
			if (signal?.aborted) break;
			step(session);
			if (i < steps.length - 1) await sleep(between(0.5, 1.5) * (visitMs / (steps.length - 1)), signal);
		}
	} finally {
		await session.close();
	}
	return { sessionId: session.sessionId, stats: session.stats };
}

/**
 * Starts simulated visitors against `endpoint`: `visitorsPerMinute` arrive at random (at most
 * `maxConcurrent` at once), each spreading its events over `visitSeconds`. `timeScale` shrinks every
 * wait (tests). Returns `stop()`, which lets no new visitor in and flushes the ones inside.
 */
export async function startDemoTraffic({
	endpoint,
	orgId,
	apiKey,
	visitorsPerMinute = 4,
	maxConcurrent = 6,
	visitSeconds = [60, 120],
	timeScale = 1,
	onVisit = () => {},
	log = console,
}) {
	const sdk = await loadSdk();
	const stopping = new AbortController();
	const inside = new Set();
	let warned = false;
	const onError = (error) => {
		// One line, not one per event: a server that is down for a while would flood the terminal.
		if (warned) return;
		warned = true;
		log.warn(`demo traffic: ${error.kind}: ${error.message ?? JSON.stringify(error)} (further errors not shown)`);
	};

	const arrive = () => {
		const visitMs = between(visitSeconds[0], visitSeconds[1]) * 1000 * timeScale;
		const running = simulateVisit({
			sdk,
			endpoint,
			orgId,
			apiKey,
			visitMs,
			flushIntervalMs: 3000 * timeScale,
			signal: stopping.signal,
			onError,
		})
			.then(onVisit, (error) => onError({ kind: "visit", message: String(error) }))
			.finally(() => inside.delete(running));
		inside.add(running);
	};

	const arrivals = (async () => {
		const meanGapMs = (60_000 / visitorsPerMinute) * timeScale;
		while (!stopping.signal.aborted) {
			if (inside.size < maxConcurrent) arrive();
			// Exponential gaps: arrivals at random, `visitorsPerMinute` on average.
			await sleep(-Math.log(1 - Math.random()) * meanGapMs, stopping.signal);
		}
	})();

	return {
		async stop() {
			stopping.abort();
			await arrivals;
			await Promise.allSettled([...inside]);
		},
	};
}

function demoTarget() {
	if (process.env.ROOST_ORG && process.env.ROOST_API_KEY) {
		return {
			endpoint: process.env.ROOST_ENDPOINT ?? "http://localhost:8787",
			org: process.env.ROOST_ORG,
			apiKey: process.env.ROOST_API_KEY,
		};
	}
	const saved = JSON.parse(readFileSync(fileURLToPath(new URL("../.wrangler/roost-demo.json", import.meta.url)), "utf8"));
	// Visitors send as a web page does, with the ingest key npm start keeps (older saved files have only the full key).
	return {
		endpoint: process.env.ROOST_ENDPOINT ?? `http://localhost:${process.env.PORT ?? "8787"}`,
		org: saved.org,
		apiKey: saved.ingestKey ?? saved.apiKey,
	};
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	const target = demoTarget();
	const common = { endpoint: target.endpoint, orgId: target.org, apiKey: target.apiKey };
	if (process.argv.includes("--once")) {
		const { sessionId, stats } = await simulateVisit({
			...common,
			sdk: await loadSdk(),
			visitMs: 3000,
			flushIntervalMs: 500,
			onError: console.warn,
		});
		console.log(`demo visit ${sessionId}: ${stats.accepted} events stored, ${stats.rejected} refused, ${stats.buffered} not sent`);
	} else {
		const traffic = await startDemoTraffic({
			...common,
			onVisit: ({ sessionId, stats }) => console.log(`demo visit ${sessionId}: ${stats.accepted} events`),
		});
		console.log(`demo traffic against ${target.endpoint}, org ${target.org}; Ctrl-C stops it`);
		for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => traffic.stop().then(() => process.exit(0)));
	}
}
