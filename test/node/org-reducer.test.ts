import { describe, expect, it } from "vitest";
import { checkChain, expectedHash } from "../../src/cli/chain.ts";
import { GENESIS_HASH } from "../../src/core/hash.ts";
import type { ProposedEvent, RecordedEvent } from "../../src/events/envelope.ts";
import { orgCatalog } from "../../src/events/org.ts";
import { RATE_LIMIT_PERIOD_SECONDS } from "../../src/http/rate-limit.ts";
import { fold, REDACTED } from "../../src/reducers/definition.ts";
import { decideOrg, keyViews, type OrgProposal, type OrgState, orgDefinition, publicOrgState } from "../../src/reducers/org.ts";
import wranglerConfig from "../../wrangler.jsonc?raw";
import { deciderSpec, recorded } from "../support/decider-spec.ts";

const hash = (n: number) => n.toString(16).padStart(64, "0");
/** Each decision mints its event ids from `id1`. */
const spec = deciderSpec(orgDefinition, decideOrg, () => {
	let minted = 0;
	return { newId: () => `id${++minted}` };
});

type KeyChange = Omit<Extract<OrgProposal, { type: "org.created" | "org.key_created" | "org.key_revoked" }>, "id" | "ts">;
const created = (clientActionId?: string): KeyChange => ({
	type: "org.created",
	data: { name: "Acme", ...(clientActionId ? { clientActionId } : {}) },
});
const keyCreated = (keyId: string, n: number, clientActionId?: string): KeyChange => ({
	type: "org.key_created",
	data: { keyId, hash: hash(n), ...(clientActionId ? { clientActionId } : {}), role: "admin" },
});
const revoked = (keyId: string): KeyChange => ({ type: "org.key_revoked", data: { keyId } });

let n = 0;
/** A change as the log would hold it: ids and times count up. */
const logged = (change: KeyChange, ts = 1000 + n): ProposedEvent => ({ id: `e${++n}`, ts, ...change });
/** Changes as one decision makes them at `now`: ids minted from `id1`. */
const decision = (now: number, ...changes: KeyChange[]): ProposedEvent[] => changes.map((c, i) => ({ id: `id${i + 1}`, ts: now, ...c }));
/** Given these changes, in a log. */
const given = (...changes: KeyChange[]) => spec.given(...changes.map((c) => logged(c)));
/** Given these changes, the state is their fold. */
const stateOf = (...changes: KeyChange[]): OrgState => given(...changes).state;
const key = (keyId: string, n: number) => ({ keyId, hash: hash(n), role: "admin" as const });

