/**
 * Crypto-shredding of the org's personal fields. A user id is never written to the org's log in clear: it is
 * sealed (AES-256-GCM) with a key of its own, one per user id and actor it came from (a web session), kept in
 * `subject_keys`, a table outside the log. So a user's erasure shreds all their keys, a session's only its own.
 * The log and its hash chain hold only the sealed text, so erasing a subject deletes one key row: every record
 * of that subject becomes unreadable, and the chain, computed over what is stored, still verifies.
 * Raw SQL (like log.ts): one small table, created here rather than in every actor kind's migrations.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { SEALED, SEALED_PREFIX, sealedSubject } from "../events/sealed.ts";
import { paramChunks } from "./sql-params.ts";

export { SEALED_PREFIX, sealedSubject } from "../events/sealed.ts";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** How `subject_keys` finds a user's keys (its `user_hash`); the org's projection search joins on it. */
export const lookupHash = (userId: string) => createHash("sha256").update(userId, "utf8").digest("hex");

/** A subject key: which actor's records it seals (`<kind>:<id>`); the user id is kept only as its SHA-256. */
export interface SubjectKey {
	subject: string;
	actor: string;
}

/** Opens sealed values as `SubjectKeys.open` does. */
export interface SubjectOpener {
	open(value: string): string | null;
}

export class SubjectKeys {
	constructor(private readonly sql: SqlStorage) {
		sql.exec(
			"CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, user_hash TEXT NOT NULL, actor TEXT NOT NULL, key BLOB NOT NULL, UNIQUE (user_hash, actor))",
		);
		sql.exec("CREATE INDEX IF NOT EXISTS subject_keys_actor ON subject_keys (actor)");
	}

	/** Every key of `userId` (one per actor its records came from); none once erased. */
	ofUser(userId: string): SubjectKey[] {
		return this.sql
			.exec<{ subject: string; actor: string }>("SELECT subject, actor FROM subject_keys WHERE user_hash = ?", lookupHash(userId))
			.toArray();
	}

	/** Every key sealing records of one actor (`<kind>:<id>`). */
	ofActor(actor: string): SubjectKey[] {
		return this.sql.exec<{ subject: string; actor: string }>("SELECT subject, actor FROM subject_keys WHERE actor = ?", actor).toArray();
	}

	/** Every key the org holds: what deleting the org shreds. */
	all(): SubjectKey[] {
		return this.sql.exec<{ subject: string; actor: string }>("SELECT subject, actor FROM subject_keys").toArray();
	}

	/** `userId` sealed under its key for `actor`; the first seal for that pair makes the key. */
	seal(userId: string, actor: string): string {
		const found = this.sql
			.exec<{ subject: string }>("SELECT subject FROM subject_keys WHERE user_hash = ? AND actor = ?", lookupHash(userId), actor)
			.toArray()[0];
		let subject = found?.subject;
		if (subject === undefined) {
			subject = crypto.randomUUID();
			this.sql.exec(
				"INSERT INTO subject_keys (subject, user_hash, actor, key) VALUES (?, ?, ?, ?)",
				subject,
				lookupHash(userId),
				actor,
				randomBytes(32),
			);
		}
		const key = this.#key(subject);
		if (!key) throw new Error(`subject ${subject} has no key`);
		const iv = randomBytes(IV_BYTES);
		const cipher = createCipheriv("aes-256-gcm", key, iv);
		const sealed = Buffer.concat([cipher.update(userId, "utf8"), cipher.final()]);
		return `${SEALED_PREFIX}${subject}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url")}`;
	}

	/** The clear text of a sealed value, null once its subject is erased; a value that is not sealed is returned as it is. */
	open(value: string): string | null {
		return openWith(value, (subject) => this.#key(subject));
	}

	/**
	 * An opener for a batch of values (a page of results): the keys of every subject sealed in `values` read up front,
	 * in one statement per 100 subjects (DO SQLite's bound parameter limit, src/actors/sql-params.ts), instead of one statement per value. It answers exactly as `open` would
	 * at the time it was made (a value it was not made for reads its key then); keep it for one request only, so a
	 * shred is seen by the next.
	 */
	opener(values: Iterable<unknown>): SubjectOpener {
		const keys = new Map<string, Buffer | null>();
		for (const value of values) {
			const subject = sealedSubject(value);
			if (subject !== null) keys.set(subject, null);
		}
		for (const { chunk, marks } of paramChunks([...keys.keys()])) {
			const rows = this.sql
				.exec<{ subject: string; key: ArrayBuffer }>(`SELECT subject, key FROM subject_keys WHERE subject IN (${marks})`, ...chunk)
				.toArray();
			for (const row of rows) keys.set(row.subject, Buffer.from(row.key));
		}
		const keyOf = (subject: string): Buffer | null => {
			if (keys.has(subject)) return keys.get(subject) ?? null;
			const key = this.#key(subject);
			keys.set(subject, key);
			return key;
		};
		return { open: (value) => openWith(value, keyOf) };
	}

	/** Deletes the subject's key: what was sealed under it can never be read again. Erasing twice is a no-op. */
	shred(subject: string): number {
		return this.sql.exec("DELETE FROM subject_keys WHERE subject = ?", subject).rowsWritten;
	}

	#key(subject: string): Buffer | null {
		const row = this.sql.exec<{ key: ArrayBuffer }>("SELECT key FROM subject_keys WHERE subject = ?", subject).toArray()[0];
		return row ? Buffer.from(row.key) : null;
	}
}

/** The clear text of `value` opened with its subject's key from `keyOf` (null when the subject has none); not sealed, as it is. */
function openWith(value: string, keyOf: (subject: string) => Buffer | null): string | null {
	const match = SEALED.exec(value);
	if (!match?.[1] || !match[2]) return value;
	const key = keyOf(match[1]);
	if (!key) return null;
	const bytes = Buffer.from(match[2], "base64url");
	const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
	decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
	return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
}
