/** Webhooks, pure parts: the endpoint decisions, which events become deliveries, the URL policy and the signature. */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../src/core/webhook-address.ts";
import { deriveWebhookSecret, webhookHeaders } from "../../src/core/webhook-signature.ts";
import type { ProposedEvent } from "../../src/events/envelope.ts";
import { decideOrg, orgDefinition, publicOrgState, redactKeyHash } from "../../src/reducers/org.ts";
import { SECRET_OVERLAP_MS, webhookDeliveries } from "../../src/reducers/org-webhooks.ts";
import { deciderSpec, recorded } from "../support/decider-spec.ts";

const org = deciderSpec(orgDefinition, decideOrg, () => {
	let minted = 0;
	return { newId: () => `id${++minted}` };
});
const SALT = "0".repeat(32);
const SALT2 = "1".repeat(32);
const T = 1_795_000_000_000;

const created: ProposedEvent = { id: "c", type: "org.created", ts: T, data: { name: "Acme" } };
const hook = (webhookId = "wh_1", events = ["camera.offline", "pattern.detected"]): ProposedEvent => ({
	id: `mk-${webhookId}`,
	type: "org.webhook_created",
	ts: T + 1,
	data: { webhookId, url: "https://hooks.example/in", events, salt: SALT },
});

describe("webhook endpoints (decider)", () => {
	it("creating an endpoint records its url, events and salt, never a secret", () => {
		org
			.given(created)
			.when(
				{ kind: "create_webhook", webhookId: "wh_1", url: "https://a.example/x", events: ["camera.online"], salt: SALT },
				{ now: T + 5 },
			)
			.thenDecides([
				{
					id: "id1",
					type: "org.webhook_created",
					ts: T + 5,
					data: { webhookId: "wh_1", url: "https://a.example/x", events: ["camera.online"], salt: SALT },
				},
			]);
	});

	it("an endpoint id already taken is refused", () => {
		org
			.given(created, hook())
			.when({ kind: "create_webhook", webhookId: "wh_1", url: "https://a.example/", events: ["camera.online"], salt: SALT })
			.thenRefuses("rejected", /taken/);
	});

	it("an org that does not exist has no endpoints to create", () => {
		org
			.given()
			.when({ kind: "create_webhook", webhookId: "wh_1", url: "https://a.example/", events: ["camera.online"], salt: SALT })
			.thenRefuses("not_found");
	});

	it("an update records only what changed, and nothing when nothing did", () => {
		org
			.given(created, hook())
			.when(
				{ kind: "update_webhook", webhookId: "wh_1", patch: { url: "https://hooks.example/in", events: ["camera.online"] } },
				{ now: T + 9 },
			)
			.thenDecides([{ id: "id1", type: "org.webhook_updated", ts: T + 9, data: { webhookId: "wh_1", events: ["camera.online"] } }]);
		org
			.given(created, hook())
			.when({ kind: "update_webhook", webhookId: "wh_1", patch: { url: "https://hooks.example/in" } })
			.thenDecides([]);
	});

	it("a parked delivery disables its endpoint once, with the reason; enabling it again clears the reason", () => {
		const disable = { kind: "disable_webhook" as const, webhookId: "wh_1", reason: "delivery d1 failed 3 times", delivery: "d1" };
		const decided = org
			.given(created, hook())
			.when(disable, { now: T + 20 })
			.decided();
		if (!("events" in decided)) throw new Error("refused");
		expect(decided.events).toEqual([
			{
				id: expect.stringMatching(/^~webhook-disabled:[0-9a-f]{32}$/),
				type: "org.webhook_disabled",
				ts: T + 20,
				data: { webhookId: "wh_1", reason: disable.reason, delivery: "d1" },
			},
		]);
		expect(decided.state.webhooks.wh_1).toMatchObject({ enabled: false, disabledReason: disable.reason });
		const disabled: ProposedEvent = decided.events[0] as ProposedEvent;
		org.given(created, hook(), disabled).when(disable).thenDecides([]);
		const enabled = org
			.given(created, hook(), disabled)
			.when({ kind: "update_webhook", webhookId: "wh_1", patch: { enabled: true } })
			.decided();
		expect("events" in enabled && enabled.state.webhooks.wh_1).toMatchObject({ enabled: true, disabledReason: null });
	});

	it("a delivery id longer than an event id may be still disables its endpoint (the event id is derived from its hash)", () => {
		const delivery = `msg_wh_1_${"i".repeat(190)}`;
		const decided = org.given(created, hook()).when({ kind: "disable_webhook", webhookId: "wh_1", reason: "r", delivery }).decided();
		if (!("events" in decided)) throw new Error("refused");
		expect(decided.events[0]?.id.length).toBeLessThanOrEqual(200);
		expect(decided.state.webhooks.wh_1?.enabled).toBe(false);
	});

	it("a rotation keeps the previous salt signing for the overlap", () => {
		const decided = org
			.given(created, hook())
			.when({ kind: "rotate_webhook_secret", webhookId: "wh_1", salt: SALT2 }, { now: T + 30 })
			.decided();
		expect("events" in decided && decided.state.webhooks.wh_1).toMatchObject({
			salt: SALT2,
			previous: { salt: SALT, until: T + 30 + SECRET_OVERLAP_MS },
		});
	});

	it("an unknown endpoint is not found; deleting removes it", () => {
		org.given(created).when({ kind: "delete_webhook", webhookId: "nope" }).thenRefuses("not_found");
		const deleted = org.given(created, hook()).when({ kind: "delete_webhook", webhookId: "wh_1" }).decided();
		expect("events" in deleted && deleted.state.webhooks).toEqual({});
	});

	it("salts never leave the actor: not in the public state, not in events read back", () => {
		const { state } = org.given(created, hook());
		expect(JSON.stringify(publicOrgState(state))).not.toContain(SALT);
		const [event] = recorded(orgDefinition.catalog, [hook()]);
		if (!event) throw new Error("no event");
		expect(JSON.stringify(redactKeyHash(event))).not.toContain(SALT);
	});
});

