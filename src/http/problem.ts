/**
 * Every 4xx/5xx body is application/problem+json (RFC 9457). Errors are values with a status,
 * turned into responses here and nowhere else.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { type ActorError, errorDetails, statusOf } from "../core/outcome.ts";
import { type FieldError, formatPath } from "../events/catalog.ts";

export interface Problem {
	type: string;
	title: string;
	status: number;
	detail: string;
	errors?: FieldError[];
	[extra: string]: unknown;
}

const SLUGS: Record<number, string> = {
	400: "invalid-input",
	401: "unauthorized",
	404: "not-found",
	405: "method-not-allowed",
	409: "version-conflict",
	410: "gone",
	413: "too-large",
	415: "unsupported-media-type",
	422: "events-rejected",
	429: "rate-limited",
	500: "internal",
};

/** An error raised anywhere in a request; the app's error handler answers it as problem+json. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly title: string,
		detail: string,
		readonly extra: { errors?: FieldError[]; [key: string]: unknown } = {},
		/** Response headers the problem needs, such as Retry-After. */
		readonly headers: Record<string, string> = {},
	) {
		super(detail);
	}
}

/** The one 404: for an unknown route, and for another org's path, so a key never learns which orgs exist. */
export function notFound(c: Context): ApiError {
	return new ApiError(404, "Not found", `Nothing at ${c.req.method} ${new URL(c.req.url).pathname}.`);
}

export function problemBody(status: number, title: string, detail: string, extra: Record<string, unknown> = {}): Problem {
	return { type: `/problems/${SLUGS[status] ?? "error"}`, title, status, detail, ...extra };
}

export function problemResponse(
	c: Context,
	status: number,
	title: string,
	detail: string,
	extra: Record<string, unknown> = {},
	headers: Record<string, string> = {},
): Response {
	return c.body(JSON.stringify(problemBody(status, title, detail, extra)), status as ContentfulStatusCode, {
		...headers,
		"content-type": "application/problem+json",
	});
}

/** Field errors from a zod failure; `where` prefixes path and query fields so they name their place. */
export function fieldErrors(error: z.ZodError, where: "json" | "query" | "param" | "header" | string): FieldError[] {
	const prefix = where === "json" ? "" : where === "param" ? "path" : where;
	return error.issues.flatMap((issue) =>
		// An unknown field (a strict object's) is named by its own path, not its object's.
		issue.code === "unrecognized_keys"
			? issue.keys.map((key) => ({ path: formatPath(prefix, [...issue.path, key]), message: "is not a known field" }))
			: [{ path: formatPath(prefix, issue.path) || prefix || "(root)", message: issue.message }],
	);
}

export function invalidInput(errors: FieldError[], detail?: string): ApiError {
	const named = errors.map((e) => e.path).join(", ");
	return new ApiError(400, "Invalid input", detail ?? `Invalid fields: ${named}.`, { errors });
}

export function actorProblem(error: ActorError): ApiError {
	const { status, title } = statusOf(error);
	const { detail, ...extra } = errorDetails(error);
	return new ApiError(status, title, detail, extra);
}

/** The value of a successful actor outcome; a failed one is raised as its problem. */
export function unwrap<T>(outcome: { ok: true; value: T } | { ok: false; error: ActorError }): T {
	if (outcome.ok) return outcome.value;
	throw actorProblem(outcome.error);
}
