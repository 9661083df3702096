/**
 * SubjectKeys.opener (src/actors/subject-keys.ts): a page of sealed values opened with its keys read together, in one
 * statement per 100 subjects (Durable Object SQLite's bound parameter limit), answering exactly as `open` does value
 * by value: clear text, null for a shredded or unknown subject, a value that is not sealed as it is.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OrgActor } from "../../src/actors/org.ts";
import { SEALED_PREFIX, SubjectKeys } from "../../src/actors/subject-keys.ts";
import { actorName } from "../../src/core/identity.ts";
import { createOrg } from "./helpers.ts";

/** The org's own storage, counting the statements run through it. */
function counting(sql: SqlStorage): { sql: SqlStorage; statements: () => number; reset: () => void } {
	let statements = 0;
	const exec = (query: string, ...binds: SqlStorageValue[]) => {
		statements++;
		return sql.exec(query, ...binds);
	};
	return { sql: { exec } as unknown as SqlStorage, statements: () => statements, reset: () => (statements = 0) };
}

describe("SubjectKeys.opener", () => {
	it("opens 250 subjects' values with 3 key reads, the same as open value by value", async () => {
		const org = await createOrg("Subject keys");
		const stub = env.ORG.getByName(actorName(org.org, org.org));
		const result = await runInDurableObject(stub, (_instance: OrgActor, state) => {
			const sql = state.storage.sql;
			const keys = new SubjectKeys(sql);
			// 250 subjects: 125 users, each sealed under two actors; every value sealed twice (a page repeats subjects).
			const values: string[] = [];
			for (let n = 0; n < 125; n++) {
				for (const actor of [`session:a${n}`, `session:b${n}`]) values.push(keys.seal(`user-${n}`, actor), keys.seal(`user-${n}`, actor));
			}
			for (const key of keys.ofUser("user-3")) keys.shred(key.subject);
			values.push("plain-user", `${SEALED_PREFIX}00000000-0000-0000-0000-000000000000:AAAA`);
			const counted = counting(sql);
			const opener = new SubjectKeys(counted.sql);
			counted.reset();
			const open = opener.opener(values);
			const reads = counted.statements();
			const batched = values.map((v) => open.open(v));
			return { reads, after: counted.statements(), batched, single: values.map((v) => keys.open(v)) };
		});
		expect(result.reads).toBe(3);
		expect(result.after).toBe(3);
		expect(result.batched).toEqual(result.single);
		expect(result.batched.slice(0, 4)).toEqual(["user-0", "user-0", "user-0", "user-0"]);
		expect(result.batched.slice(12, 16)).toEqual([null, null, null, null]);
		expect(result.batched.slice(-2)).toEqual(["plain-user", null]);
	});

	it("reads a key it was not made for when asked, once", async () => {
		const org = await createOrg("Subject keys late");
		const stub = env.ORG.getByName(actorName(org.org, org.org));
		const result = await runInDurableObject(stub, (_instance: OrgActor, state) => {
			const sql = state.storage.sql;
			const keys = new SubjectKeys(sql);
			const early = keys.seal("early", "session:e");
			const late = keys.seal("late", "session:l");
			const counted = counting(sql);
			const open = new SubjectKeys(counted.sql).opener([early]);
			counted.reset();
			const opened = [open.open(early), open.open(late), open.open(late)];
			return { opened, statements: counted.statements() };
		});
		expect(result.opened).toEqual(["early", "late", "late"]);
		expect(result.statements).toBe(1);
	});
});