describe("decide", () => {
	it("creating a new org records it with its first key", () => {
		given()
			.when({ kind: "create", name: "Acme", key: key("k1", 1), clientActionId: "a1" }, { now: 5 })
			.thenDecides(decision(5, created("a1"), keyCreated("k1", 1, "a1")));
	});

	it("an org created with a history start rolls its backfilled past up in the windows it happened in", () => {
		const DAY = 86_400_000;
		const now = Date.UTC(2026, 11, 5, 7, 30);
		const historyFrom = now - 28 * DAY;
		const made = given()
			.when({ kind: "create", name: "Acme", key: key("k1", 1), historyFrom }, { now })
			.decided();
		if (!("events" in made)) throw new Error("refused");
		expect(made.events[0]?.data).toMatchObject({ historyFrom });
		// Rollups start at the history's windows, not at the creation's.
		expect(made.state.rollups.through).toMatchObject({ hourly: Date.UTC(2026, 10, 7, 7), daily: Date.UTC(2026, 10, 7) });
		// A visit that ended ten days ago counts in its own hour, not late in the current one.
		const endedAt = now - 10 * DAY;
		const recorded = spec
			.given(...made.events.map((e, i) => ({ ...e, id: `c${i}` })))
			.when(
				{
					kind: "record_interaction",
					interaction: {
						id: "session:bf-1:visit-1",
						source: "web",
						actor: { kind: "session", id: "bf-1" },
						startedAt: endedAt - 60_000,
						endedAt,
						summary: { visit: 1, pageViews: 1, pages: ["/"] },
					},
				},
				{ now },
			)
			.decided();
		if (!("events" in recorded)) throw new Error("refused");
		const hour = String(Math.floor(endedAt / 3_600_000) * 3_600_000);
		expect(recorded.state.rollups.open[hour]).toMatchObject({ interactions: 1, late: 0 });
	});

	it("a history start in the future or more than 400 days back is refused, naming the field", () => {
		const now = Date.UTC(2026, 11, 5);
		for (const historyFrom of [now + 1, now - 401 * 86_400_000]) {
			given()
				.when({ kind: "create", name: "Acme", key: key("k1", 1), historyFrom }, { now })
				.thenRefuses("invalid", "historyFrom must be in the past 400 days.");
		}
	});

	it("creating it again with the same action replaces that action's key; with another action it is refused", () => {
		const org = () => given(created("a1"), keyCreated("k1", 1, "a1"));
		org()
			.when({ kind: "create", name: "Acme", key: key("k2", 2), clientActionId: "a1" }, { now: 7 })
			.thenDecides(decision(7, revoked("k1"), keyCreated("k2", 2, "a1")));
		org()
			.when({ kind: "create", name: "Acme", key: key("k2", 2), clientActionId: "other" })
			.thenRefuses("rejected");
		org()
			.when({ kind: "create", name: "Acme", key: key("k2", 2) })
			.thenRefuses("rejected");
	});

	it("issuing a key needs the org; a retried action revokes the key it issued before", () => {
		given()
			.when({ kind: "issue_key", key: key("k1", 1) })
			.thenRefuses("not_found");
		const org = () => given(created(), keyCreated("k1", 1), keyCreated("k2", 2, "ci"));
		org()
			.when({ kind: "issue_key", key: key("k3", 3) }, { now: 9 })
			.thenDecides(decision(9, keyCreated("k3", 3)));
		org()
			.when({ kind: "issue_key", key: key("k3", 3), clientActionId: "ci" }, { now: 9 })
			.thenDecides(decision(9, revoked("k2"), keyCreated("k3", 3, "ci")));
		org()
			.when({ kind: "issue_key", key: key("k1", 9) })
			.thenRefuses("rejected");
	});

	it("revoking: unknown is not found, revoked again is nothing, the last live key is a conflict", () => {
		const org = () => given(created(), keyCreated("k1", 1), keyCreated("k2", 2), revoked("k2"));
		org().when({ kind: "revoke_key", keyId: "nope" }).thenRefuses("not_found");
		org().when({ kind: "revoke_key", keyId: "k2" }).thenDecides([]);
		expect(org().when({ kind: "revoke_key", keyId: "k1" }).decided()).toMatchObject({ refusal: { kind: "conflict", currentVersion: 4 } });
		given(created(), keyCreated("k1", 1), keyCreated("k3", 3))
			.when({ kind: "revoke_key", keyId: "k1" }, { now: 3 })
			.thenDecides(decision(3, revoked("k1")));
	});

	it("a key is issued with its role, and live keys of other roles do not make the last admin key revocable", () => {
		const org = () => given(created(), keyCreated("k1", 1));
		const withRole = (keyId: string, n: number, role: "analyst" | "viewer" | "ingest"): KeyChange => ({
			type: "org.key_created",
			data: { keyId, hash: hash(n), role },
		});
		org()
			.when({ kind: "issue_key", key: { ...key("k2", 2), role: "viewer" } }, { now: 4 })
			.thenDecides(decision(4, withRole("k2", 2, "viewer")));
		const withOthers = () => given(created(), keyCreated("k1", 1), withRole("k2", 2, "ingest"), withRole("k3", 3, "analyst"));
		withOthers().when({ kind: "revoke_key", keyId: "k1" }).thenRefuses("conflict");
		withOthers()
			.when({ kind: "revoke_key", keyId: "k2" }, { now: 4 })
			.thenDecides(decision(4, revoked("k2")));
	});

	it("a key expiring at a given instant is issued with it; an expiry in the past is refused as invalid", () => {
		const org = () => given(created(), keyCreated("k1", 1));
		org()
			.when({ kind: "issue_key", key: { ...key("k2", 2), expiresAt: 500 } }, { now: 4 })
			.thenDecides(decision(4, { type: "org.key_created", data: { keyId: "k2", hash: hash(2), role: "admin", expiresAt: 500 } }));
		org()
			.when({ kind: "issue_key", key: { ...key("k2", 2), expiresAt: 4 } }, { now: 4 })
			.thenRefuses("invalid");
	});

	it("an expired admin key does not count as live: the last live admin key cannot be revoked beside it", () => {
		const expiring: KeyChange = { type: "org.key_created", data: { keyId: "k2", hash: hash(2), role: "admin", expiresAt: 100 } };
		given(created(), keyCreated("k1", 1), expiring)
			.when({ kind: "revoke_key", keyId: "k1" }, { now: 50 })
			.thenDecides(decision(50, revoked("k1")));
		given(created(), keyCreated("k1", 1), expiring).when({ kind: "revoke_key", keyId: "k1" }, { now: 100 }).thenRefuses("conflict");
	});

	it("a visit start delivered after its visit ended decides nothing; otherwise it lists the session", () => {
		const visit = { session: "s1", visit: 2, startedAt: 50 };
		given(created()).when({ kind: "record_visit_started", visit, ended: true }).thenDecides([]);
		given(created())
			.when({ kind: "record_visit_started", visit, ended: false }, { now: 60 })
			.thenDecides([{ id: "session:s1:visit-2:started", type: "org.visit_started", ts: 60, data: visit }]);
	});

	it("an ad hoc rollup of a window already rolled up decides nothing; before the org exists it is not found", () => {
		const window = { start: 0, end: 1 };
		given()
			.when({ kind: "roll_up", detect: true, forceUpTo: { period: "hourly", window } })
			.thenRefuses("not_found");
		given(created())
			.when({ kind: "roll_up", detect: true, forceUpTo: { period: "hourly", window } })
			.thenDecides([]);
	});
});

