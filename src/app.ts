/**
 * The Worker's front door: request ids, rate limits, credentials, routes, OpenAPI, and one place that
 * turns errors into problem+json. Everything under /v1/orgs/:org needs an API key of that org, so a
 * route added there later is guarded without doing anything.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { actorReadRoutes } from "./api/actors.ts";
import { auditRoutes } from "./api/audit.ts";
import { backfillRoutes } from "./api/backfill.ts";
import { cameraRoutes } from "./api/cameras.ts";
import { chatRoutes } from "./api/chats.ts";
import { debugRoutes } from "./api/debug.ts";
import { erasureRoutes } from "./api/erasures.ts";
import { healthRoutes } from "./api/health.ts";
import { interactionRoutes } from "./api/interactions.ts";
import { meRoutes } from "./api/me.ts";
import { memberRoutes } from "./api/members.ts";
import { registerSecuritySchemes, withRoles } from "./api/openapi.ts";
import { orgHealthRoutes } from "./api/org-health.ts";
import { orgRoutes } from "./api/orgs.ts";
import { parkedRoutes } from "./api/parked.ts";
import { patternRoutes } from "./api/patterns.ts";
import { policyRoutes } from "./api/policy.ts";
import { projectionRoutes } from "./api/projections.ts";
import { sessionRoutes } from "./api/sessions.ts";
import { settingsRoutes } from "./api/settings.ts";
import { socketTicketRoutes } from "./api/socket-tickets.ts";
import { webhookRoutes } from "./api/webhooks.ts";
import { errorText, log } from "./core/log.ts";
import { isNewerVersionError } from "./events/newer-version.ts";
import { requireOrgKey } from "./http/auth.ts";
import { requireBindings } from "./http/bindings.ts";
import type { AppEnv } from "./http/context.ts";
import { ApiError, notFound, problemResponse } from "./http/problem.ts";
import { limitByIp, limitByKey } from "./http/rate-limit.ts";
import { requestFields, requestLog } from "./http/request-log.ts";
import { mcpRoutes } from "./mcp/route.ts";

const SDK_CORS = {
	origin: "*",
	allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
	allowHeaders: ["authorization", "content-type", "x-correlation-id", "x-request-id"],
	exposeHeaders: ["retry-after", "x-request-id"],
	maxAge: 86_400,
};

export function createApp(): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>();
	// Request ids are made here, never taken from the client (whose X-Request-Id is kept apart: requestMeta).
	app.use(requestId({ headerName: "" }));
	app.use(async (c, next) => {
		c.header("x-request-id", c.get("requestId"));
		await next();
	});
	app.use(requestLog);
	// The Worker answers JSON, never pages (those are static assets, with their own headers: web/static/_headers):
	// nothing it returns may run, be framed, be sniffed as another type, or leak its URL in a Referer.
	app.use(
		secureHeaders({
			contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
			referrerPolicy: "no-referrer",
			crossOriginResourcePolicy: false,
			crossOriginOpenerPolicy: false,
			crossOriginEmbedderPolicy: false,
			originAgentCluster: false,
			strictTransportSecurity: false,
			xDnsPrefetchControl: false,
			xDownloadOptions: false,
			xPermittedCrossDomainPolicies: false,
			xXssProtection: false,
		}),
	);
	// The SDK posts from websites on other origins. Keys are bearer tokens, never cookies, so any origin may
	// call; preflights are answered before rate limits and credentials (docs/sdk.md).
	app.use("/v1/orgs/:org/*", cors(SDK_CORS));
	app.use("/v1/*", limitByIp);
	// A binding missing from the deployment: a 503 naming it on the routes that need it, the rest unaffected.
	app.use("/v1/*", requireBindings);
	app.use("/mcp", requireBindings);
	// Matches /v1/orgs/:org itself too; /v1/orgs (the admin routes) is not under it.
	app.use("/v1/orgs/:org/*", requireOrgKey, limitByKey);
	app.route("/", orgRoutes());
	app.route("/", sessionRoutes());
	app.route("/", cameraRoutes());
	app.route("/", interactionRoutes());
	app.route("/", projectionRoutes());
	app.route("/", chatRoutes());
	app.route("/", patternRoutes());
	app.route("/", actorReadRoutes());
	app.route("/", socketTicketRoutes());
	app.route("/", webhookRoutes());
	app.route("/", auditRoutes());
	app.route("/", memberRoutes());
	app.route("/", meRoutes());
	app.route("/", parkedRoutes());
	app.route("/", orgHealthRoutes());
	app.route("/", erasureRoutes());
	app.route("/", policyRoutes());
	app.route("/", settingsRoutes());
	app.route("/", backfillRoutes());
	// The MCP server: its own guards, since the org comes from the key rather than the path (docs/mcp.md).
	app.route("/", mcpRoutes());
	app.route("/", debugRoutes());
	// Outside /v1: no rate limit and no credentials, for uptime monitors.
	app.route("/", healthRoutes());

	registerSecuritySchemes(app);
	app.get("/openapi.json", (c) =>
		c.json(
			withRoles(
				app.getOpenAPI31Document({
					openapi: "3.1.0",
					info: { title: "Roost", version: "0.1.0", description: "Event-sourced actors on Durable Objects: see docs/api.md." },
				}),
			),
		),
	);
	app.get("/", (c) => c.json({ name: "roost", docs: "/openapi.json" }));

	app.notFound((c) => {
		const { status, title, message } = notFound(c);
		return problemResponse(c, status, title, message);
	});
	app.onError((error, c) => {
		if (error instanceof ApiError) return problemResponse(c, error.status, error.title, error.message, error.extra, error.headers);
		if (error instanceof HTTPException) {
			const title = error.status === 400 ? "Invalid input" : error.status === 415 ? "Unsupported media type" : "Request refused";
			const detail = error.status === 400 ? "The body is not valid JSON." : error.message || title;
			return problemResponse(c, error.status, title, detail, error.status === 400 ? { errors: [{ path: "(body)", message: detail }] } : {});
		}
		// A rollback met an event of a version this code does not know: refused, never folded (docs/deploy.md).
		if (isNewerVersionError(error)) {
			log("error", "request refused: newer event version", { ...requestFields(c), error: errorText(error) });
			const type = "/problems/newer-event-version";
			return problemResponse(c, 500, "Written by a newer version", error.message.replace(/^[A-Za-z]*Error: /, ""), { type });
		}
		log("error", "request failed", { ...requestFields(c), error: errorText(error) });
		return problemResponse(c, 500, "Internal error", `Something went wrong; quote request id ${c.get("requestId")}.`);
	});
	return app;
}
