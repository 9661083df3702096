/// <reference types="node" />
/**
 * The replay and debug console (/console, served by the Worker as static assets) in Debian's Chromium against
 * the real Worker on a local workerd: sign in, pick a session, step through its versions and watch the diff
 * change, raw beside upcast, a tampered row found by verify and highlighted, what-if replay, a causation link
 * to another actor, fork, and export then import. Screenshots go to test-results/console/.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patternFrame, postFrame } from "../../scripts/camera-uploader.mjs";
import { type ExportedEvent, foldStored, parseNdjson } from "../../src/cli/chain.ts";
import { sessionDefinition } from "../../src/reducers/session.ts";
import { launchChromium } from "./chromium.ts";
import { type LocalRoost, PAGE_SECURITY_HEADERS, securityHeadersOf, startLocalRoost } from "./local-roost.ts";
import { tamperStoredEvent } from "./tamper.ts";

interface Current {
	actor: string;
	/** The actor's version is read and a version is shown. */
	ready: boolean;
	version: number;
	max: number;
	brokenAt: number | null;
}

/** The page's globals the functions run in the page use (this project is typed for Workers, not the DOM). */
declare const window: { roostConsole?: { current(): Current | null } };

const SHOTS = "test-results/console";
let roost: LocalRoost;
let persist: string;
let browser: Browser;
let page: Page;
let org: string;
let apiKey: string;
let session: string;
let events: ExportedEvent[];
const errors: string[] = [];

