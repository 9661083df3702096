// Demo history: several weeks of a small shop's past, generated from a seed, for `npm start` to backfill into the
// demo org (scripts/demo-backfill.mjs) so rollups, patterns and reports exist on the dashboard's first load.
// Pure and deterministic: the same seed and `now` give the same visits, camera batches and chats, with the same ids,
// so a backfill that is repeated stores nothing twice.
//
// The shape: visits follow the hours of a day (quiet nights, a midday and an evening peak) and the days of a week
// (busier Thursday and Friday, quieter weekend); one day (SPIKE_DAYS_AGO) has about three times the usual visits
// (a newsletter went out), and a product launched LAUNCH_DAYS_AGO (twice the visits: its ads) becomes the most viewed
// page from that day.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SITE = "https://shop.example";

/** Whole days of history before today. */
export const HISTORY_DAYS = 28;
export const SPIKE_DAYS_AGO = 9;
export const LAUNCH_DAYS_AGO = 5;
export const LAUNCH_PAGE = "/p/trail-runner-gtx";

const PRODUCTS = [
	{ slug: "trail-runner", title: "Trail Runner", price: 129 },
	{ slug: "city-sneaker", title: "City Sneaker", price: 89 },
	{ slug: "rain-jacket", title: "Rain Jacket", price: 159 },
	{ slug: "wool-socks", title: "Wool Socks (3 pack)", price: 24 },
	{ slug: "day-pack", title: "Day Pack 20L", price: 74 },
];
const LAUNCHED = { slug: "trail-runner-gtx", title: "Trail Runner GTX", price: 169 };
const REFERRERS = ["https://www.google.com/", "https://duckduckgo.com/", "https://news.example/best-running-shoes", undefined, undefined];
/** Relative visits per UTC hour of the day. */
const HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 11, 11, 10, 9, 8, 8, 9, 10, 11, 10, 8, 5, 2];
/** Relative visits per weekday, Monday first. */
const WEEKDAYS = [1, 1, 1.05, 1.15, 1.25, 0.8, 0.7];
const QUESTIONS = [
	"How many visits did we have on {day}?",
	"Which page was viewed most on {day}?",
	"Were there any errors on {day}?",
	"What did the entrance camera see on {day}?",
];

/** mulberry32: a small seeded generator, enough for demo data. */
export function seededRandom(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10);

