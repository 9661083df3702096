/**
 * Roost's Worker on a local workerd, started the way `wrangler dev` starts it (wrangler's
 * unstable_startWorker with the repo's wrangler.jsonc), on a free loopback port with in-memory state (or a persist directory).
 */

import { expect } from "vitest";
import { unstable_startWorker } from "wrangler";

export interface EventEnvelope {
	seq: number;
	id: string;
	type: string;
	ts: number;
	data: Record<string, unknown>;
}

export interface LocalRoost {
	/** e.g. http://127.0.0.1:41234, no trailing slash. */
	url: string;
	/** A fresh org through the admin API, with its first key. */
	createOrg(name: string): Promise<{ org: string; apiKey: string }>;
	/** A session's whole log, read back through the API. */
	sessionEvents(org: string, apiKey: string, sessionId: string): Promise<EventEnvelope[]>;
	/** Polls until `predicate` holds over the session's log; returns that log. */
	waitForEvents(
		org: string,
		apiKey: string,
		sessionId: string,
		predicate: (events: EventEnvelope[]) => boolean,
		timeoutMs?: number,
	): Promise<EventEnvelope[]>;
	/** Stops the Worker: wrangler ends the local workerd with SIGKILL (no drain), so to the actors it is a crash. */
	dispose(): Promise<void>;
}

const ADMIN_TOKEN = "roost-dev-admin";

/**
 * `vars` override wrangler.jsonc's vars for this Worker (e.g. a short SESSION_INACTIVITY_MS). `persist` keeps
 * the state in that directory instead of memory (so a test can reach the actors' SQLite files, see tamper.ts, or
 * start the Worker again on the same state after `dispose`, see test/node/webhooks-load.test.ts).
 * `entrypoint` runs another entry with the same configuration (fault-worker.ts: Roost plus a route that arms a fault).
 */
export async function startLocalRoost(
	options: { vars?: Record<string, string>; persist?: string; entrypoint?: string } = {},
): Promise<LocalRoost> {
	const worker = await unstable_startWorker({
		config: "wrangler.jsonc",
		...(options.entrypoint ? { entrypoint: options.entrypoint } : {}),
		bindings: Object.fromEntries(Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: "plain_text", value }])),
		dev: {
			server: { hostname: "127.0.0.1", port: 0 },
			inspector: false,
			persist: options.persist ?? false,
			watch: false,
			logLevel: "error",
		},
	});
	await worker.ready;
	const url = (await worker.url).origin;

	const sessionEvents = async (org: string, apiKey: string, sessionId: string) => {
		const events: EventEnvelope[] = [];
		let after = 0;
		for (;;) {
			const res = await fetch(`${url}/v1/orgs/${org}/sessions/${sessionId}/events?after=${after}&limit=1000`, {
				headers: { authorization: `Bearer ${apiKey}` },
			});
			if (res.status !== 200) throw new Error(`GET events: ${res.status} ${await res.text()}`);
			const page = (await res.json()) as { events: EventEnvelope[]; next: number | null };
			events.push(...page.events);
			if (page.next === null) return events;
			after = page.next;
		}
	};

	return {
		url,
		async createOrg(name) {
			const res = await fetch(`${url}/v1/orgs`, {
				method: "POST",
				headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
				body: JSON.stringify({ name }),
			});
			if (res.status !== 201) throw new Error(`POST /v1/orgs: ${res.status} ${await res.text()}`);
			const body = (await res.json()) as { org: { id: string }; apiKey: string };
			return { org: body.org.id, apiKey: body.apiKey };
		},
		sessionEvents,
		async waitForEvents(org, apiKey, sessionId, predicate, timeoutMs = 10_000) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const events = await sessionEvents(org, apiKey, sessionId);
				if (predicate(events)) return events;
				if (Date.now() > deadline) throw new Error(`timed out; the log has ${JSON.stringify(events.map((e) => e.type))}`);
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		},
		dispose: () => worker.dispose(),
	};
}

/** The security headers every page carries (web/static/_headers): a strict CSP, no sniffing, no Referer, no framing. */
export function securityHeadersOf(headers: Headers | Record<string, string>): Record<string, string | null> {
	const get = (name: string) => (headers instanceof Headers ? headers.get(name) : (headers[name] ?? null));
	return { csp: get("content-security-policy"), nosniff: get("x-content-type-options"), referrer: get("referrer-policy") };
}

export const PAGE_SECURITY_HEADERS = {
	csp: expect.stringMatching(/(^|; )script-src 'self'(;|$)/),
	nosniff: "nosniff",
	referrer: "no-referrer",
};
