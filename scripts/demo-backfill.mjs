// Backfills the demo org with generated history (scripts/demo-history.mjs) through the admin-only backfill route,
// then rolls the past up (POST /v1/orgs/{org}/rollups), so the dashboard's rollups, patterns and reports exist on its
// first load. `npm start` runs it once per demo org; docs/api.md describes both routes.
//
// A few requests at a time: every /v1 request counts against the per-IP budget (600 a minute, shared with the
// simulated visitors, the camera and the dashboard), and a 429 is waited out as Retry-After says.
import { setTimeout as delay } from "node:timers/promises";
import { demoHistory, HISTORY_DAYS } from "./demo-history.mjs";

/** Camera batches per request: about 40 KB, well under the route's limits (500 items, 1 MiB). */
const BATCHES_PER_REQUEST = 250;
/** Requests in flight at once: enough to keep workerd busy on two cores, few enough not to starve the live demo. */
const CONCURRENCY = 6;
/**
 * Backfill requests in one minute of the clock, at most: the per-IP budget (600) counts in windows aligned to the
 * clock's minutes, and the rest (the dashboard, the visitors, the camera) needs its share of the same window.
 */
const PER_MINUTE = 350;

/** POSTs JSON, retrying 429 (after Retry-After) and 5xx or network errors a few times. Throws on a refusal. */
async function post(target, path, body, { fetch = globalThis.fetch, attempts = 5 } = {}) {
	let last = "";
	for (let attempt = 1; attempt <= attempts; attempt++) {
		try {
			const res = await fetch(`${target.endpoint}/v1/orgs/${target.org}${path}`, {
				method: "POST",
				headers: { authorization: `Bearer ${target.apiKey}`, "content-type": "application/json" },
				body: JSON.stringify(body),
			});
			const text = await res.text();
			if (res.ok) return text ? JSON.parse(text) : {};
			last = `${res.status} ${text.slice(0, 300)}`;
			if (res.status !== 429 && res.status < 500) break;
			const wait = res.status === 429 ? Number(res.headers.get("retry-after") ?? 1) * 1000 : 250 * 2 ** attempt;
			await delay(Math.min(wait, 60_000));
		} catch (error) {
			last = String(error?.message ?? error);
			await delay(250 * 2 ** attempt);
		}
	}
	throw new Error(`POST ${path} failed: ${last}`);
}

/** Runs `jobs` (functions returning promises) `concurrency` at a time; rejects with the first failure. */
async function pool(jobs, concurrency) {
	let next = 0;
	let failed = false;
	const worker = async () => {
		while (next < jobs.length && !failed) {
			const job = jobs[next++];
			try {
				await job();
			} catch (error) {
				// The others stop taking jobs: a refusal of one request is a refusal of them all (a missing route, a bad key).
				failed = true;
				throw error;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
}

/** The backfill requests for a history: one per visit, per chat, and per chunk of a camera's batches. */
export function backfillRequests(history) {
	const requests = history.visits.map(({ session, events }) => ({ source: "web", session, events }));
	for (const { camera, batches } of history.cameras) {
		for (let i = 0; i < batches.length; i += BATCHES_PER_REQUEST)
			requests.push({ source: "cctv", camera, batches: batches.slice(i, i + BATCHES_PER_REQUEST) });
	}
	for (const { chat, messages } of history.chats) requests.push({ source: "chat", chat, messages });
	return requests;
}

/**
 * Sends a history through POST /v1/orgs/{org}/backfill (an admin key). Every id in it is derived from the seed,
 * so sending the same history again stores nothing twice. Resolves with how many requests and items were accepted.
 */
export async function backfillHistory(
	target,
	history,
	{ fetch, concurrency = CONCURRENCY, perMinute = PER_MINUTE, onProgress = () => {} } = {},
) {
	const requests = backfillRequests(history);
	let done = 0;
	let accepted = 0;
	const budget = { minute: 0, used: 0 };
	/** Waits for the next minute of the clock once this one's budget is spent. */
	const turn = async () => {
		for (;;) {
			const minute = Math.floor(Date.now() / 60_000);
			if (minute !== budget.minute) Object.assign(budget, { minute, used: 0 });
			if (budget.used < perMinute) {
				budget.used++;
				return;
			}
			await delay((minute + 1) * 60_000 - Date.now() + 50);
		}
	};
	await pool(
		requests.map((body) => async () => {
			await turn();
			const answer = await post(target, "/backfill", body, { fetch });
			accepted += Number(answer.accepted ?? 0);
			onProgress(++done, requests.length);
		}),
		concurrency,
	);
	return { requests: requests.length, accepted };
}

/**
 * Rolls up every past window: each period's last complete window, with every window before it that is due (at most
 * 400 a request, so a long history takes a few). Monthly first, which brings the hours, days and weeks before it.
 */
export async function rollUpHistory(target, { fetch } = {}) {
	const made = {};
	for (const period of ["monthly", "weekly", "daily", "hourly"]) {
		made[period] = 0;
		for (let round = 0; round < 10; round++) {
			const answer = await post(target, "/rollups", { period }, { fetch });
			if (answer.duplicate) break;
			made[period]++;
		}
	}
	return made;
}

/** Waits until the org has recorded the interaction of every backfilled visit (sessions hand them over through their outbox). */
export async function waitForVisits(target, history, { fetch = globalThis.fetch, timeoutMs = 90_000 } = {}) {
	const expected = new Set(history.visits.map((v) => v.session));
	const deadline = Date.now() + timeoutMs;
	let after = 0;
	const seen = new Set();
	for (;;) {
		const res = await fetch(`${target.endpoint}/v1/orgs/${target.org}/interactions?after=${after}&limit=1000`, {
			headers: { authorization: `Bearer ${target.apiKey}` },
		});
		if (!res.ok) throw new Error(`GET /interactions answered ${res.status}`);
		const page = await res.json();
		for (const i of page.interactions) if (i.source === "web" && expected.has(i.actor.id)) seen.add(i.actor.id);
		if (page.interactions.length > 0) after = page.interactions.at(-1).seq;
		if (seen.size >= expected.size) return seen.size;
		if (page.next !== null) continue;
		if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${expected.size} backfilled visits reached the org`);
		await delay(1000);
	}
}

/**
 * The whole demo history, once: generate it (seeded, anchored at `now`), send it, wait until the org has every visit,
 * roll it up. Resolves with what `npm start` keeps as its "backfilled" marker.
 */
export async function backfillOnce(target, { now, seed = 24, days = HISTORY_DAYS, fetch, onProgress } = {}) {
	const history = demoHistory({ seed, now, days });
	const t0 = Date.now();
	const sent = await backfillHistory(target, history, { fetch, onProgress });
	const t1 = Date.now();
	await waitForVisits(target, history, { fetch });
	const t2 = Date.now();
	const rollups = await rollUpHistory(target, { fetch });
	return {
		seconds: { send: (t1 - t0) / 1000, settle: (t2 - t1) / 1000, rollUp: (Date.now() - t2) / 1000 },
		at: now,
		seed,
		days,
		visits: history.visits.length,
		cameraBatches: history.cameras.reduce((n, c) => n + c.batches.length, 0),
		chats: history.chats.length,
		requests: sent.requests,
		rollups,
	};
}
