import { describe, expect, it } from "vitest";
import { GENESIS_HASH } from "../../src/actors/hash.ts";
import { RATE_LIMIT_PERIOD_SECONDS } from "../../src/api/rate-limit.ts";
import { checkChain, expectedHash } from "../../src/cli/chain.ts";
import type { RecordedEvent } from "../../src/events/envelope.ts";
import { orgCatalog } from "../../src/events/org.ts";
import { fold, REDACTED } from "../../src/reducers/definition.ts";
import { decideOrg, keyViews, type OrgChange, type OrgState, orgDefinition, publicOrgState } from "../../src/reducers/org.ts";
import wranglerConfig from "../../wrangler.jsonc?raw";

const hash = (n: number) => n.toString(16).padStart(64, "0");
let seq = 0;
const recorded = (change: OrgChange, ts = 1000 + seq): RecordedEvent => ({
	seq: ++seq,
	id: `e${seq}`,
	type: change.type,
	v: 1,
	ts,
	data: change.data,
	meta: {},
});
const created = (clientActionId?: string): OrgChange => ({
	type: "org.created",
	data: { name: "Acme", ...(clientActionId ? { clientActionId } : {}) },
});
const keyCreated = (keyId: string, n: number, clientActionId?: string): OrgChange => ({
	type: "org.key_created",
	data: { keyId, hash: hash(n), ...(clientActionId ? { clientActionId } : {}) },
});
const revoked = (keyId: string): OrgChange => ({ type: "org.key_revoked", data: { keyId } });

/** Given these events, the state is their fold. */
const given = (...changes: OrgChange[]): OrgState =>
	fold(
		orgDefinition,
		changes.map((c) => recorded(c)),
	);
const key = (keyId: string, n: number) => ({ keyId, hash: hash(n) });

describe("decide", () => {
	it("creating a new org records it with its first key", () => {
		expect(decideOrg({ kind: "create", name: "Acme", key: key("k1", 1), clientActionId: "a1" }, given(), 0)).toEqual([
			created("a1"),
			keyCreated("k1", 1, "a1"),
		]);
	});

	it("creating it again with the same action replaces that action's key; with another action it is refused", () => {
		const state = given(created("a1"), keyCreated("k1", 1, "a1"));
		expect(decideOrg({ kind: "create", name: "Acme", key: key("k2", 2), clientActionId: "a1" }, state, 2)).toEqual([
			revoked("k1"),
			keyCreated("k2", 2, "a1"),
		]);
		expect(decideOrg({ kind: "create", name: "Acme", key: key("k2", 2), clientActionId: "other" }, state, 2)).toMatchObject({
			kind: "rejected",
		});
		expect(decideOrg({ kind: "create", name: "Acme", key: key("k2", 2) }, state, 2)).toMatchObject({ kind: "rejected" });
	});

	it("issuing a key needs the org; a retried action revokes the key it issued before", () => {
		expect(decideOrg({ kind: "issue_key", key: key("k1", 1) }, given(), 0)).toMatchObject({ kind: "not_found" });
		const state = given(created(), keyCreated("k1", 1), keyCreated("k2", 2, "ci"));
		expect(decideOrg({ kind: "issue_key", key: key("k3", 3) }, state, 3)).toEqual([keyCreated("k3", 3)]);
		expect(decideOrg({ kind: "issue_key", key: key("k3", 3), clientActionId: "ci" }, state, 3)).toEqual([
			revoked("k2"),
			keyCreated("k3", 3, "ci"),
		]);
		expect(decideOrg({ kind: "issue_key", key: key("k1", 9) }, state, 3)).toMatchObject({ kind: "rejected" });
	});

	it("revoking: unknown is not found, revoked again is nothing, the last live key is a conflict", () => {
		const state = given(created(), keyCreated("k1", 1), keyCreated("k2", 2), revoked("k2"));
		expect(decideOrg({ kind: "revoke_key", keyId: "nope" }, state, 4)).toMatchObject({ kind: "not_found" });
		expect(decideOrg({ kind: "revoke_key", keyId: "k2" }, state, 4)).toEqual([]);
		expect(decideOrg({ kind: "revoke_key", keyId: "k1" }, state, 4)).toMatchObject({ kind: "conflict", currentVersion: 4 });
		expect(decideOrg({ kind: "revoke_key", keyId: "k1" }, given(created(), keyCreated("k1", 1), keyCreated("k3", 3)), 3)).toEqual([
			revoked("k1"),
		]);
	});

	it("an ingest key is issued with its scope, and live ingest keys do not make the last full key revocable", () => {
		const ingestKey = { ...key("k2", 2), scope: "ingest" as const };
		const state = given(created(), keyCreated("k1", 1));
		const issued = decideOrg({ kind: "issue_key", key: ingestKey }, state, 2);
		expect(issued).toEqual([{ type: "org.key_created", data: { keyId: "k2", hash: hash(2), scope: "ingest" } }]);
		// A full key is written without a scope, as before scopes existed.
		expect(decideOrg({ kind: "issue_key", key: { ...key("k3", 3), scope: "full" } }, state, 2)).toEqual([keyCreated("k3", 3)]);
		const withIngest = given(created(), keyCreated("k1", 1), ...(issued as OrgChange[]));
		expect(decideOrg({ kind: "revoke_key", keyId: "k1" }, withIngest, 3)).toMatchObject({ kind: "conflict" });
		expect(decideOrg({ kind: "revoke_key", keyId: "k2" }, withIngest, 3)).toEqual([revoked("k2")]);
	});
});

describe("evolve", () => {
	it("keys keep their hash, label, action and times; revocation stamps revokedAt from the event", () => {
		const state = fold(orgDefinition, [recorded(created(), 10), recorded(keyCreated("k1", 1, "a"), 11), recorded(revoked("k1"), 12)]);
		expect(state.keys.k1).toEqual({ label: null, scope: "full", createdAt: 11, revokedAt: 12, clientActionId: "a", hash: hash(1) });
		expect(state.createdAt).toBe(10);
	});

	it("a key created without a scope (as before scopes existed) is full; an ingest key keeps its scope", () => {
		const ingest: OrgChange = { type: "org.key_created", data: { keyId: "k2", hash: hash(2), scope: "ingest" } };
		const state = given(created(), keyCreated("k1", 1), ingest);
		expect(state.keys.k1?.scope).toBe("full");
		expect(state.keys.k2?.scope).toBe("ingest");
		expect(keyViews(state).map((k) => [k.id, k.scope])).toEqual([
			["k1", "full"],
			["k2", "ingest"],
		]);
	});

	it("refuses keys before the org, a key id twice, and revoking an unknown or revoked key", () => {
		expect(() => given(keyCreated("k1", 1))).toThrow(/created org/);
		expect(() => given(created(), keyCreated("k1", 1), keyCreated("k1", 2))).toThrow(/already exists/);
		expect(() => given(created(), revoked("k1"))).toThrow(/no key/);
		expect(() => given(created(), keyCreated("k1", 1), revoked("k1"), revoked("k1"))).toThrow(/already revoked/);
	});

	it("the public state and key views carry no hashes", () => {
		const state = given(created(), keyCreated("k1", 1));
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
	const log = [created(), keyCreated("k1", 1), keyCreated("k2", 2), revoked("k2")].map((c) => recorded(c));
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
