/**
 * The org's settings (docs/api.md, "Org settings"), through the real runtime: read by analysts, changed by admins,
 * validated field by field, recorded as `org.settings_set` in the audit trail.
 */
import { describe, expect, it } from "vitest";
import { call, createKey, createOrg, expectProblem, getJson, type TestOrg } from "./helpers.ts";

/** A key, or the org's own key. */
const bearer = (key: string | TestOrg) => ({ authorization: `Bearer ${typeof key === "string" ? key : key.key}` });
const DEFAULTS = { sessionInactivitySeconds: 3600, cameraBatchSeconds: 300, cameraOfflineSeconds: 300 };

const putSettings = (org: TestOrg, body: unknown, key = org.key) =>
	call(`/v1/orgs/${org.org}/settings`, { method: "PUT", headers: bearer(key), body: JSON.stringify(body) });

describe("org settings", () => {
	it("answers the deployment's defaults until an admin changes one, then all of them with the change", async () => {
		const org = await createOrg("Settings");
		expect(await getJson(`/v1/orgs/${org.org}/settings`, { headers: bearer(org) })).toEqual(DEFAULTS);
		const res = await putSettings(org, { sessionInactivitySeconds: 120 });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ ...DEFAULTS, sessionInactivitySeconds: 120 });
		const both = await putSettings(org, { cameraBatchSeconds: 60, cameraOfflineSeconds: 900 });
		expect(await both.json()).toEqual({ sessionInactivitySeconds: 120, cameraBatchSeconds: 60, cameraOfflineSeconds: 900 });
		expect(await getJson(`/v1/orgs/${org.org}/settings`, { headers: bearer(org) })).toEqual({
			sessionInactivitySeconds: 120,
			cameraBatchSeconds: 60,
			cameraOfflineSeconds: 900,
		});
	});

	it("records each change once in the audit trail, with who made it; the same values again record nothing", async () => {
		const org = await createOrg("Settings audit");
		expect((await putSettings(org, { sessionInactivitySeconds: 600 })).status).toBe(200);
		expect((await putSettings(org, { sessionInactivitySeconds: 600 })).status).toBe(200);
		const audit = await getJson<{ entries: { type: string; data: unknown }[] }>(`/v1/orgs/${org.org}/audit`, { headers: bearer(org) });
		const changes = audit.entries.filter((e) => e.type === "org.settings_set");
		expect(changes).toEqual([expect.objectContaining({ data: { sessionInactivitySeconds: 600, setBy: org.keyId } })]);
	});

	it.each([
		[{ sessionInactivitySeconds: 59 }, "sessionInactivitySeconds"],
		[{ sessionInactivitySeconds: 604_801 }, "sessionInactivitySeconds"],
		[{ sessionInactivitySeconds: 90.5 }, "sessionInactivitySeconds"],
		[{ cameraBatchSeconds: 9 }, "cameraBatchSeconds"],
		[{ cameraOfflineSeconds: "300" }, "cameraOfflineSeconds"],
		[{ sessionTimeout: 600 }, "sessionTimeout"],
	])("refuses %j with a 400 naming %s, and changes nothing", async (body, field) => {
		const org = await createOrg("Settings bad");
		const problem = await expectProblem(await putSettings(org, body), 400);
		expect(problem.errors?.map((e) => e.path)).toContain(field);
		expect(await getJson(`/v1/orgs/${org.org}/settings`, { headers: bearer(org) })).toEqual(DEFAULTS);
	});

	it("an analyst reads the settings but cannot change them; a viewer cannot read them", async () => {
		const org = await createOrg("Settings roles");
		const analyst = await createKey(org.org, org.key, "analyst", "analyst");
		const viewer = await createKey(org.org, org.key, "viewer", "viewer");
		expect((await call(`/v1/orgs/${org.org}/settings`, { headers: bearer(analyst.key) })).status).toBe(200);
		await expectProblem(await putSettings(org, { sessionInactivitySeconds: 120 }, analyst.key), 403);
		await expectProblem(await call(`/v1/orgs/${org.org}/settings`, { headers: bearer(viewer.key) }), 403);
	});

	it("another org's admin key gets the 404 an unknown org gets, and changes nothing", async () => {
		const [org, other] = [await createOrg("Settings A"), await createOrg("Settings B")];
		const read = await call(`/v1/orgs/${org.org}/settings`, { headers: bearer(other.key) });
		expect(read.status).toBe(404);
		const write = await putSettings(org, { sessionInactivitySeconds: 120 }, other.key);
		expect(write.status).toBe(404);
		expect(await getJson(`/v1/orgs/${org.org}/settings`, { headers: bearer(org) })).toEqual(DEFAULTS);
	});
});
