/**
 * A rollback (docs/deploy.md): the log holds an event of a version newer than the running catalog knows. Upcasters
 * run forward only, so the kernel refuses it, on append (live and import) and on every read that would fold or
 * upcast it, with an error that says so; it never folds data of a shape it does not know.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { pageViewed } from "../../src/events/session.ts";
import { call, getJson, pageView, postBatch, uniqueId } from "./helpers.ts";

const ORG = "acme";
const NEWER = pageViewed.version + 1;
const sessionPath = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;

/** A session with three events whose page view at seq 2 is then rewritten as if a newer release had written it. */
async function sessionWithNewerEvent(): Promise<string> {
	const session = uniqueId("s");
	expect((await postBatch(ORG, session, { events: [pageView("/a"), pageView("/b")] })).status).toBe(202);
	const stub = env.SESSION.getByName(actorName(ORG, session));
	await runInDurableObject(stub, (_instance, state) => {
		state.storage.sql.exec("UPDATE events SET v = ? WHERE seq = 2", NEWER);
	});
	await evictDurableObject(stub);
	return session;
}

async function expectNewerVersionProblem(res: Response): Promise<void> {
	expect(res.status).toBe(500);
	expect(res.headers.get("content-type")).toBe("application/problem+json");
	const problem = (await res.json()) as { type: string; title: string; detail: string };
	expect(problem.type).toBe("/problems/newer-event-version");
	expect(problem.title).toBe("Written by a newer version");
	expect(problem.detail).toContain(`session.page_viewed v${NEWER} was written by a newer version of Roost`);
	expect(problem.detail).toContain(`this deployment knows up to v${pageViewed.version}`);
}

describe("an event version newer than the catalog (a rollback)", () => {
	it("is refused on append, naming the field and saying a newer version wrote it", async () => {
		const event = { ...pageView("/a"), v: NEWER };
		const res = await postBatch(ORG, uniqueId("s"), { events: [event] });
		expect(res.status).toBe(400);
		const problem = (await res.json()) as { errors: { path: string; message: string }[] };
		expect(problem.errors).toEqual([{ path: "events[0].v", message: expect.stringContaining("written by a newer version of Roost") }]);
	});

	it("is refused on import into a sandbox", async () => {
		const source = uniqueId("s");
		await postBatch(ORG, source, { events: [pageView("/a")] });
		const { events } = await getJson<{ events: EventEnvelope[] }>(`${sessionPath(source)}/events?raw=true&limit=1000`);
		const newer = events.map(({ actor: _actor, ...e }) => ({ ...e, v: e.type === "session.page_viewed" ? NEWER : e.v }));
		const sandbox = `sandbox-${crypto.randomUUID()}`;
		const res = await call(`${sessionPath(sandbox)}/import`, { method: "POST", body: JSON.stringify({ events: newer }) });
		expect(res.status).toBe(400);
		expect(JSON.stringify(await res.json())).toContain("written by a newer version of Roost");
	});

	it("stored in the log, it is refused on wake, on reads of state and events, and never folded", async () => {
		const session = await sessionWithNewerEvent();
		await expectNewerVersionProblem(await call(`${sessionPath(session)}/state`));
		await expectNewerVersionProblem(await call(`${sessionPath(session)}/state?version=2`));
		await expectNewerVersionProblem(await call(`${sessionPath(session)}/events`));
		// Appending on top of it is refused too: the actor cannot wake to check the batch against its state.
		await expectNewerVersionProblem(await postBatch(ORG, session, { events: [pageView("/c")] }));
	});

	it("the raw read is refused too: the actor does not wake on a log it cannot fold", async () => {
		const session = await sessionWithNewerEvent();
		await expectNewerVersionProblem(await call(`${sessionPath(session)}/events?raw=true`));
		await expectNewerVersionProblem(await call(`${sessionPath(session)}/verify`));
	});
});
