/**
 * The dashboard's Settings view and its sign-in through Cloudflare Access, in Debian's Chromium against the real Worker
 * on a local workerd. Access is configured with a key set made for the run (test/support/access-keys.ts); the browser
 * context adds the signed `Cf-Access-Jwt-Assertion` header to its requests, as the Access edge does in front of a
 * deployed Worker for a browser holding the Access cookie. Screenshots go to test-results/settings/.
 */
import { importJWK, SignJWT } from "jose";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_TEST_AUD, ACCESS_TEST_KID, ACCESS_TEST_TEAM, accessTestKeys } from "../support/access-keys.ts";
import { type LocalRoost, startLocalRoost } from "./local-roost.ts";

declare const document: { scrollingElement: { scrollWidth: number } | null };

const SHOTS = "test-results/settings";
const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let roost: LocalRoost;
let browser: Browser;
let org: string;
let apiKey: string;
let privateJwk: string;
const contexts: BrowserContext[] = [];
/** Console errors and uncaught errors of every page, but the refusals a step provokes on purpose. */
const problems: string[] = [];

async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<{ status: number; body: T }> {
	const res = await fetch(`${roost.url}/v1/orgs/${org}${path}`, {
		method: init.method ?? "GET",
		headers: { authorization: `Bearer ${init.key ?? apiKey}`, "content-type": "application/json" },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	return { status: res.status, body: (await res.json()) as T };
}

async function accessToken(email: string): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	return new SignJWT({ email })
		.setProtectedHeader({ alg: "RS256", kid: ACCESS_TEST_KID })
		.setIssuer(ACCESS_TEST_TEAM)
		.setAudience(ACCESS_TEST_AUD)
		.setIssuedAt(now)
		.setExpirationTime(now + 600)
		.sign(await importJWK(JSON.parse(privateJwk), "RS256"));
}

/** A fresh page; `email` signs the context in through "Access" (the header on every request). */
async function newPage(options: { email?: string; viewport?: { width: number; height: number }; expect?: RegExp } = {}): Promise<Page> {
	const context = await browser.newContext({
		viewport: options.viewport ?? LAPTOP,
		colorScheme: "light",
		...(options.email ? { extraHTTPHeaders: { "cf-access-jwt-assertion": await accessToken(options.email) } } : {}),
	});
	await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: roost.url });
	contexts.push(context);
	const page = await context.newPage();
	page.on("console", (message) => {
		if (message.type() === "error" && !options.expect?.test(message.text())) problems.push(message.text());
	});
	page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
	// Revoking and removing ask first.
	page.on("dialog", (dialog) => void dialog.accept());
	return page;
}

async function signInWithKey(page: Page, key: string): Promise<void> {
	await page.goto(`${roost.url}/`);
	await page.fill("#api-key", key);
	await page.click("#sign-in-form button[type=submit]");
	await page.waitForSelector("#app:not([hidden])");
}

beforeAll(async () => {
	const access = await accessTestKeys();
	privateJwk = access.privateJwk;
	roost = await startLocalRoost({
		vars: { RATE_LIMITS: "off", ACCESS_TEAM_DOMAIN: access.teamDomain, ACCESS_AUD: access.audience, ACCESS_JWKS: access.jwks },
	});
	({ org, apiKey } = await roost.createOrg("Settings tests"));
	browser = await chromium.launch({
		executablePath: "/usr/bin/chromium",
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
	});
});

afterAll(async () => {
	for (const context of contexts) await context.close();
	await browser?.close();
	await roost?.dispose();
});