/** A walk of the shop as SDK events (the types and data POST .../sessions/{id}/events takes), from `start`. */
function visitEvents(rand, id, start, { launched }) {
	const pick = (items) => items[Math.floor(rand() * items.length)];
	const events = [];
	let ts = start;
	let n = 0;
	const add = (type, data) => {
		events.push({ id: `${id}-${n++}`, type, ts, data });
		ts += Math.round(5_000 + rand() * 40_000);
	};
	const view = (path, title, referrer) =>
		add("session.page_viewed", { url: `${SITE}${path}`, path, title, ...(referrer ? { referrer } : {}) });
	const click = (target, text, from) =>
		add("session.clicked", { target, text, url: `${SITE}${from}`, x: Math.round(40 + rand() * 1100), y: Math.round(60 + rand() * 800) });
	// Since the launch, many visits land on the new product (the newsletter and the ads link to it).
	const landing = launched && rand() < 0.7 ? "launch" : pick(["home", "home", "home", "category", "product", "blog"]);
	let from;
	if (landing === "launch") {
		from = `/p/${LAUNCHED.slug}`;
		view(from, `${LAUNCHED.title} — Shop`, pick(REFERRERS));
	} else if (landing === "home") {
		from = "/";
		view(from, "Shop — Outdoor gear", pick(REFERRERS));
	} else if (landing === "category") {
		from = `/c/${pick(["shoes", "jackets", "accessories"])}`;
		view(from, "Category — Shop", pick(REFERRERS));
	} else if (landing === "blog") {
		from = "/blog/how-to-choose-trail-shoes";
		view(from, "How to choose trail shoes", pick(REFERRERS));
	} else {
		from = `/p/${pick(PRODUCTS).slug}`;
		view(from, "Product — Shop", pick(REFERRERS));
	}
	const steps = 1 + Math.floor(rand() * 4);
	let product = landing === "launch" ? LAUNCHED : undefined;
	for (let s = 0; s < steps; s++) {
		const roll = rand();
		if (roll < 0.45) {
			product = launched && rand() < 0.4 ? LAUNCHED : pick(PRODUCTS);
			click(`main > div.product-grid > a[href="/p/${product.slug}"]`, product.title, from);
			from = `/p/${product.slug}`;
			view(from, `${product.title} — Shop`);
		} else if (roll < 0.65) {
			const category = pick(["shoes", "jackets", "accessories"]);
			click("header > nav.main > a", category, from);
			from = `/c/${category}`;
			view(from, "Category — Shop");
		} else if (roll < 0.85 && product) {
			click("button#add-to-cart", "Add to cart", from);
			add("session.custom", { name: "added_to_cart", props: { sku: product.slug, price: product.price, currency: "EUR" } });
			from = "/cart";
			view(from, "Your cart — Shop");
			if (rand() < 0.5) {
				click("main > section.cart > a.checkout", "Checkout", from);
				from = "/checkout";
				view(from, "Checkout — Shop");
				if (rand() < 0.7) {
					add("session.identified", { userId: `user-${1000 + Math.floor(rand() * 9000)}`, traits: { plan: pick(["guest", "member"]) } });
					add("session.custom", { name: "order_completed", props: { total: product.price, currency: "EUR" } });
					from = "/checkout/done";
					view(from, "Thank you — Shop");
				}
			}
			break;
		} else {
			click("main > section.hero > a.cta", "Shop now", from);
		}
		if (rand() < 0.03) {
			add("session.error", {
				message: "TypeError: Cannot read properties of undefined (reading 'price')",
				source: `${SITE}/assets/app.js`,
			});
		}
	}
	return events;
}

/** How many visits a day has: the weekday's share of `perDay`, some noise, and the spike. */
function visitsOn(rand, dayStart, daysAgo, perDay) {
	const weekday = (new Date(dayStart).getUTCDay() + 6) % 7;
	const noise = 0.85 + rand() * 0.3;
	// The newsletter day has four times the visits; the launch day (its ads) two and a half.
	const boost = daysAgo === SPIKE_DAYS_AGO ? 4 : daysAgo === LAUNCH_DAYS_AGO ? 2.5 : 1;
	return Math.round(perDay * (WEEKDAYS[weekday] ?? 1) * noise * boost);
}

/** An instant in the day, following HOURS, at or before `until`. */
function instantIn(rand, dayStart, until) {
	const total = HOURS.reduce((a, b) => a + b, 0);
	let roll = rand() * total;
	let hour = 0;
	for (; hour < 23 && roll >= (HOURS[hour] ?? 0); hour++) roll -= HOURS[hour] ?? 0;
	const at = dayStart + hour * HOUR + Math.floor(rand() * HOUR);
	return at <= until ? at : dayStart + Math.floor(rand() * Math.max(1, until - dayStart));
}

/**
 * A camera's batches over the opening hours (08:00 to 20:00 UTC), `hours` long each (every batch is one interaction
 * for the org), motion and people following the visits of those hours.
 */
function cameraBatches(rand, dayStart, until, busy, hours) {
	const batches = [];
	for (let hour = 8; hour < 20; hour += hours) {
		const start = dayStart + hour * HOUR;
		const end = start + hours * HOUR;
		if (end > until) break;
		const frames = 360 * hours;
		const activity = Math.min(1, ((HOURS[hour] ?? 1) / 11) * busy);
		// `motion`: the share of the frames with motion (0..1); `people`: the most in one frame.
		const motion = Math.round(activity * (0.15 + rand() * 0.25) * 1000) / 1000;
		const people = Math.round(activity * (4 + rand() * 12));
		batches.push({
			start,
			end,
			frames,
			motion,
			people,
			summary: `up to ${people} people, motion in ${Math.round(motion * 100)}% of the frames`,
		});
	}
	return batches;
}

