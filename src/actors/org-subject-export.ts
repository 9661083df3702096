/**
 * The org's side of a subject access request (docs/privacy.md): which sessions its records tie to a user id (the same
 * subject-key lookup an erasure uses, so an export covers exactly what an erasure of that user would erase), a page of
 * them, and the audit record of the export, which holds counts only, never the user id.
 */
import type { OrgCommand } from "../reducers/org.ts";
import type { SubjectKeys } from "./subject-keys.ts";

/** Sessions one export page covers; the caller asks again with `after` for the rest. */
export const SUBJECT_EXPORT_SESSIONS = 100;

export interface SubjectExportQuery {
	userId: string;
	/** The last session of the previous page. */
	after?: string;
	limit?: number;
}

export interface SubjectExportPage {
	/** This export's id, as its audit record names it. */
	id: string;
	/** Session ids of this page, in id order. */
	sessions: string[];
	/** Sessions tied to the user id in all. */
	total: number;
	/** The `after` of the next page, or null on the last. */
	next: string | null;
}

/** The user's sessions (the actors whose records sealed their id), in id order; none once the user is erased. */
export function subjectSessions(keys: SubjectKeys, userId: string): string[] {
	const sessions = keys
		.ofUser(userId)
		.flatMap((key) => (key.actor.startsWith("session:") ? [key.actor.slice("session:".length)] : []))
		.sort();
	return [...new Set(sessions)];
}

/** One page of the export, and the command that records it in the audit trail. */
export function subjectExportRequest(
	keys: SubjectKeys,
	query: SubjectExportQuery,
	requestedBy: string | null,
	id: string,
): { page: SubjectExportPage; command: OrgCommand } {
	const all = subjectSessions(keys, query.userId);
	const limit = Math.min(Math.max(1, query.limit ?? SUBJECT_EXPORT_SESSIONS), SUBJECT_EXPORT_SESSIONS);
	const after = query.after;
	const rest = after === undefined ? all : all.filter((session) => session > after);
	const sessions = rest.slice(0, limit);
	const next = rest.length > limit ? (sessions.at(-1) ?? null) : null;
	return {
		page: { id, sessions, total: all.length, next },
		command: { kind: "record_subject_export", export: id, sessions: all.length, requestedBy },
	};
}