describe("evolve", () => {
	it("keys keep their hash, label, action and times; revocation stamps revokedAt from the event", () => {
		const state = spec.given(logged(created(), 10), logged(keyCreated("k1", 1, "a"), 11), logged(revoked("k1"), 12)).state;
		expect(state.keys.k1).toEqual({
			label: null,
			role: "admin",
			createdAt: 11,
			revokedAt: 12,
			expiresAt: null,
			clientActionId: "a",
			hash: hash(1),
		});
		expect(state.createdAt).toBe(10);
	});

	it("stored version 1 keys keep folding: no scope or `full` becomes admin, `ingest` stays ingest", () => {
		const v1 = (keyId: string, n: number, scope?: "full" | "ingest"): ProposedEvent => ({
			id: `v1-${keyId}`,
			type: "org.key_created",
			v: 1,
			ts: 20 + n,
			data: { keyId, hash: hash(n), ...(scope ? { scope } : {}) },
		});
		const stored = [logged(created(), 10), v1("k1", 1), v1("k2", 2, "full"), v1("k3", 3, "ingest")];
		const upcast = recorded(orgCatalog, stored);
		expect(upcast.slice(1).map((e) => e.v)).toEqual([2, 2, 2]);
		const state = fold(orgDefinition, upcast);
		expect(keyViews(state).map((k) => [k.id, k.role, k.expiresAt])).toEqual([
			["k1", "admin", null],
			["k2", "admin", null],
			["k3", "ingest", null],
		]);
		// The stored data is never rewritten: version 1 still validates as version 1.
		expect(orgCatalog.validate("org.key_created", stored[3]?.data, 1)).toMatchObject({ ok: true, v: 1 });
	});

	it("refuses keys before the org, a key id twice, and revoking an unknown or revoked key", () => {
		expect(() => stateOf(keyCreated("k1", 1))).toThrow(/created org/);
		expect(() => stateOf(created(), keyCreated("k1", 1), keyCreated("k1", 2))).toThrow(/already exists/);
		expect(() => stateOf(created(), revoked("k1"))).toThrow(/no key/);
		expect(() => stateOf(created(), keyCreated("k1", 1), revoked("k1"), revoked("k1"))).toThrow(/already revoked/);
	});

	it("the public state and key views carry no hashes", () => {
		const state = stateOf(created(), keyCreated("k1", 1));
		expect(JSON.stringify(publicOrgState(state))).not.toContain(hash(1));
		expect(JSON.stringify(keyViews(state))).not.toContain(hash(1));
		expect(state.keys.k1?.hash).toBe(hash(1));
	});

	it("every change the decider makes is valid against the catalog", () => {
		for (const change of [created("a"), keyCreated("k", 1, "a"), revoked("k")]) {
			expect(orgCatalog.validate(change.type, change.data).ok, change.type).toBe(true);
		}
	});
});

describe("rate limit config", () => {
	it("every limiter in wrangler.jsonc has the period the 429's Retry-After announces", () => {
		const text = wranglerConfig.replace(/^\s*\/\/.*$/gm, "");
		const config = JSON.parse(text) as { ratelimits: { name: string; simple: { period: number } }[] };
		expect(config.ratelimits.map((r) => r.name).sort()).toEqual(["IP_RATE_LIMIT", "KEY_RATE_LIMIT"]);
		for (const limiter of config.ratelimits) expect(limiter.simple.period).toBe(RATE_LIMIT_PERIOD_SECONDS);
	});
});

describe("redaction for readers", () => {
	const log = recorded(
		orgCatalog,
		[created(), keyCreated("k1", 1), keyCreated("k2", 2), revoked("k2")].map((c) => logged(c)),
	);
	const exported = (() => {
		let prev = GENESIS_HASH;
		return log.map((event) => {
			const hash = expectedHash(prev, { ...event, hash: "" });
			prev = hash;
			const shown = orgDefinition.redactEvent?.(event) ?? event;
			return { ...shown, hash, ...(shown !== event ? { redacted: true as const } : {}) };
		});
	})();

	it("key hashes are replaced in key events and dropped from the state; other events are the same object", () => {
		expect(exported.map((e) => (e.data as { hash?: string }).hash)).toEqual([undefined, REDACTED, REDACTED, undefined]);
		expect(orgDefinition.redactEvent?.(log[0] as RecordedEvent)).toBe(log[0]);
		expect(JSON.stringify(orgDefinition.redactState?.(fold(orgDefinition, log)))).not.toContain(hash(1));
	});

	it("an export read with redaction checks offline: redacted rows are not checkable, and the chain goes on from their hash", () => {
		expect(checkChain(exported)).toMatchObject({ ok: true, checked: 2, unchecked: [2, 3], headHash: exported.at(-1)?.hash });
		const tampered = exported.map((e) => (e.seq === 4 ? { ...e, ts: e.ts + 1 } : e));
		expect(checkChain(tampered)).toMatchObject({ ok: false, brokenAt: 4 });
	});
});
