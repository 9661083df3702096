/**
 * Errors are values: actors return an Outcome across RPC (thrown errors lose their fields there),
 * and the API turns an ActorError into a problem+json response in one place.
 */
import type { FieldError } from "../events/catalog.ts";

export type ActorError =
	/** Input failed validation; each error names the field. */
	| { kind: "invalid"; detail: string; errors: FieldError[] }
	/** expectedVersion did not match the log. */
	| { kind: "conflict"; detail: string; currentVersion: number }
	/** A reducer refused the events: the whole batch was rejected. */
	| { kind: "rejected"; detail: string; errors?: FieldError[] }
	| { kind: "not_found"; detail: string }
	/** The actor is a sandbox: it takes imports, and refuses every live write. */
	| { kind: "read_only"; detail: string; errors: FieldError[] }
	/** What was asked for is before the log's checkpoint: compacted to the archive (R2 segment keys). */
	| { kind: "gone"; detail: string; checkpoint: { seq: number; hash: string }; archive: string[] }
	/** What answers the read is not ready yet (a projection rebuilding from the log); asking again later works. */
	| { kind: "unavailable"; detail: string };

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ActorError };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (error: ActorError): { ok: false; error: ActorError } => ({ ok: false, error });
export const invalid = (errors: FieldError[], detail = "The request has invalid fields.") => fail({ kind: "invalid", detail, errors });

/** HTTP status and title for each kind of actor error; the API and sockets both use this. */
export function statusOf(error: ActorError): { status: number; title: string } {
	switch (error.kind) {
		case "invalid":
			return { status: 400, title: "Invalid input" };
		case "conflict":
			return { status: 409, title: "Version conflict" };
		case "rejected":
			return { status: 422, title: "Events rejected" };
		case "not_found":
			return { status: 404, title: "Not found" };
		case "read_only":
			return { status: 403, title: "Sandbox is read-only" };
		case "gone":
			return { status: 410, title: "Gone" };
		case "unavailable":
			return { status: 503, title: "Not ready yet" };
	}
}

/** The fields of an error frame or problem body beyond status and title. */
export function errorDetails(error: ActorError): { detail: string; errors?: FieldError[]; currentVersion?: number } {
	if (error.kind === "gone") return { detail: error.detail, ...{ gone: { checkpoint: error.checkpoint, archive: error.archive } } };
	return {
		detail: error.detail,
		...("errors" in error && error.errors ? { errors: error.errors } : {}),
		...(error.kind === "conflict" ? { currentVersion: error.currentVersion } : {}),
	};
}
