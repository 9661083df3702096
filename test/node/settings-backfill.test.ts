/**
 * The pure decisions behind org settings and backfill, read as given / when / then: an org records only the
 * settings that change; a backfill takes past data only, once, with ids derived from the data.
 */
import { describe, expect, it } from "vitest";
import { decideBatchBackfill, decideMessageBackfill } from "../../src/reducers/backfill.ts";
import { isRefusal } from "../../src/reducers/definition.ts";
import { decideOrg, orgDefinition } from "../../src/reducers/org.ts";
import { settingsInForce } from "../../src/reducers/org-settings.ts";
import { decideSession, initialSessionState } from "../../src/reducers/session.ts";
import { deciderSpec } from "../support/decider-spec.ts";

const T0 = Date.UTC(2031, 0, 1);
/** The fields an invalid refusal names, or [] for anything else. */
const named = (decided: unknown): string[] =>
	isRefusal(decided as never) && (decided as { kind: string }).kind === "invalid"
		? ((decided as { errors?: { path: string }[] }).errors ?? []).map((e) => e.path)
		: [];
const DAY = 86_400_000;
const spec = deciderSpec(orgDefinition, decideOrg, () => {
	let minted = 0;
	return { newId: () => `id${++minted}` };
});
const created = { id: "c", type: "org.created", ts: T0, data: { name: "Acme" } };
const setAt = (ts: number, data: Record<string, unknown>) => ({
	id: `s${ts}`,
	type: "org.settings_set",
	ts,
	data: { ...data, setBy: "key_1" },
});

describe("org settings", () => {
	it("a change records only the fields that differ from what is set", () => {
		spec
			.given(created, setAt(T0 + 1, { sessionInactivitySeconds: 600 }))
			.when({ kind: "set_settings", settings: { sessionInactivitySeconds: 600, cameraBatchSeconds: 60 }, setBy: "key_2" }, { now: T0 + 2 })
			.thenDecides([{ id: "id1", type: "org.settings_set", ts: T0 + 2, data: { cameraBatchSeconds: 60, setBy: "key_2" } }]);
	});

	it("the same values again decide nothing", () => {
		spec
			.given(created, setAt(T0 + 1, { sessionInactivitySeconds: 600 }))
			.when({ kind: "set_settings", settings: { sessionInactivitySeconds: 600 }, setBy: "key_2" })
			.thenDecides([]);
	});

	it("an org that does not exist has no settings to change", () => {
		spec
			.given()
			.when({ kind: "set_settings", settings: { cameraBatchSeconds: 60 }, setBy: null })
			.thenRefuses("not_found");
	});

	it("in force: what was set over the environment's defaults in whole seconds, else the built-in ones", () => {
		const { state } = spec.given(created, setAt(T0 + 1, { cameraOfflineSeconds: 900 }));
		expect(settingsInForce(state, {})).toEqual({ sessionInactivitySeconds: 3600, cameraBatchSeconds: 300, cameraOfflineSeconds: 900 });
		expect(settingsInForce(state, { SESSION_INACTIVITY_MS: "120000", CAMERA_OFFLINE_AFTER_MS: "1" })).toEqual({
			sessionInactivitySeconds: 120,
			cameraBatchSeconds: 300,
			cameraOfflineSeconds: 900,
		});
	});
});

describe("backfill decisions", () => {
	const now = T0 + 10 * DAY;
	const batch = { start: T0, end: T0 + 60_000, frames: 10, motion: 0.2, people: 1 };

	it("a camera batch is decided once, at its end, with an id from its times", () => {
		const decided = decideBatchBackfill([batch, batch], now);
		expect(decided).toEqual([{ id: `~backfill:${T0}-${T0 + 60_000}`, type: "camera.batch_backfilled", ts: T0 + 60_000, data: batch }]);
	});

	it("a batch in the future or older than 400 days is refused, naming the field", () => {
		const future = { ...batch, start: now - 1_000, end: now + 1 };
		const old = { ...batch, start: now - 401 * DAY, end: now - 401 * DAY + 1_000 };
		expect(named(decideBatchBackfill([future, old], now))).toEqual(["batches[0].end", "batches[1].start", "batches[1].end"]);
		expect(named(decideBatchBackfill([{ ...batch, end: T0 + DAY + 1 }], now))).toEqual(["batches[0].end"]);
	});

	it("messages form exchanges that each start at a user message; the same messages decide the same ids", () => {
		const messages = [
			{ role: "assistant" as const, text: "Hello", at: T0 },
			{ role: "user" as const, text: "Hi", at: T0 + 1 },
			{ role: "assistant" as const, text: "How can I help?", at: T0 + 2 },
			{ role: "user" as const, text: "Shoes", at: T0 + 3 },
		];
		const first = decideMessageBackfill(messages, now);
		const again = decideMessageBackfill(messages, now);
		if (isRefusal(first)) throw new Error(first.detail);
		expect(again).toEqual(first);
		const [, hi, , shoes] = first;
		expect(first.map((e) => e.data.exchange)).toEqual([hi?.id, hi?.id, hi?.id, shoes?.id]);
		expect(first.map((e) => e.ts)).toEqual([T0, T0 + 1, T0 + 2, T0 + 3]);
	});

	it("a web backfill takes events up to the server's clock and records the visit's inactivity on its start", () => {
		const events = [{ id: "e1", type: "session.page_viewed", ts: now - DAY, data: { url: "https://a.example/", path: "/" } }];
		const context = { now, version: 0, budget: { events: 10, dataChars: 10_000 }, inactivityMs: 120_000 };
		const decided = decideSession({ kind: "record", events, stored: new Set(), backfill: true }, initialSessionState(), context);
		expect(decided).toMatchObject([{ type: "session.started", ts: now - DAY, data: { visit: 1, inactivityMs: 120_000 } }, { id: "e1" }]);
		const ahead = decideSession(
			{ kind: "record", events: [{ ...events[0], ts: now + 1 }] as typeof events, stored: new Set(), backfill: true },
			initialSessionState(),
			context,
		);
		expect(named(ahead)).toEqual(["events[0].ts"]);
		// Live ingest still takes a ts up to an hour ahead, and refuses a year-old one only before 2000.
		expect(
			isRefusal(
				decideSession(
					{ kind: "record", events: [{ ...events[0], ts: now + 1 }] as typeof events, stored: new Set() },
					initialSessionState(),
					context,
				),
			),
		).toBe(false);
	});
});
