/** `roost audit`: the org's access and policy changes, newest first, with who made each (GET /v1/orgs/{org}/audit). */
import type { RoostClient } from "./client.ts";

export interface AuditEntry {
	seq: number;
	id: string;
	type: string;
	ts: number;
	principal: { kind: "key"; id: string } | { kind: "member"; email: string } | null;
	requestId: string | null;
	data: Record<string, unknown>;
}

/** Up to `count` entries (all when absent) before seq `before`, newest first, read page by page. */
export async function readAudit(client: RoostClient, options: { before?: number; count?: number } = {}): Promise<AuditEntry[]> {
	const out: AuditEntry[] = [];
	let before = options.before;
	const count = options.count ?? Number.POSITIVE_INFINITY;
	while (out.length < count) {
		const limit = Math.min(200, count - out.length);
		const page = await client.get<{ entries: AuditEntry[]; next: number | null }>(`/v1/orgs/${client.org}/audit`, { before, limit });
		out.push(...page.entries);
		if (page.next === null) break;
		before = page.next;
	}
	return out;
}

const who = (principal: AuditEntry["principal"]): string =>
	principal === null ? "(admin token or system)" : principal.kind === "key" ? `key ${principal.id}` : `member ${principal.email}`;

/** What changed, in a few words: the key or member the event is about, and its role. */
function what(entry: AuditEntry): string {
	const { data } = entry;
	const subject = [data.keyId, data.email, data.name].find((v) => typeof v === "string");
	const role = typeof data.role === "string" ? ` (${data.role})` : "";
	// A subject access export names no subject: its id and how many sessions it covered.
	if (entry.type === "org.subject_exported") return `export ${String(data.export)} (${String(data.sessions)} sessions)`;
	return `${subject ?? ""}${role}`;
}

/** One line per entry: seq, time (UTC), type, who, what, request id. */
export function auditLine(entry: AuditEntry): string {
	const time = new Date(entry.ts)
		.toISOString()
		.replace("T", " ")
		.replace(/\.\d+Z$/, "Z");
	return `${String(entry.seq).padStart(6)}  ${time}  ${entry.type.padEnd(18)}  ${who(entry.principal)}  ${what(entry)}  ${entry.requestId ?? "-"}\n`;
}
