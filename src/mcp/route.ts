/**
 * `/mcp`: the MCP server over the streamable HTTP transport, stateless. Each POST gets a new server bound to
 * the org of the caller's API key and a new transport without sessions, answers with JSON, and is forgotten:
 * any Worker instance can serve any request, and nothing outlives it. There is no server-to-client stream,
 * so GET and DELETE are 405 (the transport's spec allows it; clients then simply do not listen).
 *
 * Around it, the same guards as /v1: rate limits per IP (before credentials) and per key, the API key checked
 * with its org actor on every request, a body limit, and problem+json for every refusal.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { bearerToken, ingestOnly, keyOwner } from "../api/auth.ts";
import { limitBody } from "../api/body-limit.ts";
import type { AppEnv } from "../api/context.ts";
import { ApiError } from "../api/problem.ts";
import { limitByIp, limitByKey } from "../api/rate-limit.ts";
import { createMcpServer } from "./server.ts";

export const MCP_PATH = "/mcp";
/** JSON-RPC requests are small: tool names and arguments. */
export const MAX_MCP_BODY_BYTES = 65_536;

/** Browser clients (the MCP Inspector in direct mode) call from other origins; keys are bearer tokens, never cookies. */
const MCP_CORS = {
	origin: "*",
	allowMethods: ["POST", "GET", "DELETE"],
	allowHeaders: ["authorization", "content-type", "accept", "mcp-protocol-version", "mcp-session-id", "last-event-id", "x-request-id"],
	exposeHeaders: ["mcp-protocol-version", "mcp-session-id", "retry-after", "x-request-id"],
	maxAge: 86_400,
};

/** The org comes from the key itself: any live key opens /mcp, for its own org only. */
const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
	const token = bearerToken(c.req.raw);
	if (!token) throw new ApiError(401, "Unauthorized", "The MCP server needs an API key. Send `Authorization: Bearer <api key>`.");
	const caller = await keyOwner(c.env, token);
	if (!caller) throw new ApiError(401, "Unauthorized", "The API key is not valid, or it was revoked.");
	// Every MCP tool reads the org's data.
	if (caller.scope === "ingest") throw ingestOnly("the MCP server's read tools");
	c.set("caller", caller);
	await next();
});

export function mcpRoutes(): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.use(MCP_PATH, cors(MCP_CORS));
	app.use(MCP_PATH, limitByIp, requireApiKey, limitByKey, limitBody(MAX_MCP_BODY_BYTES));
	app.post(MCP_PATH, async (c) => {
		const server = createMcpServer({ env: c.env, org: c.get("caller").org });
		const transport = new WebStandardStreamableHTTPServerTransport({
			sessionIdGenerator: undefined,
			enableJsonResponse: true,
			maxRequestBodySize: MAX_MCP_BODY_BYTES,
		});
		await server.connect(transport);
		try {
			return await transport.handleRequest(c.req.raw);
		} finally {
			// With JSON responses the answer is complete here; closing drops the per-request server at once.
			await server.close();
		}
	});
	app.on(["GET", "DELETE"], MCP_PATH, () => {
		throw new ApiError(
			405,
			"Method not allowed",
			"This MCP server is stateless: POST JSON-RPC messages to /mcp; it has no event stream or session to open or end.",
			{},
			{ allow: "POST" },
		);
	});
	return app;
}
