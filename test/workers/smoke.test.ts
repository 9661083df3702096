import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("boots", async () => {
	const res = await exports.default.fetch("http://x/v1/orgs/acme/sessions/s1/events", {
		method: "POST",
		headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
		body: JSON.stringify({ events: [{ id: "e1", type: "session.page_viewed", ts: 1000, data: { url: "https://a.com/x", path: "/x" } }] }),
	});
	expect(res.status).toBe(202);
	expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, version: 2 });
});
