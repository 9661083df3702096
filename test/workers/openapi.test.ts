import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import apiDoc from "../../docs/api.md?raw";
import { BASE } from "./helpers.ts";
import { ORG_ROUTES } from "./routes.ts";

interface Operation {
	"x-roost-role"?: string;
	security?: Record<string, string[]>[];
	responses: Record<string, { content?: Record<string, unknown> }>;
	parameters?: { name: string; in: string }[];
}
type Doc = { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

async function openapi(): Promise<Doc> {
	const res = await exports.default.fetch(`${BASE}/openapi.json`);
	expect(res.status).toBe(200);
	return res.json<Doc>();
}

const operations = (doc: Doc) =>
	Object.entries(doc.paths).flatMap(([path, methods]) =>
		Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
	);

describe("openapi.json", () => {
	it("docs/api.md describes exactly the routes of /openapi.json", async () => {
		const documented = [...apiDoc.matchAll(/^#{3,4} `(GET|POST|DELETE|PUT|PATCH) (\/[^`]+)`$/gm)].map((m) => `${m[1]} ${m[2]}`);
		expect(documented.sort()).toEqual(
			operations(await openapi())
				.map((o) => o.route)
				.sort(),
		);
	});

	it("docs/api.md states under each org route the least role /openapi.json gives it", async () => {
		const stated = new Map<string, string>();
		let group: string[] = [];
		let open = false;
		for (const line of apiDoc.split("\n")) {
			const heading = /^#{3,4} `(GET|POST|PUT|PATCH|DELETE) (\/v1\/orgs\/\{org\}[^`]*)`$/.exec(line);
			if (heading) {
				if (!open) group = [];
				group.push(`${heading[1]} ${heading[2]}`);
				open = true;
				continue;
			}
			if (line.startsWith("#")) group = [];
			if (line.trim() !== "") open = false;
			const role = /^Role: `(\w+)`/.exec(line);
			if (role?.[1]) for (const route of group.splice(0)) stated.set(route, role[1]);
		}
		const expected = operations(await openapi())
			.filter((o) => o.route.includes("/v1/orgs/{org}"))
			.map((o) => [o.route, o.op["x-roost-role"]]);
		expect(Object.fromEntries(stated)).toEqual(Object.fromEntries(expected));
	});

	it("every org route needs the org's key and says so, with 401, 403 and 404 among its answers; admin routes need the admin token", async () => {
		const doc = await openapi();
		expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "orgKey"]);
		for (const { route, op } of operations(doc)) {
			// The one public route: uptime monitors call it without credentials (src/api/health.ts).
			if (route === "GET /healthz") {
				expect(op.security, route).toEqual([]);
				continue;
			}
			const admin = route.endsWith(" /v1/orgs") || route === "DELETE /v1/orgs/{org}";
			// Following an org's deletion: its keys stop at once, so the admin token opens it too.
			const both = route === "GET /v1/orgs/{org}";
			expect(op.security, route).toEqual(both ? [{ orgKey: [] }, { adminToken: [] }] : [{ [admin ? "adminToken" : "orgKey"]: [] }]);
			expect(Object.keys(op.responses), route).toEqual(expect.arrayContaining(admin ? ["401", "429"] : ["401", "403", "404", "429"]));
			expect(op.responses["401"]?.content, route).toHaveProperty(["application/problem+json"]);
		}
	});

	it("the route table the auth and tenancy suites walk covers every org route", async () => {
		const walked = new Set(ORG_ROUTES.map((r) => r.route.replace(/ \(.*\)$/, "")));
		const orgRoutes = operations(await openapi())
			.map((o) => o.route)
			.filter((route) => route.includes("/v1/orgs/{org}") && route !== "DELETE /v1/orgs/{org}");
		expect([...walked].sort()).toEqual(orgRoutes.sort());
	});
});