describe("Settings, as an admin with a key", () => {
	let page: Page;
	let made: { id: string; secret: string };

	beforeAll(async () => {
		page = await newPage({ expect: /status of 409/ });
		await signInWithKey(page, apiKey);
	});

	it("shows the Settings view with the org's keys, and says who is signed in", async () => {
		await page.waitForSelector("#nav-settings:not([hidden])");
		await page.waitForSelector("#settings:not([hidden]) #keys-list li");
		expect(await page.locator("#who").textContent()).toMatch(/^key_\S+ · admin$/);
		expect(await page.locator("#keys-list li").first().textContent()).toContain("initial");
		expect(await page.locator("#keys-list li").first().textContent()).toContain("this page's key");
	});

	it("creates a viewer key: the secret is shown once, copies, and reads the org", async () => {
		await page.fill("#key-label", "office wall");
		await page.selectOption("#key-role", "viewer");
		await page.click("#key-form button[type=submit]");
		await page.waitForSelector("#key-secret:not([hidden]) #key-secret-value");
		const secret = (await page.locator("#key-secret-value").textContent()) ?? "";
		expect(secret).toMatch(new RegExp(`^rk_${org}\\.[A-Za-z0-9_-]{43}$`));
		await page.click("#copy-key");
		await expect.poll(() => page.locator("#copy-key").textContent()).toBe("Copied");
		expect(await page.evaluate("navigator.clipboard.readText()")).toBe(secret);

		const row = page.locator('#keys-list li[data-live="true"]', { hasText: "office wall" });
		await row.waitFor();
		const id = (await row.getAttribute("data-key-id")) ?? "";
		expect(await row.locator(".pill").textContent()).toBe("viewer");
		made = { id, secret };

		// The key works for a read at once, as a viewer; and it cannot make keys.
		const me = await api<{ role: string; principal: { id: string } }>("/me", { key: secret });
		expect(me).toEqual({ status: 200, body: expect.objectContaining({ role: "viewer", principal: { kind: "key", id } }) });
		expect((await api("", { key: secret })).status).toBe(200);
		expect((await api("/keys", { method: "POST", key: secret, body: { role: "viewer" } })).status).toBe(403);

		// Done takes it off the page; nothing kept it (not the page, not storage).
		await page.click("#key-secret button.quiet");
		expect(await page.locator("#key-secret").isHidden()).toBe(true);
		expect(await page.content()).not.toContain(secret);
		expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(secret);
	});

	it("revokes that key: it is marked gone and answers 401", async () => {
		await page.locator(`#keys-list li[data-key-id="${made.id}"] button.revoke`).click();
		await page.waitForSelector(`#keys-list li[data-key-id="${made.id}"][data-live="false"]`);
		expect(await page.locator(`#keys-list li[data-key-id="${made.id}"]`).textContent()).toContain("revoked");
		expect((await api("", { key: made.secret })).status).toBe(401);
	});

	it("adds a member with a role, changes it, and removes them", async () => {
		await page.fill("#member-email", "Ana@Example.com");
		await page.selectOption("#member-role", "analyst");
		await page.click("#member-form button[type=submit]");
		const row = page.locator('#members-list li[data-email="ana@example.com"]');
		await row.waitFor();
		expect(await row.locator(".pill").textContent()).toBe("analyst");
		const listed = await api<{ members: { email: string; role: string }[] }>("/members");
		expect(listed.body.members).toEqual([expect.objectContaining({ email: "ana@example.com", role: "analyst" })]);

		await page.fill("#member-email", "ana@example.com");
		await page.selectOption("#member-role", "viewer");
		await page.click("#member-form button[type=submit]");
		await expect.poll(() => row.locator(".pill").textContent()).toBe("viewer");

		await row.locator("button.remove").click();
		await page.waitForSelector('#members-list li[data-email="ana@example.com"]', { state: "detached" });
		expect((await api<{ members: unknown[] }>("/members")).body.members).toEqual([]);
	});

	it("says why the org refuses a change (its last admin key cannot be revoked)", async () => {
		const own = page.locator('#keys-list li[data-live="true"]', { hasText: "this page's key" });
		await own.locator("button.revoke").click();
		await expect.poll(() => page.locator("#settings-error").textContent()).toContain("Last active key");
		expect((await api("")).status).toBe(200);
	});

	it("fits a phone's width (screenshot in test-results/settings)", async () => {
		await page.setViewportSize(PHONE);
		await page.fill("#key-label", "phone check");
		await page.click("#key-form button[type=submit]");
		await page.waitForSelector("#key-secret:not([hidden])");
		await page.fill("#member-email", "someone.with.a.long.address@example.com");
		await page.click("#member-form button[type=submit]");
		await page.waitForSelector('#members-list li[data-email="someone.with.a.long.address@example.com"]');
		await page.locator("#settings").scrollIntoViewIfNeeded();
		expect(await page.evaluate(() => document.scrollingElement?.scrollWidth ?? 0)).toBeLessThanOrEqual(PHONE.width);
		const unpin = await page.addStyleTag({ content: ".masthead { position: static; }" });
		await page.locator("#settings").screenshot({ path: `${SHOTS}/settings-phone.png` });
		await unpin.evaluate((style) => style.remove());
		await page.setViewportSize(LAPTOP);
		await page.locator("#settings").screenshot({ path: `${SHOTS}/settings-laptop.png` });
	});
});