describe("which events become deliveries", () => {
	const offline = { id: "cam-1:offline", type: "org.camera_status", ts: T + 50, data: { camera: "cam-1", status: "offline", at: T + 50 } };
	const online = { ...offline, id: "cam-1:online", data: { ...offline.data, status: "online" } };

	it("one delivery per event and subscribed, enabled endpoint, with a stable id and the Standard Webhooks body", () => {
		const { state } = org.given(created, hook("wh_1"), hook("wh_2", ["camera.online"]));
		const deliveries = webhookDeliveries(recorded(orgDefinition.catalog, [offline, online]), state.webhooks);
		expect(deliveries.map((d) => [d.id, d.type])).toEqual([
			["msg_wh_1_cam-1:offline", "camera.offline"],
			["msg_wh_2_cam-1:online", "camera.online"],
		]);
		expect(JSON.parse(deliveries[0]?.body ?? "")).toEqual({
			type: "camera.offline",
			timestamp: new Date(T + 50).toISOString(),
			data: { camera: "cam-1", status: "offline", at: T + 50 },
		});
	});

	it("a disabled endpoint gets none; webhook events themselves are never delivered", () => {
		const disabled = { id: "d", type: "org.webhook_disabled", ts: T + 2, data: { webhookId: "wh_1", reason: "r", delivery: "x" } };
		const { state } = org.given(created, hook("wh_1"), disabled);
		expect(webhookDeliveries(recorded(orgDefinition.catalog, [offline]), state.webhooks)).toEqual([]);
		const live = org.given(created, hook("wh_1")).state;
		expect(webhookDeliveries(recorded(orgDefinition.catalog, [hook("wh_9")]), live.webhooks)).toEqual([]);
	});
});

describe("webhook URL policy", () => {
	const production = { allowLocal: false };
	it.each([
		["http://hooks.example/in", "must be an https URL"],
		["https://127.0.0.1/x", "private"],
		["https://2130706433/x", "private"],
		["https://0x7f.1/x", "private"],
		["https://10.1.2.3/", "private"],
		["https://172.20.0.1/", "private"],
		["https://192.168.1.1/", "private"],
		["https://100.64.0.1/", "private"],
		["https://169.254.169.254/latest/meta-data", "metadata"],
		["https://0.0.0.0/", "private"],
		["https://[::1]/", "private"],
		["https://[fd00::1]/", "private"],
		["https://[fe80::1]/", "private"],
		["https://[::ffff:10.0.0.1]/", "private"],
		["https://localhost/", "public host"],
		["https://metadata.google.internal/", "public host"],
		["https://printer.local/", "public host"],
		["https://intranet/", "public host"],
		["https://user:pw@hooks.example/", "credentials"],
		["not a url", "absolute URL"],
	])("%s is refused in production settings", (url, why) => {
		expect(webhookUrlProblem(url, production)).toMatch(why);
	});

	it("a public https URL is accepted", () => {
		expect(webhookUrlProblem("https://hooks.slack.com/services/T0/B0/x", production)).toBeNull();
		expect(webhookUrlProblem("https://93.184.216.34:8443/in", production)).toBeNull();
		expect(webhookUrlProblem("https://[2606:4700::1111]/in", production)).toBeNull();
	});

	it("local development with WEBHOOKS_ALLOW_LOCAL reaches http://127.0.0.1, still not ftp or credentials", () => {
		expect(webhookUrlProblem("http://127.0.0.1:9999/in", { allowLocal: true })).toBeNull();
		expect(webhookUrlProblem("ftp://127.0.0.1/", { allowLocal: true })).toMatch("https");
		expect(webhookUrlProblem("http://a:b@127.0.0.1/", { allowLocal: true })).toMatch("credentials");
	});
});

describe("Standard Webhooks signature", () => {
	const secret = deriveWebhookSecret("master-key", "acme", "wh_1", SALT);
	const body = JSON.stringify({ type: "webhook.test", timestamp: "2026-12-04T00:00:00.000Z", data: { ok: true } });
	const now = Math.floor(Date.now() / 1000);

	it("verifies with the standardwebhooks library", () => {
		const headers = webhookHeaders([secret], "msg_1", now, body);
		expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
	});

	it("a changed body, id or another secret does not verify", () => {
		const headers = webhookHeaders([secret], "msg_1", now, body);
		expect(() => new Webhook(secret).verify(body.replace("true", "false"), headers)).toThrow();
		expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "msg_2" })).toThrow();
		const other = deriveWebhookSecret("master-key", "acme", "wh_1", SALT2);
		expect(() => new Webhook(other).verify(body, headers)).toThrow();
	});

	it("during a rotation both secrets verify the same delivery", () => {
		const next = deriveWebhookSecret("master-key", "acme", "wh_1", SALT2);
		const headers = webhookHeaders([next, secret], "msg_1", now, body);
		expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
		expect(new Webhook(secret).verify(body, headers)).toBeTruthy();
		expect(new Webhook(next).verify(body, headers)).toBeTruthy();
	});

	it("secrets differ by org, endpoint, salt and deployment key", () => {
		const all = [
			secret,
			deriveWebhookSecret("master-key", "other", "wh_1", SALT),
			deriveWebhookSecret("master-key", "acme", "wh_2", SALT),
			deriveWebhookSecret("other-key", "acme", "wh_1", SALT),
		];
		expect(new Set(all).size).toBe(4);
		expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
	});
});
