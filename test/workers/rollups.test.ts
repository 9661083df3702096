import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { MockLanguageModelV4 } from "ai/test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setTestModel } from "../../src/ai/provider.ts";
import { actorName } from "../../src/core/identity.ts";
import { usage } from "./chat-models.ts";
import { call, createOrg, getJson, pageView, postBatch, uniqueId } from "./helpers.ts";

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Timers {
	kernel: { timers: { name: string; scheduledAt: number }[] };
}
interface PatternsBody {
	period: string;
	rollups: {
		start: number;
		end: number;
		label: string;
		metrics: { interactions: number; web: { sessions: number; pageViews: number; topPages: { path: string }[] } };
	}[];
	patterns: unknown[];
	reports: { period: string; start: number; provider: string; report: { headline: string } }[];
}

const orgStub = (org: string) => env.ORG.getByName(actorName(org, org));
/** Moves the mocked clock to `time` and runs the actor's alarm, as the runtime would then. */
async function alarmAt(stub: DurableObjectStub, time: number): Promise<void> {
	vi.setSystemTime(time);
	await runDurableObjectAlarm(stub);
}

beforeEach(() => {
	vi.useFakeTimers({ toFake: ["Date"] });
});
afterEach(() => {
	vi.useRealTimers();
});

describe("rollup schedule", () => {
	it("a new org schedules each period's rollup at its UTC instant, across month and year ends", async () => {
		vi.setSystemTime(Date.UTC(2031, 11, 31, 1, 30));
		const { org, key } = await createOrg("Year end");
		const { kernel } = await getJson<Timers>(`/v1/orgs/${org}/state`, { headers: { authorization: `Bearer ${key}` } });
		const due = Object.fromEntries(kernel.timers.map((t) => [t.name, iso(t.scheduledAt)]));
		expect(due).toEqual({
			"rollup:hourly": "2031-12-31T02:00:00.000Z",
			"rollup:daily": "2031-12-31T02:00:00.000Z",
			"rollup:weekly": "2032-01-05T03:00:00.000Z",
			"rollup:monthly": "2032-01-01T04:00:00.000Z",
			"rollup:yearly": "2032-01-01T05:00:00.000Z",
			// The data policy's daily retention pass (docs/privacy.md), not a rollup, shares the org's timers.
			retention: "2031-12-31T03:30:00.000Z",
		});
	});

	it("after firing, each timer moves to its next instant, including 29 February", async () => {
		vi.setSystemTime(Date.UTC(2032, 1, 27, 23, 59));
		const { org, key } = await createOrg("Leap");
		const stub = orgStub(org);
		await alarmAt(stub, Date.UTC(2032, 1, 28, 2, 0));
		const { kernel } = await getJson<Timers>(`/v1/orgs/${org}/state`, { headers: { authorization: `Bearer ${key}` } });
		const due = Object.fromEntries(kernel.timers.map((t) => [t.name, iso(t.scheduledAt)]));
		expect(due["rollup:daily"]).toBe("2032-02-29T02:00:00.000Z");
		expect(due["rollup:monthly"]).toBe("2032-03-01T04:00:00.000Z");
	});
});

