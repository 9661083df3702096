/**
 * Import: appends exported events as they were (ids, timestamps, versions, data and meta kept), after validating
 * and folding them like any append; effects are not run, so an imported actor is inert (a sandbox). The rows must
 * continue this log's seq, and given hashes must come out the same, so an export imported into an empty actor
 * reproduces its chain exactly.
 */

import { fail, invalid, type Outcome } from "../../core/outcome.ts";
import type { FieldError } from "../../events/catalog.ts";
import type { ProposedEvent } from "../../events/envelope.ts";
import type { AppendPath } from "./append.ts";
import type { KernelHost } from "./host.ts";
import type { ImportedEvent } from "./types.ts";

type Imported = { version: number; headHash: string; imported: number };

/** An imported event whose recomputed hash (or id) differs from the one it was exported with. */
class ImportMismatch extends Error {
	constructor(
		readonly index: number,
		readonly seq: number,
		message = `events[${index}] (seq ${seq}) hashes differently than it was exported: the export was altered`,
		readonly field = "hash",
	) {
		super(message);
	}
}

export async function importEvents<S>(
	host: KernelHost<S>,
	append: AppendPath<S>,
	rows: readonly ImportedEvent[],
): Promise<Outcome<Imported>> {
	const imported = importRows(host, append, rows);
	if (!imported.ok || !host.meta.isSandbox) return imported;
	// A sandbox expires a while after its last import (src/actors/kernel/sandbox-expiry.ts): the clock restarts now.
	host.meta.sandboxWritten(host.now());
	await host.rearm();
	return imported;
}

function importRows<S>(host: KernelHost<S>, append: AppendPath<S>, rows: readonly ImportedEvent[]): Outcome<Imported> {
	const { head } = host;
	if (!host.meta.isSandbox && head.version > 0) {
		const detail = `${host.actor.id} already has a live log: only an empty actor or a sandbox takes imports`;
		return fail({ kind: "read_only", detail, errors: [{ path: "path.id", message: "is not a sandbox" }] });
	}
	const errors: FieldError[] = [];
	rows.forEach((row, i) => {
		if (row.seq !== head.version + i + 1)
			errors.push({ path: `events[${i}].seq`, message: `must be ${head.version + i + 1}: imports continue the log without gaps` });
	});
	if (errors.length > 0) return invalid(errors, "The events do not continue this log.");
	const proposed: ProposedEvent[] = rows.map((row, i) => ({
		id: row.id,
		type: row.type,
		v: row.v,
		ts: row.ts,
		data: row.data,
		meta: row.meta,
		at: `events[${i}]`,
	}));
	try {
		host.meta.markSandbox();
		// Straight to the append path: live writes refuse sandboxes, and imports are the one way a sandbox is written.
		return append.run({}, () => ({ events: proposed, result: (receipt) => answer(rows, receipt, head.hash) }));
	} catch (error) {
		// Raised while the answer is computed, before anything is written.
		if (error instanceof ImportMismatch)
			return invalid([{ path: `events[${error.index}].${error.field}`, message: error.message }], error.message);
		throw error;
	}
}

/** The import's answer, or an ImportMismatch thrown when an id was already held or a hash came out different. */
function answer(
	rows: readonly ImportedEvent[],
	receipt: { duplicates: string[]; appended: { seq: number; hash: string }[]; version: number },
	headHash: string,
): Imported {
	const repeated = receipt.duplicates[0];
	if (repeated !== undefined) {
		const index = rows.findIndex((row) => row.id === repeated);
		throw new ImportMismatch(index, rows[index]?.seq ?? 0, `events[${index}] has id ${repeated}, which this log already holds`, "id");
	}
	receipt.appended.forEach((event, i) => {
		const given = rows[i]?.hash;
		if (given !== undefined && given !== event.hash) throw new ImportMismatch(i, event.seq);
	});
	return { version: receipt.version, headHash: receipt.appended.at(-1)?.hash ?? headHash, imported: receipt.appended.length };
}
