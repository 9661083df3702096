/**
 * Inline projections (src/actors/kernel/projections.ts) through the org's `interactions` projection: written in the
 * same transaction as the events (a fault after it leaves neither), searched by user, page, source and time with a
 * cursor, rebuilt from the log in chunks (PROJECTION_CHUNK is 50 in tests) on request and when its stored version
 * differs from the declared one, and erasure-aware for user ids.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { armFault, disarmFault } from "../../src/actors/faults.ts";
import type { OrgActor } from "../../src/actors/org.ts";
import { SubjectKeys } from "../../src/actors/subject-keys.ts";
import { actorName } from "../../src/core/identity.ts";
import { call, createOrg, expectProblem } from "./helpers.ts";

const T0 = 1_800_000_000_000;
const MIN = 60_000;

type Hit = { seq: number; id: string; source: string; endedAt: number; actor: { id: string }; summary: { userId?: string | null } };
type Page = { interactions: Hit[]; cursor: string | null };
type Statuses = { projections: { name: string; version: number; status: string; rows: number; through: number }[] };

function interaction(n: number, source: "web" | "cctv" | "chat", pages: string[], userId?: string) {
	const kind = source === "web" ? "session" : source === "cctv" ? "camera" : "chat";
	const actorId = `${kind[0]}${n}`;
	return {
		id: `${kind}:${actorId}:visit-1`,
		source,
		actor: { kind, id: actorId },
		startedAt: T0 + n * MIN - 1000,
		endedAt: T0 + n * MIN,
		summary: { visit: 1, pages, ...(userId ? { userId } : {}) },
	};
}

async function record(stub: DurableObjectStub<OrgActor>, org: string, data: ReturnType<typeof interaction>) {
	const kind = data.actor.kind as "session";
	const received = await stub.receive({
		id: `${data.id}>org`,
		from: { kind, org, id: data.actor.id },
		type: "interaction",
		data,
		meta: {},
	});
	expect(received.ok).toBe(true);
}

async function search(org: string, key: string, query: string): Promise<Page> {
	const res = await call(`/v1/orgs/${org}/interactions/search?${query}`, { headers: { authorization: `Bearer ${key}` } });
	expect(res.status).toBe(200);
	return res.json<Page>();
}

/** An org with 30 interactions: web visits (every third by user u-a, pages /a and /n), camera episodes and chats. */
async function seeded() {
	const org = await createOrg("Projections");
	const stub = env.ORG.getByName(actorName(org.org, org.org));
	for (let n = 1; n <= 30; n++) {
		const source = n % 5 === 0 ? "cctv" : n % 7 === 0 ? "chat" : "web";
		await record(stub, org.org, interaction(n, source, source === "web" ? ["/a", `/p${n}`] : [], n % 3 === 0 ? "u-a" : undefined));
	}
	return { ...org, stub };
}

