/**
 * Roles: every org route, its sockets and /mcp walked with a key of every role. A route opens to the roles at or
 * above its least role (viewer < analyst < admin) and, where the table says so, to ingest keys; every other key
 * gets a 403 naming the role needed. The expectations come from the route table in routes.ts (and docs/api.md),
 * not from src/http/roles.ts; /openapi.json must state the same role per route.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, createKey, createOrg, expectProblem } from "./helpers.ts";
import { ORG_ROUTES, type OrgRoute, seedSession, send, type Tenant } from "./routes.ts";

type Role = OrgRoute["role"];
const ROLES: Role[] = ["admin", "analyst", "viewer", "ingest"];
/** The route roles each key role opens: the contract in docs/api.md, "Roles". */
const OPENS: Record<Role, Role[]> = {
	admin: ["admin", "analyst", "viewer", "ingest"],
	analyst: ["analyst", "viewer"],
	viewer: ["viewer"],
	ingest: ["ingest"],
};
const opens = (role: Role, route: Pick<OrgRoute, "role" | "ingest">) =>
	OPENS[role].includes(route.role) || (role === "ingest" && route.ingest === true);

let owner: Tenant;
const keys = {} as Record<Role, string>;

beforeAll(async () => {
	const org = await createOrg("Roles");
	owner = { ...org, session: await seedSession(org.org, org.key) };
	keys.admin = org.key;
	for (const role of ["analyst", "viewer", "ingest"] as const) keys[role] = (await createKey(org.org, org.key, role, role)).key;
});

async function helloOf(res: Response): Promise<Record<string, unknown>> {
	expect(res.status).toBe(101);
	const socket = res.webSocket;
	if (!socket) throw new Error("no WebSocket");
	const first = new Promise<Record<string, unknown>>((resolve) =>
		socket.addEventListener("message", (event) => resolve(JSON.parse(event.data as string)), { once: true }),
	);
	socket.accept();
	const hello = await first;
	socket.close(1000, "done");
	return hello;
}

describe.each(ORG_ROUTES.map((route) => [route.route, route] as [string, OrgRoute]))("%s", (_name, route) => {
	it.each(ROLES)("with a %s key", async (role) => {
		const res = await send(route, await route.path(owner), keys[role]);
		if (!opens(role, route)) {
			const body = await expectProblem(res, 403);
			expect(body.detail).toContain(`needs the ${route.role} role`);
			expect(body.detail).toContain(`has the ${role} role`);
			expect((body as unknown as { requiredRole: string }).requiredRole).toBe(route.role);
			return;
		}
		if (!route.ws) {
			expect(res.status, await res.clone().text()).toBe(route.ok);
			return;
		}
		const hello = await helloOf(res);
		expect(hello).toMatchObject({ t: "hello" });
		// An ingest key's socket is send-only; every other role's gets the log.
		if (role === "ingest") expect(hello.sendOnly).toBe(true);
		else expect(hello).not.toHaveProperty("sendOnly");
	});
});

describe("/mcp", () => {
	const initialize = (key: string) =>
		exports.default.fetch(`${BASE}/mcp`, {
			method: "POST",
			headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${key}` },
			body: JSON.stringify({
				jsonrpc: "2.0",
				id: 1,
				method: "initialize",
				params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
			}),
		});

	it.each(ROLES)("with a %s key", async (role) => {
		const res = await initialize(keys[role]);
		if (opens(role, { role: "viewer" })) {
			expect(res.status, await res.clone().text()).toBe(200);
			expect(await res.json()).toMatchObject({ result: { serverInfo: expect.anything() } });
		} else {
			const body = await expectProblem(res, 403);
			expect(body.detail).toContain("needs the viewer role");
		}
	});
});

describe("/openapi.json", () => {
	it("states the least role of every org route, as the route table does", async () => {
		const doc = await (await exports.default.fetch(`${BASE}/openapi.json`)).json<{
			paths: Record<string, Record<string, { "x-roost-role"?: string; description?: string }>>;
		}>();
		const stated = new Map<string, string | undefined>();
		for (const [path, methods] of Object.entries(doc.paths)) {
			if (!path.startsWith("/v1/orgs/{org}")) continue;
			for (const [method, op] of Object.entries(methods)) {
				// Deleting an org takes the admin token, never an org key: retention.test.ts.
				if (method === "delete" && path === "/v1/orgs/{org}") continue;
				stated.set(`${method.toUpperCase()} ${path}`, op["x-roost-role"]);
				expect(op.description, path).toContain(`Needs the ${op["x-roost-role"]} role`);
			}
		}
		const walked = new Map(ORG_ROUTES.map((r) => [r.route.replace(/ \(.*\)$/, ""), r.role]));
		expect(Object.fromEntries(stated)).toEqual(Object.fromEntries(walked));
	});
});
