/// <reference types="node" />
/**
 * The console's operations views in Debian's Chromium against the real Worker on a local workerd:
 * - Parked work (#21): sessions whose visit-start message to the org fails (a fault armed in the Worker's isolate
 *   through fault-worker.ts, with PARK_AFTER_ATTEMPTS=1) are parked for real, listed a page at a time, retried and
 *   discarded from the view (the API's list and the actors' logs agree), and each links to its parked event in the
 *   actor's log, where the event is marked.
 * - Webhook deliveries (#22): an endpoint on a Node HTTP receiver on 127.0.0.1 (WEBHOOKS_ALLOW_LOCAL=1) that answers
 *   500 then 200, and 410 then 200: the view shows the attempts, status, response codes and next retry, and a retry.
 * - What each role is offered, and both views at phone width (390 px). Screenshots go to test-results/console-ops/.
 */
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium.ts";
import { type LocalRoost, startLocalRoost } from "./local-roost.ts";

interface ParkedItem {
	id: string;
	actor: { kind: string; id: string };
	work: string;
	name: string;
	reason: string;
	attempts: number;
	lastError: string;
}
interface Delivery {
	id: string;
	status: string;
	attempts: number;
	responseStatus: number | null;
	ms: number | null;
	nextAttemptAt: number | null;
}

/** The page's globals a function run in the page uses (this project is typed for Workers, not the DOM). */
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

const SHOTS = "test-results/console-ops";
/** The view's page size (web/src/console/parked-view.ts). */
const PAGE = 10;
const PARKED = 12;

let roost: LocalRoost;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let org: string;
let apiKey: string;
const errors: string[] = [];

/** What the receiver answers next, in order; 200 once the script is used up. Every request is recorded. */
const script: { status: number; headers?: Record<string, string> }[] = [];
const received: { webhookId: string; status: number }[] = [];
let receiver: Server;
let receiverUrl: string;

async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<T> {
	const res = await fetch(`${roost.url}/v1/orgs/${org}${path}`, {
		method: init.method ?? "GET",
		headers: { authorization: `Bearer ${init.key ?? apiKey}`, "content-type": "application/json" },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
	return (await res.json()) as T;
}

/** expect.poll with room for a loaded machine: the page follows the Worker's outbox, which takes its time there. */
const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 10_000 });

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (done(value)) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

const parkedList = (limit = 500, after = 0) =>
	api<{ items: ParkedItem[]; next: number | null; total: number }>(`/parked?limit=${limit}&after=${after}`);

/** A session whose visit start cannot reach the org once: with PARK_AFTER_ATTEMPTS=1 it is parked, and the org lists it. */
async function parkSession(id: string, listedBefore: number): Promise<void> {
	const armed = await fetch(`${roost.url}/__test/fault`, {
		method: "POST",
		body: JSON.stringify({ point: "outbox.before-delivery", object: `${org}:${id}`, times: 1 }),
	});
	expect(armed.status).toBe(200);
	await api(`/sessions/${id}/events`, {
		method: "POST",
		body: { events: [{ id: `${id}-1`, type: "session.page_viewed", ts: Date.now(), data: { url: "https://shop.example/", path: "/" } }] },
	});
	await until(
		"the parked visit start to be listed",
		() => parkedList(),
		(list) => list.total === listedBefore + 1,
	);
}

async function signIn(target: Page, key: string, address = ""): Promise<void> {
	await target.goto(`${roost.url}/console${address}`);
	await target.fill("#api-key", key);
	await target.click("#sign-in-form button[type=submit]");
	await target.locator("#who").waitFor();
}