describe("the interactions projection", () => {
	it("answers by user, page, source and time, newest first, paging by cursor through all of them", async () => {
		const { org, key } = await seeded();
		const byUser = await search(org, key, "user=u-a&limit=200");
		const expected = [30, 27, 24, 21, 18, 15, 12, 9, 6, 3].map((n) => (n % 5 === 0 ? `c${n}` : n % 7 === 0 ? `c${n}` : `s${n}`));
		expect(byUser.interactions.map((h) => h.actor.id)).toEqual(expected);
		expect(byUser.interactions.every((h) => h.summary.userId === "u-a")).toBe(true);
		expect((await search(org, key, "page=/p8")).interactions.map((h) => h.actor.id)).toEqual(["s8"]);
		expect((await search(org, key, "source=cctv")).interactions.map((h) => h.actor.id)).toEqual(["c30", "c25", "c20", "c15", "c10", "c5"]);
		const window = await search(org, key, `from=${T0 + 10 * MIN}&to=${T0 + 13 * MIN}`);
		expect(window.interactions.map((h) => h.endedAt)).toEqual([T0 + 12 * MIN, T0 + 11 * MIN, T0 + 10 * MIN]);
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const page: Page = await search(org, key, `page=/a&limit=4${cursor ? `&cursor=${cursor}` : ""}`);
			seen.push(...page.interactions.map((h) => h.actor.id));
			cursor = page.cursor;
		} while (cursor !== null);
		const web = Array.from({ length: 30 }, (_, i) => 30 - i).filter((n) => n % 5 !== 0 && n % 7 !== 0);
		expect(seen).toEqual(web.map((n) => `s${n}`));
		await expectProblem(await call(`/v1/orgs/${org}/interactions/search?source=fax`, { headers: { authorization: `Bearer ${key}` } }), 400);
	});

	it("a fault after the projection rolls back the events with it; the retry lands once in both", async () => {
		const { org, key, stub } = await seeded();
		armFault({ point: "append.after-projections", object: actorName(org, org), mode: "throw" });
		const data = interaction(40, "web", ["/late"]);
		await expect(record(stub, org, data)).rejects.toThrow();
		disarmFault();
		expect((await search(org, key, "page=/late")).interactions).toEqual([]);
		await record(stub, org, data);
		await record(stub, org, data);
		expect((await search(org, key, "page=/late")).interactions.map((h) => h.id)).toEqual([data.id]);
	});

	it("rebuilds from the log in chunks on request and when its stored version differs, with the same answers", async () => {
		const { org, key, stub } = await seeded();
		const admin = { authorization: `Bearer ${key}` };
		const before = await search(org, key, "limit=200");
		// Stored under another version: the next wake drops the tables and rebuilds them.
		await runInDurableObject(stub, (_i, state) => {
			state.storage.sql.exec("UPDATE kernel_projections SET version = 0 WHERE name = 'interactions'");
		});
		await evictDurableObject(stub);
		expect(await search(org, key, "limit=200")).toEqual(before);
		// On request: the first chunk (50 events) now; more than 50 events make it rebuilding until the alarm runs.
		for (let n = 41; n <= 80; n++) await record(stub, org, interaction(n, "chat", []));
		const started = await call(`/v1/orgs/${org}/projections/interactions/rebuild`, { method: "POST", headers: admin });
		expect(started.status).toBe(202);
		const status = (await started.json<Statuses>()).projections[0];
		expect(status).toMatchObject({ name: "interactions", version: 1, status: "rebuilding" });
		await expectProblem(await call(`/v1/orgs/${org}/interactions/search`, { headers: admin }), 503);
		for (let i = 0; i < 5 && (await stub.projections()).ok; i++) await runDurableObjectAlarm(stub);
		const listed = await call(`/v1/orgs/${org}/projections`, { headers: admin });
		expect((await listed.json<Statuses>()).projections[0]).toMatchObject({ status: "live", rows: 70 });
		expect((await search(org, key, "source=web&limit=200")).interactions).toEqual(before.interactions.filter((h) => h.source === "web"));
	});

	it("opens a page's user ids with keys read together: past 100 subjects, an erased one null, in order", async () => {
		const org = await createOrg("Projection keys");
		const stub = env.ORG.getByName(actorName(org.org, org.org));
		// 120 web visits, each its own session and user: a page of 120 subjects, more than one IN (...) of 100 binds.
		for (let n = 1; n <= 120; n++) await record(stub, org.org, interaction(n, "web", ["/k"], `u-${n}`));
		await record(stub, org.org, interaction(121, "web", ["/k"]));
		const erased = await runInDurableObject(stub, (_instance: OrgActor, state) => {
			const keys = new SubjectKeys(state.storage.sql);
			return keys.ofUser("u-7").map((k) => keys.shred(k.subject));
		});
		expect(erased).toEqual([1]);
		const page = await search(org.org, org.key, "page=/k&limit=200");
		expect(page.cursor).toBeNull();
		expect(page.interactions.map((h) => [h.actor.id, h.summary.userId])).toEqual(
			Array.from({ length: 121 }, (_, i) => 121 - i).map((n) => [`s${n}`, n === 121 ? undefined : n === 7 ? null : `u-${n}`]),
		);
		// The same rows by cursor, 50 at a time, give the same interactions.
		const paged: Hit[] = [];
		let cursor: string | null = null;
		do {
			const next: Page = await search(org.org, org.key, `page=/k&limit=50${cursor ? `&cursor=${cursor}` : ""}`);
			paged.push(...next.interactions);
			cursor = next.cursor;
		} while (cursor);
		expect(paged).toEqual(page.interactions);
	});
});
