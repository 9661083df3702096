/// <reference types="node" />
/**
 * Tampering with a stored event behind the kernel's back, as a disk edit or a bad restore would: the test
 * Worker keeps its state in a directory (startLocalRoost's `persist`), each actor in its own SQLite file,
 * and this rewrites one row there without touching its hash. Verification must then find the row.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

function sqliteFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return sqliteFiles(path);
		return entry.name.endsWith(".sqlite") && entry.name !== "metadata.sqlite" ? [path] : [];
	});
}

/**
 * Rewrites the data of the event `eventId` of the `actorClass` actors (e.g. "SessionActor") that holds it;
 * its hash stays as it was. Throws when no actor holds that event.
 */
export function tamperStoredEvent(persistDir: string, actorClass: string, eventId: string, data: unknown): void {
	for (const file of sqliteFiles(join(persistDir, "v3", "do"))) {
		if (!file.includes(`-${actorClass}`)) continue;
		const db = new DatabaseSync(file);
		try {
			const changed = db.prepare("UPDATE events SET data = ? WHERE id = ?").run(JSON.stringify(data), eventId);
			if (Number(changed.changes) > 0) return;
		} catch {
			// A file of this class without the events table yet.
		} finally {
			db.close();
		}
	}
	throw new Error(`no ${actorClass} under ${persistDir} holds event ${eventId}`);
}
