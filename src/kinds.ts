/**
 * The actor kinds: one row names each kind once (its name, URL segment, Durable Object binding, definition and
 * which readers list it), and every kind map derives from this table: the Worker's namespaces
 * (src/actors/directory.ts) and `Env` typing (src/env.ts), the HTTP routes, MCP's actor tools, the CLI and the
 * console. Pure: no runtime imports and no actor classes, so workerd, Node and the web build all import it.
 * Adding a kind is docs/architecture.md's "Add an actor kind".
 */
import { cameraDefinition } from "./reducers/camera.ts";
import { chatDefinition } from "./reducers/chat.ts";
import type { ActorDefinition } from "./reducers/definition.ts";
import { withKernelEvents } from "./reducers/kernel.ts";
import { orgDefinition } from "./reducers/org.ts";
import { registryDefinition } from "./reducers/registry.ts";
import { sessionDefinition } from "./reducers/session.ts";

/** Readers that list a kind: the console (its picker and inspection routes), MCP's actor tools, the CLI. */
export interface KindReaders {
	readonly console: boolean;
	readonly mcp: boolean;
	readonly cli: boolean;
}

export interface KindRow {
	/** The kind as events and snapshot tags name it (`actor.kind`, `<kind>@<reducerVersion>`). */
	readonly name: string;
	/** The path segment under `/v1/orgs/{org}` (`sessions`); null for the org (at the org's own path) and the registry (no path). */
	readonly segment: string | null;
	/** The Durable Object binding (wrangler.jsonc and `Env`). */
	readonly binding: string;
	/** What one is called in messages ("web session"). */
	readonly label: string;
	readonly definition: ActorDefinition<unknown>;
	readonly readBy: KindReaders;
}

const EVERYONE: KindReaders = { console: true, mcp: true, cli: true };
const NOBODY: KindReaders = { console: false, mcp: false, cli: false };

/** Roost's own kinds. A kind added here also needs its actor class in src/env.ts (the compiler says so). */
export const BUILTIN_KINDS = [
	{ name: "org", segment: null, binding: "ORG", label: "org", definition: orgDefinition, readBy: EVERYONE },
	{ name: "session", segment: "sessions", binding: "SESSION", label: "web session", definition: sessionDefinition, readBy: EVERYONE },
	{ name: "camera", segment: "cameras", binding: "CAMERA", label: "camera", definition: cameraDefinition, readBy: EVERYONE },
	{ name: "chat", segment: "chats", binding: "CHAT", label: "chat", definition: chatDefinition, readBy: EVERYONE },
	{ name: "registry", segment: null, binding: "REGISTRY", label: "org registry", definition: registryDefinition, readBy: NOBODY },
] as const satisfies readonly KindRow[];

type BuiltinRow = (typeof BUILTIN_KINDS)[number];
export type BuiltinKind = BuiltinRow["name"];
/**
 * The path segments of Roost's own kinds. Types name Roost's own kinds and segments; a kind registered later (a
 * test's) is carried by the same values at run time.
 */
export type BuiltinSegment = NonNullable<BuiltinRow["segment"]>;
/** The binding a built-in kind's namespace has in `Env`. */
export type BindingOf<K extends BuiltinKind> = Extract<BuiltinRow, { name: K }>["binding"];

/** Segments are path ids of their own: lower-case letters, so `/v1/orgs/{org}/{segment}/{id}` stays unambiguous. */
const SEGMENT = /^[a-z]{1,32}$/;
const rows: KindRow[] = [];

/**
 * Adds a kind to the table (Roost's own at import; a test's before the Worker serves its first request, since
 * the routes are built from the table then). A row that reuses a name, segment or binding is refused.
 */
export function registerKind(row: KindRow): void {
	if (row.definition.kind !== row.name) throw new Error(`kind ${row.name}: its definition is for ${row.definition.kind}`);
	if (row.segment !== null && !SEGMENT.test(row.segment)) throw new Error(`kind ${row.name}: segment ${row.segment} is not 1-32 a-z`);
	for (const other of rows) {
		for (const field of ["name", "segment", "binding"] as const) {
			if (row[field] !== null && row[field] === other[field])
				throw new Error(`kind ${row.name}: ${field} ${row[field]} is taken by ${other.name}`);
		}
	}
	// Readers (console, CLI, MCP) fold logs that hold the kernel's own events too.
	rows.push({ ...row, definition: withKernelEvents(row.definition) });
}

for (const row of BUILTIN_KINDS) registerKind(row);

export const kinds = (): readonly KindRow[] => rows;

export const kindNamed = (name: string): KindRow | undefined => rows.find((row) => row.name === name);

export const kindAtSegment = (segment: string): KindRow | undefined => rows.find((row) => row.segment === segment);

/** The kinds that live inside an org under a segment (their reads are `/v1/orgs/{org}/{segment}/{id}/...`). */
export const inOrgKinds = (): (KindRow & { segment: string })[] =>
	rows.filter((row): row is KindRow & { segment: string } => row.segment !== null);

/** The segments `reader` lists, in table order (`sessions`, `cameras`, `chats`). */
export const segmentsFor = (reader: keyof KindReaders): string[] =>
	inOrgKinds()
		.filter((row) => row.readBy[reader])
		.map((row) => row.segment);
