import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SessionActor } from "../../src/actors/session.ts";
import { actorName } from "../../src/core/identity.ts";
import type { EventEnvelope, RecordedEvent } from "../../src/events/envelope.ts";
import type { ActorDefinition } from "../../src/reducers/definition.ts";
import { type SessionState, sessionDefinition } from "../../src/reducers/session.ts";
import { allEvents, call, getJson, pageView, postBatch, uniqueId } from "./helpers.ts";

const ORG = "acme";
const path = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;

async function sessionWith(events: number): Promise<string> {
	const session = uniqueId("s");
	for (let i = 0; i < events; i += 7) {
		await postBatch(ORG, session, { events: Array.from({ length: Math.min(7, events - i) }, (_, j) => pageView(`/p${(i + j) % 5}`)) });
	}
	return session;
}

const raw = async (id: string) => {
	const out: EventEnvelope[] = [];
	for (let after = 0; ; ) {
		const page = await getJson<{ events: EventEnvelope[]; next: number | null }>(`${path(id)}/events?raw=true&after=${after}&limit=10`);
		out.push(...page.events);
		if (page.next === null) return out;
		after = page.next;
	}
};
const strip = (events: EventEnvelope[]) => events.map(({ actor: _actor, ...event }) => event);

describe("export and import", () => {
	it("an export imported into an empty sandbox reproduces the chain and the state", async () => {
		const source = await sessionWith(25);
		const exported = strip(await raw(source));
		const sandbox = `sandbox-${crypto.randomUUID()}`;
		for (let i = 0; i < exported.length; i += 10) {
			const res = await call(`${path(sandbox)}/import`, { method: "POST", body: JSON.stringify({ events: exported.slice(i, i + 10) }) });
			expect(res.status, await res.clone().text()).toBe(200);
		}
		const [from, to] = await Promise.all([
			getJson<{ headHash: string }>(`${path(source)}/verify`),
			getJson<{ ok: boolean; headHash: string }>(`${path(sandbox)}/verify`),
		]);
		expect(to).toMatchObject({ ok: true, headHash: from.headHash });
		expect((await raw(sandbox)).map((e) => e.hash)).toEqual(exported.map((e) => e.hash));
		expect((await getJson<{ state: unknown }>(`${path(sandbox)}/state`)).state).toEqual(
			(await getJson<{ state: unknown }>(`${path(source)}/state`)).state,
		);
		// Imported events run no effects: the sandbox has no inactivity timer and owes nothing.
		expect((await getJson<{ kernel: { timers: unknown[]; outbox: { pending: number } } }>(`${path(sandbox)}/state`)).kernel).toMatchObject({
			timers: [],
			outbox: { pending: 0 },
		});
	});

	it("an altered export is refused at the altered event, and nothing is imported", async () => {
		const exported = strip(await raw(await sessionWith(5)));
		const altered = exported.map((e, i) => (i === 2 ? { ...e, data: { ...(e.data as object), path: "/forged" } } : e));
		const sandbox = `sandbox-${crypto.randomUUID()}`;
		const res = await call(`${path(sandbox)}/import`, { method: "POST", body: JSON.stringify({ events: altered }) });
		expect(res.status).toBe(400);
		expect((await res.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("events[2].hash");
		expect((await getJson<{ version: number }>(`${path(sandbox)}/state`)).version).toBe(0);
	});

	it("imports go only into sandbox actors, and must continue the log", async () => {
		const exported = strip(await raw(await sessionWith(3)));
		const real = await call(`${path(uniqueId("s"))}/import`, { method: "POST", body: JSON.stringify({ events: exported }) });
		expect((await real.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("path.id");
		const gap = await call(`${path(`sandbox-${crypto.randomUUID()}`)}/import`, {
			method: "POST",
			body: JSON.stringify({ events: exported.slice(1) }),
		});
		expect(gap.status).toBe(400);
		expect((await gap.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("events[0].seq");
	});
});

describe("fork", () => {
	it("a fork at version N holds the source's first N events: same state at N, same chain up to N", async () => {
		const source = await sessionWith(20);
		const res = await call(`${path(source)}/fork`, { method: "POST", body: JSON.stringify({ at: 12 }) });
		expect(res.status).toBe(201);
		const fork = await res.json<{ path: string; version: number; headHash: string; actor: { id: string } }>();
		expect(fork.actor.id).toMatch(/^sandbox-/);
		expect(fork.version).toBe(12);
		const sourceEvents = await allEvents(path(source));
		expect(fork.headHash).toBe(sourceEvents[11]?.hash);
		const [forked, atTwelve] = await Promise.all([
			getJson<{ state: unknown }>(`${fork.path}/state`),
			getJson<{ state: unknown }>(`${path(source)}/state?at=12`),
		]);
		expect(forked.state).toEqual(atTwelve.state);
		const beyond = await call(`${path(source)}/fork`, { method: "POST", body: JSON.stringify({ at: 999 }) });
		expect((await beyond.json<{ errors: { path: string }[] }>()).errors[0]?.path).toBe("at");
	});
});

describe("inspection", () => {
	it("stored snapshots can be listed and read, and each equals the state at its version", async () => {
		const session = await sessionWith(30);
		const { snapshots } = await getJson<{ snapshots: { version: number; reducerVersion: string }[] }>(`${path(session)}/snapshots`);
		expect(snapshots.length).toBeGreaterThan(1);
		for (const { version, reducerVersion } of snapshots) {
			const stored = await getJson<{ state: unknown; reducerVersion: string }>(`${path(session)}/snapshots/${version}`);
			expect(stored.reducerVersion).toBe(reducerVersion);
			expect(stored.state).toEqual((await getJson<{ state: unknown }>(`${path(session)}/state?at=${version}`)).state);
		}
		expect((await call(`${path(session)}/snapshots/3`)).status).toBe(404);
	});

	it("an event can be read by its id", async () => {
		const session = await sessionWith(3);
		const [, second] = await allEvents(path(session));
		const page = await getJson<{ events: EventEnvelope[] }>(`${path(session)}/events?id=${second?.id}`);
		expect(page.events).toEqual([second]);
		expect((await getJson<{ events: unknown[] }>(`${path(session)}/events?id=nope`)).events).toEqual([]);
	});

	it("what-if replay agrees with itself, and flags a reducer that changed meaning without a new version", async () => {
		const session = await sessionWith(24);
		expect(await getJson(`${path(session)}/replay`)).toMatchObject({ ok: true, mismatches: [], checked: 25 });

		await runInDurableObject(env.SESSION.getByName(actorName(ORG, session)), (instance: SessionActor) => {
			// As if the deployed code now counted every page view twice but kept reducerVersion.
			const kernel = instance as unknown as { definition: ActorDefinition<SessionState> };
			const original = kernel.definition;
			kernel.definition = {
				...original,
				evolve: (state: SessionState, event: RecordedEvent) => {
					const next = original.evolve(state, event);
					return event.type === "session.page_viewed" && next.visit
						? { ...next, visit: { ...next.visit, pageViews: next.visit.pageViews + 1 } }
						: next;
				},
			};
		});
		const report = await getJson<{ ok: boolean; mismatches: { version: number; against: string; delta: unknown }[] }>(
			`${path(session)}/replay`,
		);
		expect(report.ok).toBe(false);
		expect(report.mismatches.map((m) => m.against)).toEqual(
			expect.arrayContaining([`snapshot session@${sessionDefinition.reducerVersion}`, "state in memory"]),
		);
		expect(report.mismatches[0]?.delta).toHaveProperty(["visit", "pageViews"]);
	});
});