describe("rollups of real traffic", () => {
	it("a visit flows into its hour, its day and all time, each with an offline report", async () => {
		const T0 = Date.UTC(2031, 5, 10, 9, 0);
		vi.setSystemTime(T0);
		const { org, key } = await createOrg("Shop");
		const session = uniqueId("s");
		await postBatch(
			org,
			session,
			{ events: [pageView("/", T0 + 60_000), pageView("/shoes", T0 + 120_000)] },
			{ authorization: `Bearer ${key}` },
		);
		// The visit ends an hour after its batch, handing its interaction to the org.
		vi.setSystemTime(T0 + HOUR);
		await runDurableObjectAlarm(env.SESSION.getByName(actorName(org, session)));

		const stub = orgStub(org);
		await alarmAt(stub, T0 + 2 * HOUR); // 11:00: the 10:00-11:00 hour holds the visit's end
		await alarmAt(stub, T0 + 2 * HOUR + 1); // reports asked for by those rollups
		const hourly = await getJson<PatternsBody>(`/v1/orgs/${org}/patterns?period=hourly`, { headers: { authorization: `Bearer ${key}` } });
		expect(hourly.rollups.map((r) => [iso(r.start), r.metrics.interactions])).toEqual([
			["2031-06-10T10:00:00.000Z", 1],
			["2031-06-10T09:00:00.000Z", 0],
		]);
		expect(hourly.rollups[0]?.metrics.web.topPages.map((p) => p.path)).toEqual(["/", "/shoes"]);
		expect(hourly.reports[0]).toMatchObject({ provider: "offline", start: Date.UTC(2031, 5, 10, 10) });
		expect(hourly.reports[0]?.report.headline).toContain("offline");

		await alarmAt(stub, Date.UTC(2031, 5, 11, 2, 0));
		const daily = await getJson<PatternsBody>(`/v1/orgs/${org}/patterns?period=daily`, { headers: { authorization: `Bearer ${key}` } });
		expect(daily.rollups.map((r) => [r.label, r.metrics.interactions, r.metrics.web.sessions, r.metrics.web.pageViews])).toEqual([
			["2031-06-10", 1, 1, 2],
		]);
		const all = await getJson<PatternsBody>(`/v1/orgs/${org}/patterns?period=all`, { headers: { authorization: `Bearer ${key}` } });
		expect(all.rollups[0]?.metrics.interactions).toBe(1);
	});

	it("an ad hoc run rolls up the last complete window once; a repeat and the scheduled run count nothing twice", async () => {
		const T0 = Date.UTC(2031, 7, 3, 14, 0);
		vi.setSystemTime(T0);
		const { org, key } = await createOrg("Ad hoc");
		const auth = { authorization: `Bearer ${key}` };
		const session = uniqueId("s");
		await postBatch(org, session, { events: [pageView("/a", T0 + 1000)] }, auth);
		vi.setSystemTime(T0 + HOUR);
		await runDurableObjectAlarm(env.SESSION.getByName(actorName(org, session)));

		// The visit ended at 15:00, so it belongs to 15:00-16:00; at 16:10 that is the last complete hour.
		vi.setSystemTime(T0 + 2 * HOUR + 10 * 60_000);
		const first = await call(`/v1/orgs/${org}/rollups`, { method: "POST", headers: auth, body: JSON.stringify({ period: "hourly" }) });
		expect(first.status).toBe(201);
		expect(await first.json()).toMatchObject({
			period: "hourly",
			duplicate: false,
			window: { start: T0 + HOUR, end: T0 + 2 * HOUR },
			rollup: { metrics: { interactions: 1 } },
		});
		const again = await call(`/v1/orgs/${org}/rollups`, { method: "POST", headers: auth, body: JSON.stringify({ period: "hourly" }) });
		expect(again.status).toBe(200);
		expect(await again.json()).toMatchObject({ duplicate: true, rollup: { metrics: { interactions: 1 } } });

		await alarmAt(orgStub(org), T0 + 3 * HOUR);
		const hourly = await getJson<PatternsBody>(`/v1/orgs/${org}/patterns?period=hourly`, { headers: auth });
		expect(hourly.rollups.map((r) => r.start)).toEqual([T0 + 2 * HOUR, T0 + HOUR, T0]);
		expect(hourly.rollups.reduce((sum, r) => sum + r.metrics.interactions, 0)).toBe(1);
	});

	it("with a model configured, the report is the model's structured answer and names the model", async () => {
		const written = { headline: "One visit, mostly shoes.", highlights: ["1 web visit"], concerns: [] };
		let prompt = "";
		setTestModel(
			new MockLanguageModelV4({
				doGenerate: async (options) => {
					prompt = JSON.stringify(options.prompt);
					return {
						content: [{ type: "text", text: JSON.stringify(written) }],
						finishReason: { unified: "stop", raw: "stop" },
						usage,
						warnings: [],
					};
				},
			}),
			"report-writer",
		);
		try {
			const T0 = Date.UTC(2031, 8, 1, 9, 0);
			vi.setSystemTime(T0);
			const { org, key } = await createOrg("Model");
			const auth = { authorization: `Bearer ${key}` };
			const session = uniqueId("s");
			await postBatch(org, session, { events: [pageView("/shoes", T0 + 1000)] }, auth);
			vi.setSystemTime(T0 + HOUR);
			await runDurableObjectAlarm(env.SESSION.getByName(actorName(org, session)));
			await alarmAt(orgStub(org), T0 + 2 * HOUR);
			await alarmAt(orgStub(org), T0 + 2 * HOUR + 1);
			const { reports } = await getJson<PatternsBody>(`/v1/orgs/${org}/patterns?period=hourly`, { headers: auth });
			expect(reports[0]).toMatchObject({ provider: "test report-writer", start: T0 + HOUR, report: written });
			expect(prompt).toContain("/shoes");
		} finally {
			setTestModel(null);
		}
	});

	it("a bad period is a 400 naming the field", async () => {
		const { org, key } = await createOrg("Bad");
		const res = await call(`/v1/orgs/${org}/rollups`, {
			method: "POST",
			headers: { authorization: `Bearer ${key}` },
			body: JSON.stringify({ period: "fortnightly" }),
		});
		expect(res.status).toBe(400);
		expect((await res.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("period");
	});
});
