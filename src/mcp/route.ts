/**
 * `/mcp`: the MCP server over the streamable HTTP transport, stateless. Each POST gets a new server bound to
 * the org of the caller's API key and a new transport without sessions, answers with JSON, and is forgotten:
 * any Worker instance can serve any request, and nothing outlives it. There is no server-to-client stream,
 * so GET and DELETE are 405 (the transport's spec allows it; clients then simply do not listen).
 *
 * Around it, the same guards as /v1: rate limits per IP (before credentials) and per key, the API key checked
 * with its org actor on every request, a body limit, and problem+json for every refusal. A JSON-RPC batch holds at
 * most MAX_MCP_BATCH messages and each counts against the key's rate limit; the whole answer is at most
 * MAX_MCP_RESPONSE_BYTES, past which the answers that do not fit are replaced by errors naming the limit.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { bearerToken, keyOwner } from "../http/auth.ts";
import { limitBody } from "../http/body-limit.ts";
import type { AppEnv } from "../http/context.ts";
import { ApiError } from "../http/problem.ts";
import { chargeKey, limitByIp, limitByKey } from "../http/rate-limit.ts";
import { forbidden, opens } from "../http/roles.ts";
import { createMcpServer } from "./server.ts";

export const MCP_PATH = "/mcp";
/** The least role /mcp needs: every tool reads. */
export const MCP_ROLE = { role: "viewer" } as const;
/** JSON-RPC requests are small: tool names and arguments. */
export const MAX_MCP_BODY_BYTES = 65_536;
/** Most messages in one JSON-RPC batch; each counts as one request against the key's rate limit. */
export const MAX_MCP_BATCH = 10;
/** Most bytes of one answer, a single message's or a whole batch's. */
export const MAX_MCP_RESPONSE_BYTES = 1_000_000;
/** The JSON-RPC error code (implementation-defined server error range) for an answer over the byte limit. */
export const TOO_LARGE_CODE = -32001;

/** Browser clients (the MCP Inspector in direct mode) call from other origins; keys are bearer tokens, never cookies. */
const MCP_CORS = {
	origin: "*",
	allowMethods: ["POST", "GET", "DELETE"],
	allowHeaders: ["authorization", "content-type", "accept", "mcp-protocol-version", "mcp-session-id", "last-event-id", "x-request-id"],
	exposeHeaders: ["mcp-protocol-version", "mcp-session-id", "retry-after", "x-request-id"],
	maxAge: 86_400,
};

/** The org comes from the key itself: a live key of the viewer role or higher opens /mcp, for its own org only. */
const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
	const token = bearerToken(c.req.raw);
	if (!token) throw new ApiError(401, "Unauthorized", "The MCP server needs an API key. Send `Authorization: Bearer <api key>`.");
	const caller = await keyOwner(c.env, token);
	if (!caller) throw new ApiError(401, "Unauthorized", "The API key is not valid, or it was revoked or expired.");
	// Every MCP tool reads the org's data.
	if (!opens(caller.role, MCP_ROLE)) throw forbidden(caller.role, MCP_ROLE, "The MCP server");
	c.set("caller", caller);
	await next();
});

export function mcpRoutes(): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.use(MCP_PATH, cors(MCP_CORS));
	app.use(MCP_PATH, limitByIp, requireApiKey, limitByKey, limitBody(MAX_MCP_BODY_BYTES));
	app.post(MCP_PATH, async (c) => {
		const messages = await batchSize(c.req.raw);
		if (messages > MAX_MCP_BATCH)
			return c.json(
				rpcError(null, -32600, `A JSON-RPC batch may hold at most ${MAX_MCP_BATCH} messages; this one holds ${messages}.`),
				400,
			);
		// The middleware counted the request once; a batch counts once per message.
		await chargeKey(c, messages - 1);
		const server = createMcpServer({ env: c.env, org: c.get("caller").org });
		const transport = new WebStandardStreamableHTTPServerTransport({
			sessionIdGenerator: undefined,
			enableJsonResponse: true,
			maxRequestBodySize: MAX_MCP_BODY_BYTES,
		});
		await server.connect(transport);
		try {
			return capAnswer(await transport.handleRequest(c.req.raw));
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

/** How many JSON-RPC messages the body holds (1 unless it is a batch); the transport reports malformed bodies itself. */
async function batchSize(request: Request): Promise<number> {
	try {
		const body: unknown = await request.clone().json();
		return Array.isArray(body) ? body.length : 1;
	} catch {
		return 1;
	}
}

function rpcError(id: unknown, code: number, message: string) {
	return { jsonrpc: "2.0" as const, id: id ?? null, error: { code, message } };
}

/**
 * Keeps the answer within MAX_MCP_RESPONSE_BYTES: answers are kept in order while they fit, and each that does not is
 * replaced by an error naming the limit (the call can be sent again alone, or with a smaller `limit`).
 */
async function capAnswer(response: Response): Promise<Response> {
	if (!response.headers.get("content-type")?.includes("application/json")) return response;
	const text = await response.text();
	const rebuilt = () => new Response(text, response);
	if (new TextEncoder().encode(text).length <= MAX_MCP_RESPONSE_BYTES) return rebuilt();
	const parsed = JSON.parse(text) as { id?: unknown } | { id?: unknown }[];
	const answers = Array.isArray(parsed) ? parsed : [parsed];
	let used = 2;
	const kept = answers.map((answer) => {
		const size = new TextEncoder().encode(JSON.stringify(answer)).length + 1;
		if (used + size <= MAX_MCP_RESPONSE_BYTES) {
			used += size;
			return answer;
		}
		const message =
			`This answer would take the response past its limit of ${MAX_MCP_RESPONSE_BYTES} bytes (it alone is ${size}). ` +
			"Send this call on its own, or ask for less (a smaller `limit`, then page with `after`).";
		used += 200;
		return rpcError(answer.id, TOO_LARGE_CODE, message);
	});
	const headers = new Headers(response.headers);
	headers.delete("content-length");
	return new Response(JSON.stringify(Array.isArray(parsed) ? kept : kept[0]), { status: response.status, headers });
}