/**
 * The history: `days` whole days before `now`'s day plus today until `endBefore` ms before `now`. `perDay` is an
 * ordinary weekday's visits. Visits start early enough to be over by then (the backfill ends them at their last event
 * plus the inactivity timeout).
 */
export function demoHistory({ seed = 24, now, days = HISTORY_DAYS, perDay = 6, endBefore = 15 * 60_000 } = {}) {
	if (typeof now !== "number") throw new Error("demoHistory needs `now` (ms)");
	const rand = seededRandom(seed);
	const today = Math.floor(now / DAY) * DAY;
	const until = now - endBefore;
	const visits = [];
	const cameras = { entrance: [], "car-park": [] };
	const byDay = [];
	for (let daysAgo = days; daysAgo >= 0; daysAgo--) {
		const dayStart = today - daysAgo * DAY;
		const launched = daysAgo <= LAUNCH_DAYS_AGO;
		let count = visitsOn(rand, dayStart, daysAgo, perDay);
		// Today only up to `until`: its share of the day so far.
		if (daysAgo === 0) count = Math.round((count * Math.max(0, until - dayStart)) / DAY);
		const pages = {};
		const starts = Array.from({ length: count }, () => instantIn(rand, dayStart, until - 5 * 60_000)).sort((a, b) => a - b);
		for (const [i, start] of starts.entries()) {
			const session = `bf-${dayOf(dayStart).replaceAll("-", "")}-${String(i).padStart(3, "0")}`;
			const events = visitEvents(rand, session, start, { launched }).filter((e) => e.ts < until);
			visits.push({ session, events });
			for (const path of new Set(events.filter((e) => e.type === "session.page_viewed").map((e) => e.data.path)))
				pages[path] = (pages[path] ?? 0) + 1;
		}
		const busy = count / perDay;
		cameras.entrance.push(...cameraBatches(rand, dayStart, until, busy, 2));
		cameras["car-park"].push(...cameraBatches(rand, dayStart, until, busy * 0.6, 4));
		byDay.push({ day: dayOf(dayStart), visits: count, pages });
	}
	return {
		visits,
		cameras: Object.entries(cameras).map(([camera, batches]) => ({ camera, batches })),
		chats: demoChats(rand, byDay, now),
		byDay,
	};
}

/** A few past conversations about the shop, each question answered with the figures of the history itself. */
function demoChats(rand, byDay, now) {
	const chats = [];
	const asked = byDay.slice(0, -1).filter((_, i) => i % 6 === 2);
	for (const [c, day] of asked.entries()) {
		const at = Date.parse(`${day.day}T00:00:00Z`) + DAY + 9 * HOUR + Math.floor(rand() * 3 * HOUR);
		if (at > now - HOUR) break;
		const messages = [];
		for (let q = 0; q < 2; q++) {
			const template = QUESTIONS[(c + q) % QUESTIONS.length] ?? QUESTIONS[0];
			const question = template.replace("{day}", day.day);
			const top = Object.entries(day.pages).sort(([, a], [, b]) => b - a)[0];
			const answer = template.startsWith("How many")
				? `${day.visits} web visits were recorded on ${day.day}.`
				: template.startsWith("Which page")
					? `${top ? `${top[0]}, in ${top[1]} of ${day.visits} visits` : "No page"} on ${day.day}.`
					: template.startsWith("Were there")
						? `A few visits on ${day.day} hit the known TypeError on the product page; nothing else.`
						: `The entrance camera saw its usual midday and evening peaks on ${day.day}.`;
			const asking = at + q * 5 * 60_000;
			messages.push({ role: "user", text: question, at: asking }, { role: "assistant", text: answer, at: asking + 4_000 });
		}
		chats.push({ chat: `bf-chat-${day.day.replaceAll("-", "")}`, messages });
	}
	return chats;
}
