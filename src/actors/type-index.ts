/**
 * What the log's type index covers. `events_type_seq (type, seq)` serves reads by type (`readEvents?type=`, the
 * org's interactions and audit trail, a chat's messages and tool calls, the org's actor index rebuild). It is a
 * partial index: the types a catalog marks `unindexed` (the SDK's session events, a chat's `llm.token`, a camera's
 * frame events: most of their logs, never read by type) are left out, so each such event writes its row and its id
 * index entry and nothing more.
 *
 * SQLite uses a partial index only for a query whose WHERE contains the index's WHERE term, so a read of an indexed
 * type adds `TYPE_INDEX_WHERE` word for word (src/actors/log.ts); a read of an unindexed type leaves it out and
 * scans the rows in seq order instead, which is correct and as fast as the type is common. The list is derived
 * from the built-in kinds' catalogs and is the index's WHERE in the latest migration (migrations/, made by
 * `npm run db:generate` from src/actors/schema.ts): changing a flag needs a new migration, and a test compares them.
 */
import { BUILTIN_KINDS } from "../kinds.ts";

/** Event types are dotted lower-case names; checked, since they are written into SQL as literals. */
const TYPE_NAME = /^[a-z0-9_.]+$/;

/** The built-in types marked `unindexed`, sorted (the order is part of the index's WHERE text). */
export const UNINDEXED_TYPES: readonly string[] = [
	...new Set(BUILTIN_KINDS.flatMap(({ definition: { catalog } }) => catalog.types.filter((type) => catalog.get(type)?.unindexed === true))),
].sort();

for (const type of UNINDEXED_TYPES) {
	if (!TYPE_NAME.test(type)) throw new Error(`unindexed event type ${type}: not a plain type name`);
}

/** The type index's WHERE term, also the term a read must carry for SQLite to use the index. */
export const TYPE_INDEX_WHERE = `type NOT IN (${UNINDEXED_TYPES.map((type) => `'${type}'`).join(", ")})`;

const unindexed = new Set(UNINDEXED_TYPES);

/** Whether the type index holds this type's events. */
export const isIndexedType = (type: string): boolean => !unindexed.has(type);
