/**
 * The org's health report covers every kind it holds: the org, sessions, cameras and chats (docs/operations.md).
 * A chat the org has heard from (an answered question, recorded as a chat interaction) is followed and probed.
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_KINDS } from "../../src/kinds.ts";
import { call, getJson, uniqueId } from "./helpers.ts";

const ORG = "acme-health-kinds";

interface Report {
	kinds: Record<string, { followed: number; probed: number; outboxPending: number; storageBytes: number; status: string }>;
}

describe("the org's health", () => {
	it("reports every kind of actor under the org, chats included, once a chat has answered", async () => {
		const empty = await getJson<Report>(`/v1/orgs/${ORG}/health`);
		const kinds = BUILTIN_KINDS.filter((k) => k.name === "org" || k.segment !== null).map((k) => k.name);
		expect(Object.keys(empty.kinds).sort()).toEqual([...kinds].sort());
		expect(empty.kinds.chat).toMatchObject({ followed: 0, probed: 0, status: "ok" });

		// The offline responder answers (no model is configured in tests); the answered question reaches the org.
		const chat = uniqueId("c");
		const res = await call(`/v1/orgs/${ORG}/chats/${chat}/messages`, {
			method: "POST",
			body: JSON.stringify({ text: "What happened recently?", clientActionId: uniqueId("m") }),
		});
		expect(res.status, await res.clone().text()).toBe(202);
		let report = empty;
		for (let i = 0; i < 100 && report.kinds.chat?.followed !== 1; i++) {
			await new Promise((resolve) => setTimeout(resolve, 50));
			report = await getJson<Report>(`/v1/orgs/${ORG}/health`);
		}
		expect(report.kinds.chat).toMatchObject({ followed: 1, probed: 1, status: "ok" });
		expect(report.kinds.chat?.storageBytes).toBeGreaterThan(0);
	});
});