const rowIds = (target: Page = page) =>
	target.locator("#parked-table tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
const kernelEvents = async (session: string, type: string) =>
	(await api<{ events: { seq: number; data: Record<string, unknown> }[] }>(`/sessions/${session}/events?type=${type}`)).events;

beforeAll(async () => {
	receiver = createServer((req, res) => {
		req.resume();
		req.on("end", () => {
			const answer = script.shift() ?? { status: 200 };
			received.push({ webhookId: String(req.headers["webhook-id"]), status: answer.status });
			res.writeHead(answer.status, answer.headers);
			res.end(answer.status >= 400 ? `no, ${answer.status}` : "ok");
		});
	});
	await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
	receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
	roost = await startLocalRoost({
		entrypoint: "test/browser/fault-worker.ts",
		vars: { RATE_LIMITS: "off", PARK_AFTER_ATTEMPTS: "1", WEBHOOKS_ALLOW_LOCAL: "1" },
	});
	({ org, apiKey } = await roost.createOrg("Console ops tests"));
	browser = await launchChromium();
	context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
	page = await context.newPage();
	page.on("pageerror", (error) => errors.push(String(error)));
	await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await roost?.dispose();
	await new Promise((resolve) => receiver?.close(resolve));
});

describe("the console's Parked work view", () => {
	it("says nothing is parked when nothing is", async () => {
		await signIn(page, apiKey);
		await page.click("#nav-parked");
		await page.locator("#parked-empty").waitFor();
		expect(page.url()).toMatch(/\/console#parked$/);
		expect(await page.locator("#nav-parked").getAttribute("aria-current")).toBe("page");
		expect(await page.locator("#picker").isHidden()).toBe(true);
		await page.screenshot({ path: `${SHOTS}/parked-empty.png` });
	});

	it("lists the org's parked work a page at a time, as the API does", async () => {
		for (let i = 0; i < PARKED; i++) await parkSession(`s-parked-${String(i).padStart(2, "0")}`, i);
		const first = await parkedList(PAGE);
		expect(first.total).toBe(PARKED);
		expect(first.items[0]).toMatchObject({
			actor: { kind: "session" },
			work: "outbox",
			reason: "attempts",
			attempts: 1,
			lastError: expect.stringContaining("injected fault at outbox.before-delivery"),
		});

		await page.click("#parked-refresh");
		await eventually(() => rowIds()).toEqual(first.items.map((item) => item.id));
		expect(await page.locator("#parked-where").textContent()).toBe(`page 1: ${PAGE} of ${PARKED} parked`);
		const item = first.items[0] as ParkedItem;
		const row = page.locator(`#parked-table tr[data-id="${item.id}"]`);
		expect(await row.locator("a.parked-actor").textContent()).toBe(`session/${item.actor.id}`);
		const cells = await row.locator("td").allTextContents();
		expect(cells.slice(1, 6)).toEqual([`outbox ${item.name}`, expect.stringMatching(/^\d+ (s|min)$/), "attempts", "1", item.lastError]);
		await page.screenshot({ path: `${SHOTS}/parked-list.png`, fullPage: true });

		expect(await page.locator("#parked-prev").isDisabled()).toBe(true);
		await page.click("#parked-next");
		const second = await parkedList(PAGE, first.next ?? 0);
		await eventually(() => rowIds()).toEqual(second.items.map((i) => i.id));
		expect(second.items).toHaveLength(PARKED - PAGE);
		expect(await page.locator("#parked-next").isDisabled()).toBe(true);
		await page.click("#parked-prev");
		await eventually(() => rowIds()).toEqual(first.items.map((i) => i.id));
	}, 90_000);

	it("retries and discards an item: it leaves the list, and the API and the actor's log agree", async () => {
		const [retried, discarded] = (await parkedList(2)).items as [ParkedItem, ParkedItem];
		await page.locator(`tr[data-id="${retried.id}"] button[data-act="retry"]`).click();
		await expect.poll(() => rowIds(), { timeout: 15_000 }).not.toContain(retried.id);
		await eventually(() => page.locator("#parked-status").textContent()).toContain(`${retried.id} retried`);
		expect((await parkedList()).items.map((i) => i.id)).not.toContain(retried.id);
		expect(await kernelEvents(retried.actor.id, "kernel.parked_retried")).toHaveLength(1);
		// Retried, the visit start reached the org this time: the session's outbox owes nothing and parks nothing.
		await until(
			"the retried message to be delivered",
			() => api<{ outbox: { pending: number; parked: number } }>(`/sessions/${retried.actor.id}/health`),
			(health) => health.outbox.pending === 0 && health.outbox.parked === 0,
		);

		await page.locator(`tr[data-id="${discarded.id}"] button[data-act="discard"]`).click();
		await expect.poll(() => rowIds(), { timeout: 15_000 }).not.toContain(discarded.id);
		expect((await parkedList()).items.map((i) => i.id)).not.toContain(discarded.id);
		expect(await kernelEvents(discarded.actor.id, "kernel.parked_discarded")).toHaveLength(1);
		expect((await parkedList()).total).toBe(PARKED - 2);
		// Ten are left: one page, nothing later.
		await eventually(() => page.locator("#parked-where").textContent()).toBe(`page 1: ${PAGE} of ${PARKED - 2} parked`);
		expect(await page.locator("#parked-next").isDisabled()).toBe(true);
		await page.screenshot({ path: `${SHOTS}/parked-after-actions.png`, fullPage: true });
	}, 60_000);

	it("links each item to the event that parked it in its actor's log, marked there", async () => {
		const item = (await parkedList(1)).items[0] as ParkedItem;
		const seq = Number(item.id.split(".").at(-1));
		await page.locator(`tr[data-id="${item.id}"] a.parked-actor`).click();
		await eventually(() => page.url()).toContain(`#sessions/${item.actor.id}@${seq}`);
		await eventually(() => page.locator("#event-type").textContent()).toBe("kernel.work_parked");
		const note = (await page.locator("#parked-note").textContent({ timeout: 5000 })) ?? "";
		expect(note).toContain(`Item ${item.id}`);
		expect(note).toContain(item.lastError);
		expect(await page.locator(`tr[data-seq="${seq}"] [data-kernel="parked"]`).textContent({ timeout: 5000 })).toBe("parked");
		expect(await page.locator("#nav-actors").getAttribute("aria-current")).toBe("page");
		await page.screenshot({ path: `${SHOTS}/parked-event-in-log.png`, fullPage: true });

		// A retry is an event in the same log, marked too, and links back to the event it acted on.
		await api(`/parked/${item.id}/retry`, { method: "POST" });
		const [retry] = await until(
			"the retry event",
			() => kernelEvents(item.actor.id, "kernel.parked_retried"),
			(events) => events.length === 1,
		);
		await page.goto(`${roost.url}/console#sessions/${item.actor.id}@${retry?.seq}`);
		await eventually(() => page.locator("#event-type").textContent()).toBe("kernel.parked_retried");
		expect(await page.locator(`tr[data-seq="${retry?.seq}"] [data-kernel="retried"]`).textContent()).toBe("retried");
		await page.locator("#parked-note button").click();
		await eventually(() => page.url()).toContain(`#sessions/${item.actor.id}@${seq}`);

		// Back to the list through the note's link: the retried item is gone once the org hears of it.
		await eventually(() => page.locator("#event-type").textContent()).toBe("kernel.work_parked");
		await page.locator("#parked-note-link").click();
		await expect.poll(() => rowIds(), { timeout: 15_000 }).not.toContain(item.id);
		// Actors goes back to the actor that was open, at the version it was at.
		await page.click("#nav-actors");
		await eventually(() => page.url()).toContain(`#sessions/${item.actor.id}@${seq}`);
		expect(await page.locator("#parked").isHidden()).toBe(true);
		await eventually(() => page.locator("#event-type").textContent()).toBe("kernel.work_parked");
	}, 60_000);
});

describe("the console's Webhook deliveries view", () => {
	let webhookId: string;
	const deliveries = async () => (await api<{ deliveries: Delivery[] }>(`/webhooks/${webhookId}/deliveries`)).deliveries;
	const row = (id: string) => page.locator(`#deliveries-table tr[data-delivery="${id}"]`);
	const cell = (id: string, label: string) => row(id).locator(`td[data-label="${label}"]`).textContent();

	it("shows a delivery answered 500 then 200: retrying with the next retry, then delivered on its second attempt", async () => {
		const created = await api<{ webhook: { id: string } }>("/webhooks", {
			method: "POST",
			body: { url: `${receiverUrl}/hook`, events: ["camera.offline"], description: "console test receiver" },
		});
		webhookId = created.webhook.id;
		await page.click("#nav-webhooks");
		// The only endpoint is picked at once.
		await page.locator(`a.endpoint[data-webhook="${webhookId}"][aria-current="true"]`).waitFor();
		await page.locator("#deliveries-empty").waitFor();

		script.push({ status: 500, headers: { "retry-after": "6" } }, { status: 200 });
		await page.click("#send-test");
		await eventually(() => page.locator("#webhooks-status").textContent()).toContain("Test delivery");
		const [first] = await until("the first attempt", deliveries, (list) => list[0]?.attempts === 1);
		const id = (first as Delivery).id;
		expect(first).toMatchObject({ status: "retrying", responseStatus: 500, nextAttemptAt: expect.any(Number) });
		// The view reads the log again while a delivery is retrying.
		await expect.poll(() => cell(id, "status"), { timeout: 10_000 }).toBe("retrying");
		expect(await cell(id, "response")).toBe("500");
		expect(await cell(id, "attempts")).toBe("1");
		expect(await cell(id, "next retry")).toMatch(/^in \d+ s$/);
		await page.screenshot({ path: `${SHOTS}/webhook-retrying.png`, fullPage: true });

		await expect.poll(() => cell(id, "status"), { timeout: 15_000 }).toBe("delivered");
		expect(await cell(id, "response")).toBe("200");
		expect(await cell(id, "attempts")).toBe("2");
		expect(await cell(id, "ms")).toMatch(/^\d+$/);
		expect(await cell(id, "next retry")).toBe("—");
		expect((await deliveries()).find((d) => d.id === id)).toMatchObject({ status: "delivered", attempts: 2, responseStatus: 200 });
		expect(received.filter((r) => r.webhookId === id).map((r) => r.status)).toEqual([500, 200]);
		expect(await row(id).locator("button").count()).toBe(0);
	}, 60_000);

	it("retries a failed delivery (410, not retried by itself): sent again with the same webhook-id, then delivered", async () => {
		script.push({ status: 410 });
		const { delivery } = await api<{ delivery: string }>(`/webhooks/${webhookId}/test`, { method: "POST" });
		await until("the 410", deliveries, (list) => list.find((d) => d.id === delivery)?.status === "failed");
		await page.click("#webhooks-refresh");
		await expect.poll(() => cell(delivery, "status"), { timeout: 10_000 }).toBe("failed");
		expect(await cell(delivery, "response")).toBe("410");
		await page.screenshot({ path: `${SHOTS}/webhook-failed.png`, fullPage: true });

		await row(delivery).locator('button[data-act="retry"]').click();
		await expect.poll(() => cell(delivery, "status"), { timeout: 15_000 }).toBe("delivered");
		expect(await cell(delivery, "response")).toBe("200");
		expect((await deliveries()).find((d) => d.id === delivery)).toMatchObject({ status: "delivered", responseStatus: 200 });
		expect(received.filter((r) => r.webhookId === delivery).map((r) => r.status)).toEqual([410, 200]);

		// The status filter asks the API for one status.
		await page.selectOption("#delivery-status", "failed");
		await page.locator("#deliveries-empty").waitFor();
		await page.selectOption("#delivery-status", "delivered");
		await eventually(() => page.locator("#deliveries-table tbody tr").count()).toBe(2);
		await page.selectOption("#delivery-status", "");
		await page.screenshot({ path: `${SHOTS}/webhook-retried.png`, fullPage: true });
	}, 60_000);
});

describe("roles and phone width", () => {
	it("an analyst sees the parked work without retry or discard, and no webhooks; a viewer sees neither", async () => {
		for (const role of ["analyst", "viewer"] as const) {
			const { apiKey: key } = await api<{ apiKey: string }>("/keys", { method: "POST", body: { role } });
			const other = await context.browser()?.newContext({ viewport: { width: 1366, height: 900 } });
			const tab = (await other?.newPage()) as Page;
			await signIn(tab, key);
			expect(await tab.locator("#nav-webhooks").isHidden()).toBe(true);
			await tab.goto(`${roost.url}/console#parked`);
			if (role === "analyst") {
				expect(await tab.locator("#nav-parked").isVisible()).toBe(true);
				await eventually(() => rowIds(tab)).toEqual((await parkedList(PAGE)).items.map((i) => i.id));
				expect(await tab.locator("#parked-table button").count()).toBe(0);
				expect(await tab.locator("#parked-role").textContent()).toContain("need the admin role");
			} else {
				expect(await tab.locator("#nav-parked").isHidden()).toBe(true);
				await tab.locator("#parked-forbidden").waitFor();
			}
			await tab.goto(`${roost.url}/console#webhooks`);
			await tab.locator("#webhooks-forbidden").waitFor();
			expect(await tab.locator("#webhooks-forbidden").textContent()).toContain(`signed in as ${role}`);
			await other?.close();
		}
	}, 60_000);

	it("both views fit a phone's width (390 px)", async () => {
		const phone = await context.browser()?.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
		const tab = (await phone?.newPage()) as Page;
		await signIn(tab, apiKey, "#parked");
		await tab.locator("#parked-table").waitFor();
		const overflow = () => tab.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
		expect(await overflow()).toBeLessThanOrEqual(0);
		expect(await tab.locator("#parked-table thead").isHidden()).toBe(true);
		await tab.screenshot({ path: `${SHOTS}/phone-parked.png`, fullPage: true });
		await tab.click("#nav-webhooks");
		await tab.locator("#deliveries-table").waitFor();
		expect(await overflow()).toBeLessThanOrEqual(0);
		await tab.screenshot({ path: `${SHOTS}/phone-webhooks.png`, fullPage: true });
		await phone?.close();
		expect(errors).toEqual([]);
	});
});
