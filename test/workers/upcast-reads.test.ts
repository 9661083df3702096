/**
 * Every read of a stored event sees it upcast: a `session.page_viewed` stored at v1 (its catalog is at v2) read
 * through the events page, a read by id, a socket and the state. The reverse-by-type reads of the org and the chat
 * go through the same catalog upcast; test/node/upcast-reads.test.ts shows it with a catalog that has a v2 of their types.
 */
import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "../../src/events/envelope.ts";
import { allEvents, getJson, postBatch, Subscriber, uniqueId } from "./helpers.ts";

const ORG = "acme";
const sessionPath = (id: string) => `/v1/orgs/${ORG}/sessions/${id}`;

describe("a v1 row read through every path", () => {
	it("is v2 on the events page, by id, on a socket and in the state; raw reads show it as stored", async () => {
		const session = uniqueId("s");
		const id = uniqueId("e");
		const old = { id, type: "session.page_viewed", v: 1, ts: 1_700_000_000_010, data: { url: "https://shop.example/cart?step=2" } };
		expect((await postBatch(ORG, session, { events: [old] })).status).toBe(202);
		const upcast = { id, v: 2, data: { url: old.data.url, path: "/cart" } };

		const page = await allEvents(sessionPath(session));
		expect(page.find((e) => e.id === id)).toMatchObject(upcast);
		const byId = await getJson<{ events: EventEnvelope[] }>(`${sessionPath(session)}/events?id=${id}`);
		expect(byId.events).toEqual([expect.objectContaining(upcast)]);
		const raw = await getJson<{ events: EventEnvelope[] }>(`${sessionPath(session)}/events?id=${id}&raw=true`);
		expect(raw.events[0]).toMatchObject({ v: 1, data: { url: old.data.url } });
		expect(raw.events[0]?.data).not.toHaveProperty("path");

		const socket = await Subscriber.open(sessionPath(session));
		try {
			await socket.until((s) => s.events().some((e) => e.id === id));
			expect(socket.events().find((e) => e.id === id)).toMatchObject(upcast);
		} finally {
			socket.close();
		}

		const { state } = await getJson<{ state: { currentPage: string } }>(`${sessionPath(session)}/state`);
		expect(state.currentPage).toBe("/cart");
	});
});