async function api<T>(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
	const res = await fetch(`${roost.url}/v1/orgs/${org}${path}`, {
		method: init.method ?? "GET",
		headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...init.headers },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

async function rawEvents(path: string): Promise<ExportedEvent[]> {
	return (await api<{ events: ExportedEvent[] }>(`${path}/events?raw=true&limit=1000`)).events;
}

let tick = 0;
/** A visit of `count` events: page views (every third one in the old v1 shape), clicks and a custom event. */
async function visit(id: string, count: number, correlation: string): Promise<void> {
	const batch = Array.from({ length: count }, (_, i) => {
		const ts = 1_700_000_000_000 + tick++ * 1000;
		if (i % 3 === 2)
			return { id: `${id}-${i}`, type: "session.page_viewed", v: 1, ts, data: { url: `https://shop.example/old/${i}?ref=mail` } };
		if (i % 3 === 1) return { id: `${id}-${i}`, type: "session.clicked", ts, data: { target: `#buy-${i}` } };
		return { id: `${id}-${i}`, type: "session.page_viewed", ts, data: { url: `https://shop.example/p${i}`, path: `/p${i}` } };
	});
	for (let i = 0; i < batch.length; i += 5) {
		await api(`/sessions/${id}/events`, {
			method: "POST",
			body: { events: batch.slice(i, i + 5) },
			headers: { "x-correlation-id": correlation },
		});
	}
}

const current = () => page.evaluate(() => window.roostConsole?.current() ?? null);

async function waitFor(what: string, check: (c: Current) => boolean, timeoutMs = 10_000): Promise<Current> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const c = await current();
		if (c?.ready && check(c)) return c;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the console shows ${JSON.stringify(c)}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

const diffText = async () => (await page.locator("#diff-body").textContent()) ?? "";

beforeAll(async () => {
	persist = await mkdtemp(join(tmpdir(), "roost-console-"));
	roost = await startLocalRoost({ vars: { SNAPSHOT_EVERY: "10", RATE_LIMITS: "off" }, persist });
	({ org, apiKey } = await roost.createOrg("Console tests"));
	session = `s-${crypto.randomUUID()}`;
	await visit(session, 14, "checkout-42");
	events = await rawEvents(`/sessions/${session}`);
	browser = await launchChromium();
	const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
	page = await context.newPage();
	page.on("pageerror", (error) => errors.push(String(error)));
	page.on("console", (message) => {
		if (message.type() === "error") errors.push(message.text());
	});
	await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
	await browser?.close();
	await roost?.dispose();
	await rm(persist, { recursive: true, force: true });
});

describe("the console", () => {
	it("signs in with a key, picks a session, steps through versions and sees the diff each event made", async () => {
		const served = await page.goto(`${roost.url}/console`);
		expect(securityHeadersOf((await served?.allHeaders()) ?? {})).toEqual(PAGE_SECURITY_HEADERS);
		await page.fill("#api-key", apiKey);
		await page.click("#sign-in-form button[type=submit]");
		await page.locator(`[data-actor="sessions/${session}"]`).click();
		const opened = await waitFor("the session to open", (c) => c.actor === `sessions/${session}` && c.version === events.length);
		expect(opened.max).toBe(15);
		await expect.poll(() => page.locator("#diff-title").textContent()).toBe(`Diff made by #15 (${events[14]?.type})`);

		await page.click("#step-first");
		await waitFor("version 0", (c) => c.version === 0);
		expect(await diffText()).toContain("no event yet");

		await page.click("#step-forward");
		await waitFor("version 1", (c) => c.version === 1);
		await expect.poll(() => page.locator("#diff-title").textContent()).toBe("Diff made by #1 (session.started)");
		const first = await diffText();
		expect(first).toContain("status");

		await page.click("#step-forward");
		await waitFor("version 2", (c) => c.version === 2);
		await expect.poll(() => page.locator("#diff-title").textContent()).toBe("Diff made by #2 (session.page_viewed)");
		const second = await diffText();
		expect(second).not.toBe(first);
		expect(second).toContain("pageViews");

		// The slider takes the arrow keys like any range input.
		await page.focus("#version-slider");
		await page.keyboard.press("ArrowRight");
		await waitFor("version 3", (c) => c.version === 3);
		await expect.poll(() => page.locator("#diff-title").textContent()).toBe("Diff made by #3 (session.clicked)");
		expect(await diffText()).toContain("clicks");
		expect(await page.locator('tr[data-seq="3"]').getAttribute("class")).toContain("current");

		// Every version's state is the fold of that prefix.
		for (const at of [3, 9, 15]) {
			await page.fill("#version-input", String(at));
			await page.press("#version-input", "Enter");
			await waitFor(`version ${at}`, (c) => c.version === at);
			await expect
				.poll(async () => JSON.parse((await page.locator("#state-json").textContent()) ?? "null"))
				.toEqual(foldStored(sessionDefinition, events.slice(0, at)));
		}
		expect(page.url()).toContain(`/console#sessions/${session}@15`);
		await page.screenshot({ path: `${SHOTS}/stepping.png`, fullPage: true });
	});

	it("shows the event as stored beside its upcast form", async () => {
		const old = events.find((e) => e.type === "session.page_viewed" && e.v === 1) as ExportedEvent;
		await page.goto(`${roost.url}/console#sessions/${session}@${old.seq}`);
		await waitFor(`version ${old.seq}`, (c) => c.version === old.seq);
		await expect.poll(async () => JSON.parse((await page.locator("#event-raw").textContent()) ?? "null")).toEqual({ v: 1, data: old.data });
		const upcast = JSON.parse((await page.locator("#event-upcast").textContent()) ?? "null") as { v: number; data: { path: string } };
		expect(upcast.v).toBe(2);
		expect(upcast.data.path).toMatch(/^\/old\/\d+$/);
		// Who acted, beside the request id: the key that sent the batch, by its id.
		const principal = old.meta.principal as unknown as { kind: string; id: string };
		expect(principal).toMatchObject({ kind: "key", id: expect.stringMatching(/^key_/) });
		expect(await page.locator("#event-principal").textContent()).toBe(`key ${principal.id}`);
	});

	it("what-if replay reports that the reducers agree with every snapshot", async () => {
		await page.click("#tool-replay");
		await expect.poll(() => page.locator("#replay-verdict").textContent()).toContain("No difference");
	});

	it("finds the events of this log that share a correlation id", async () => {
		await page.locator('[data-find="correlationId"]').click();
		await expect.poll(() => page.locator("#meta-results").textContent()).toContain("carry correlationId checkout-42");
		expect(await page.locator("#meta-results .chip").count()).toBe(events.filter((e) => e.meta.correlationId === "checkout-42").length);
	});

	it("verify finds a row tampered in storage and highlights its seq", async () => {
		const target = `s-${crypto.randomUUID()}`;
		await visit(target, 11, "tamper");
		const stored = await rawEvents(`/sessions/${target}`);
		const fifth = stored[4] as ExportedEvent;
		tamperStoredEvent(persist, "SessionActor", fifth.id, { ...(fifth.data as object), forged: true });

		await page.goto(`${roost.url}/console#sessions/${target}`);
		await waitFor("the tampered session", (c) => c.actor === `sessions/${target}`);
		await page.click("#tool-verify");
		const shown = await waitFor("the broken seq", (c) => c.brokenAt === 5 && c.version === 5);
		expect(shown.brokenAt).toBe(5);
		await expect.poll(() => page.locator("#tool-status").textContent()).toContain("Chain broken at seq 5");
		await expect.poll(() => page.locator('tr[data-seq="5"]').getAttribute("class")).toContain("broken");
		expect(await page.locator("#event").textContent()).toContain("the chain breaks here");
		await page.screenshot({ path: `${SHOTS}/verify-broken.png`, fullPage: true });

		await page.goto(`${roost.url}/console#sessions/${session}`);
		await waitFor("the intact session", (c) => c.actor === `sessions/${session}`);
		await page.click("#tool-verify");
		await expect.poll(() => page.locator("#tool-status").textContent()).toContain(`Chain verified: all ${events.length} events`);
	});

	it("follows an org event's causation to the session that caused it", async () => {
		const started = await (async () => {
			for (let i = 0; i < 100; i++) {
				const page = await api<{ events: ExportedEvent[] }>("/events?type=org.visit_started&limit=1000");
				const found = page.events.find((e) => (e.data as { session: string }).session === session);
				if (found) return found;
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			throw new Error("the org never recorded the visit");
		})();
		expect(started.meta.causationActor).toBe(`session:${session}`);
		await page.goto(`${roost.url}/console#org@${started.seq}`);
		await waitFor("the org event", (c) => c.actor === "org" && c.version === started.seq);
		await page.locator("#follow-cause").click();
		const followed = await waitFor("the causing session", (c) => c.actor === `sessions/${session}`);
		// The causing event when the sender named it; otherwise the console says so and shows the session's head.
		const causation = started.meta.causationId as string;
		const cause = events.find((e) => e.id === causation);
		if (cause) expect(followed.version).toBe(cause.seq);
		else await expect.poll(() => page.locator("#notice").textContent()).toContain(`has no event with id ${causation}`);
	});

	it("follows a causation link to the exact event in the other actor when the sender named it", async () => {
		// A camera's first frame brings it online, and it tells its org, naming the camera.online event as the cause.
		const camera = `door-${crypto.randomUUID().slice(0, 8)}`;
		expect((await postFrame({ endpoint: roost.url, org, key: apiKey }, camera, patternFrame(0), `${camera}-f1`)).ok).toBe(true);
		const status = await (async () => {
			for (let i = 0; i < 100; i++) {
				const page = await api<{ events: ExportedEvent[] }>("/events?type=org.camera_status&limit=1000");
				const found = page.events.find((e) => e.meta.causationActor === `camera:${camera}`);
				if (found) return found;
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			throw new Error("the org never recorded the camera's status");
		})();
		const online = (await rawEvents(`/cameras/${camera}`)).find((e) => e.type === "camera.online") as ExportedEvent;
		expect(status.meta.causationId).toBe(online.id);

		await page.goto(`${roost.url}/console#org@${status.seq}`);
		await waitFor("the org's camera status", (c) => c.actor === "org" && c.version === status.seq);
		await page.locator("#follow-cause").click();
		await waitFor("camera.online in the camera's log", (c) => c.actor === `cameras/${camera}` && c.version === online.seq);
		await expect.poll(() => page.locator("#event-type").textContent()).toBe("camera.online");
		expect(await page.locator("#notice").isHidden()).toBe(true);
	});

	it("forks at the version shown, and opens the sandbox there", async () => {
		await page.goto(`${roost.url}/console#sessions/${session}@6`);
		await waitFor("version 6", (c) => c.actor === `sessions/${session}` && c.version === 6);
		await page.click("#tool-fork");
		const fork = await waitFor("the fork", (c) => c.actor.startsWith("sessions/sandbox-"));
		expect(fork).toMatchObject({ version: 6, max: 6 });
		const verified = await api<{ headHash: string }>(`/${fork.actor}/verify`);
		expect(verified.headHash).toBe(events[5]?.hash);
	});

	it("exports the log as NDJSON, and imports the file into a new sandbox with the same chain", async () => {
		await page.goto(`${roost.url}/console#sessions/${session}`);
		await waitFor("the session", (c) => c.actor === `sessions/${session}`);
		const [download] = await Promise.all([page.waitForEvent("download"), page.click("#tool-export")]);
		const file = join(persist, "export.ndjson");
		await download.saveAs(file);
		const exported = parseNdjson(await readFile(file, "utf8"));
		expect(exported.map((e) => e.hash)).toEqual(events.map((e) => e.hash));

		await page.setInputFiles("#import-file", file);
		const sandbox = await waitFor("the imported sandbox", (c) => c.actor.startsWith("sessions/sandbox-") && c.max === events.length);
		const verified = await api<{ ok: boolean; headHash: string }>(`/${sandbox.actor}/verify`);
		expect(verified).toMatchObject({ ok: true, headHash: events.at(-1)?.hash });
		await expect.poll(() => page.locator("#tool-status").textContent()).toContain(`Imported ${events.length} events`);
	});

	it("raised no errors in the page", () => {
		expect(errors).toEqual([]);
	});
});