describe("other roles", () => {
	it("a viewer key sees the views but not Settings (nor Operations, nor Ask), and the API refuses it keys", async () => {
		const { body } = await api<{ apiKey: string }>("/keys", { method: "POST", body: { role: "viewer", label: "wall" } });
		const page = await newPage();
		await signInWithKey(page, body.apiKey);
		await page.waitForSelector("#sessions h2");
		expect(await page.locator("#who").textContent()).toMatch(/ · viewer$/);
		expect(await page.locator("#settings, #nav-settings").count()).toBe(0);
		expect(await page.locator("#operations, #nav-operations").count()).toBe(0);
		expect(await page.locator("#chat, #nav-chat").count()).toBe(0);
		expect((await api("/keys", { key: body.apiKey })).status).toBe(403);
	});

	it("an analyst key sees Operations but not Settings", async () => {
		const { body } = await api<{ apiKey: string }>("/keys", { method: "POST", body: { role: "analyst" } });
		const page = await newPage();
		await signInWithKey(page, body.apiKey);
		await page.waitForSelector("#operations h2");
		expect(await page.locator("#chat h2").count()).toBe(1);
		expect(await page.locator("#settings, #nav-settings").count()).toBe(0);
	});
});

describe("signing in through Cloudflare Access", () => {
	beforeAll(async () => {
		for (const [email, role] of [
			["boss@example.com", "admin"],
			["wall@example.com", "viewer"],
		])
			expect((await api("/members", { method: "POST", body: { email, role } })).status).toBe(200);
	});

	it("opens the org from ?org= with no key; an admin member manages members from the page (same-origin changes pass)", async () => {
		const page = await newPage({ email: "boss@example.com" });
		await page.goto(`${roost.url}/?org=${org}`);
		await page.waitForSelector("#app:not([hidden])");
		expect(await page.locator("#who").textContent()).toBe("boss@example.com · admin");
		expect(await page.evaluate(() => [sessionStorage.getItem("roost.apiKey"), sessionStorage.getItem("roost.accessOrg")])).toEqual([
			null,
			org,
		]);
		await page.waitForSelector("#settings:not([hidden]) #members-list li");
		await page.fill("#member-email", "new@example.com");
		await page.click("#member-form button[type=submit]");
		await page.waitForSelector('#members-list li[data-email="new@example.com"]');
		expect(await page.locator('#members-list li[data-email="boss@example.com"]').textContent()).toContain("you");
		// The org's log names the member who made the change.
		const events = await api<{ events: { type: string; data: { email?: string }; meta: { principal?: unknown } }[] }>("/events?limit=1000");
		const added = events.body.events.filter((e) => e.type === "org.member_added" && e.data.email === "new@example.com");
		expect(added.map((e) => e.meta.principal)).toEqual([{ kind: "member", email: "boss@example.com" }]);
		// A reload stays signed in (the org is kept for the tab), and the form's org field works too.
		await page.goto(`${roost.url}/`);
		await page.waitForSelector("#app:not([hidden])");
		await page.click("#sign-out");
		await page.waitForSelector("#sign-in:not([hidden])");
		await page.fill("#org-field", org);
		await page.click("#sign-in-form button[type=submit]");
		await page.waitForSelector("#app:not([hidden])");
		expect(await page.locator("#who").textContent()).toBe("boss@example.com · admin");
	});

	it("a viewer member sees no Settings", async () => {
		const page = await newPage({ email: "wall@example.com" });
		await page.goto(`${roost.url}/?org=${org}`);
		await page.waitForSelector("#sessions h2");
		expect(await page.locator("#who").textContent()).toBe("wall@example.com · viewer");
		expect(await page.locator("#settings, #nav-settings").count()).toBe(0);
	});

	it("falls back to the key form: for someone who is not a member, and where no Access sign-in reaches Roost", async () => {
		const stranger = await newPage({ email: "mallory@example.com", expect: /status of 403/ });
		await stranger.goto(`${roost.url}/?org=${org}`);
		await stranger.waitForSelector("#sign-in:not([hidden])");
		expect(await stranger.locator("#sign-in-error").textContent()).toContain("mallory@example.com is not a member");
		expect(await stranger.inputValue("#org-field")).toBe(org);

		const outside = await newPage({ expect: /status of 401/ });
		await outside.goto(`${roost.url}/?org=${org}`);
		await outside.waitForSelector("#sign-in:not([hidden])");
		expect(await outside.locator("#sign-in-error").textContent()).toContain("No Cloudflare Access sign-in reached Roost");
		await outside.fill("#api-key", apiKey);
		await outside.click("#sign-in-form button[type=submit]");
		await outside.waitForSelector("#app:not([hidden])");
		expect(await outside.locator("#who").textContent()).toMatch(/ · admin$/);
	});

	it("the console opens through Access too", async () => {
		const page = await newPage({ email: "wall@example.com" });
		await page.goto(`${roost.url}/console?org=${org}`);
		await page.waitForSelector("#app:not([hidden])");
		expect(await page.locator("#who").textContent()).toBe("wall@example.com · viewer");
	});

	it("logged no unexpected errors in any page", () => {
		expect(problems).toEqual([]);
	});
});
