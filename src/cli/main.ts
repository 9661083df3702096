/// <reference types="node" />
/**
 * `roost`: the replay and debug console in a terminal (docs/console.md). `run` takes the arguments and the
 * streams and returns the exit code, so tests drive it in-process; bin/roost.mjs runs it under Node.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { ActorDefinition } from "../reducers/definition.ts";
import { withKernelEvents } from "../reducers/kernel.ts";
import { type ActorPath, actorLabel, definitionOf, kindOf, parseActor, type Segment, segments, spokenList } from "./actors.ts";
import { auditLine, readAudit } from "./audit.ts";
import { NetworkError, ProblemError, RoostClient } from "./client.ts";
import { resolveConnection } from "./config.ts";
import { CheckFailed, EXIT, UsageError } from "./errors.ts";
import { exportEvents, tail } from "./events.ts";
import { readState, verifyFile, verifyOnServer } from "./inspect.ts";
import { type CliIo, deltaText, json } from "./output.ts";
import { parked } from "./parked.ts";
import { type LocalReplayReport, replayActor } from "./replay.ts";
import { fork, importFile } from "./sandbox.ts";
import type { SegmentInfo } from "./segment-check.ts";
import { downloadSegment, listSegments, segmentHeaderOfFile, verifySegmentFile } from "./segments.ts";
import { exportSubject } from "./subject.ts";

/** `org, sessions/<id>, cameras/<id> or chats/<id>`: the actors the CLI reads, from src/kinds.ts. */
const actorForms = (): string => spokenList(["org", ...segments().map((segment) => `${segment}/<id>`)]);

export const usage = (): string => `roost: replay and debug an actor's log (docs/console.md)

Usage: roost <command> [options]

  events tail <actor> [--after N] [--count N]    print the actor's events live (resumes after the last seq seen)
  events export <actor> [--out FILE] [--resume] [--force] [--to N]
                                                 write its stored log as NDJSON (stdout without --out)
  state <actor> [--at N]                         its state now, or at version N
  verify <actor>                                 check its hash chain on the server
  verify --file FILE [<actor>]                   check an exported file's chain here (and that it is <actor>'s)
  verify --file SEGMENT [--checkpoint HASH|server]
                                                 check a compacted log segment here: its chain from its header,
                                                 and that it ends at the checkpoint (HASH, or the actor's on the
                                                 server, or where the next segment starts)
  segments [list] [--after NAME] [--limit N]     the org's compacted log segments in R2 (needs an admin key)
  segments get NAME [--out FILE]                 download one (stdout without --out)
  subject export --user ID [--out FILE]          everything the org holds about a user id, as NDJSON (a subject
                                                 access request; audited; needs an admin key)
  replay <actor> [--definition MODULE]           fold its log here with this code's reducers and compare
                                                 with the server's snapshots and state (exit 1 on a difference)
  replay <actor> --server                        the same check run by the server, with the deployed reducers
  fork <actor> [--at N]                          copy its first N events (default all) into a new sandbox
  import FILE [${segments().join("|")}|<kind>/sandbox-<id>]
                                                 import an exported file into a new (or that) sandbox
  audit [--count N] [--before SEQ]               the org's key, member, role and policy changes, newest
                                                 first, with who made each (needs an admin key)

  parked [list] [--after N] [--limit N]          the org's parked work (docs/operations.md)
  parked retry ID | parked discard ID            try one parked item again, or give it up

  <actor> is ${actorForms()}.

Options:
  --endpoint URL   the server (ROOST_ENDPOINT; default http://localhost:8787)
  --key KEY        an API key of the org (ROOST_KEY; default: the demo org's key that npm start keeps)
  --org ORG        the org (ROOST_ORG; default: the org the key names)
  --json           machine-readable output
  --quiet          no progress bars
  -h, --help       this text

Exit codes: 0 ok, 1 a check found a problem, 2 wrong usage, 3 the server refused (its detail is printed),
4 the server or a file could not be reached, 5 a bug in roost.
`;

const GLOBAL = {
	endpoint: { type: "string" },
	key: { type: "string" },
	org: { type: "string" },
	json: { type: "boolean" },
	quiet: { type: "boolean" },
	help: { type: "boolean", short: "h" },
} as const;

const COMMAND_OPTIONS: Record<string, readonly string[]> = {
	"events tail": ["after", "count"],
	"events export": ["out", "resume", "force", "to"],
	state: ["at"],
	verify: ["file", "checkpoint"],
	"segments list": ["after", "limit"],
	"segments get": ["out"],
	"subject export": ["user", "out"],
	replay: ["server", "definition"],
	fork: ["at"],
	import: [],
	audit: ["count", "before"],
	parked: ["after", "limit"],
};

const OPTIONS = {
	...GLOBAL,
	after: { type: "string" },
	count: { type: "string" },
	out: { type: "string", short: "o" },
	resume: { type: "boolean" },
	force: { type: "boolean" },
	to: { type: "string" },
	at: { type: "string" },
	file: { type: "string" },
	server: { type: "boolean" },
	definition: { type: "string" },
	before: { type: "string" },
	limit: { type: "string" },
	checkpoint: { type: "string" },
	user: { type: "string" },
} as const;

/** Commands that take a subcommand: `events tail`; `segments` alone lists. */
const GROUPS: Record<string, string[] | undefined> = { events: ["tail", "export"], segments: ["list", "get"], subject: ["export"] };

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };

function wholeNumber(name: string, text: string | undefined): number | undefined {
	if (text === undefined) return undefined;
	if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name} must be a whole number, not "${text}"`);
	return Number(text);
}

function actorArg(text: string | undefined, command: string): ActorPath {
	if (!text) throw new UsageError(`${command} needs an actor: ${actorForms()}`);
	const actor = parseActor(text);
	if (!actor) throw new UsageError(`"${text}" is not an actor: write ${actorForms()}`);
	return actor;
}

/** Loads an ActorDefinition from a module (its default export, or `definition`), for a what-if replay of a changed reducer. */
async function loadDefinition(path: string, cwd: string, actor: ActorPath): Promise<ActorDefinition<unknown>> {
	const module = (await import(pathToFileURL(resolve(cwd, path)).href)) as { default?: unknown; definition?: unknown };
	const definition = (module.default ?? module.definition) as ActorDefinition<unknown> | undefined;
	if (!definition || typeof definition.evolve !== "function" || typeof definition.initialState !== "function" || !definition.catalog) {
		throw new UsageError(`${path} exports no ActorDefinition (as its default export or as "definition")`);
	}
	if (definition.kind !== kindOf(actor))
		throw new UsageError(`${path} defines a ${definition.kind}, but ${actorLabel(actor)} is a ${kindOf(actor)}`);
	// Logs hold the kernel's own events too, which a kind's reducer never sees.
	return withKernelEvents(definition);
}

export function printReplay(io: CliIo, actor: ActorPath, report: LocalReplayReport): void {
	const out = io.stdout;
	out.write(
		`replay ${actorLabel(actor)} with ${report.reducerVersion}: ${report.checked} of ${report.version} events folded, ` +
			`${report.compared.length} snapshot(s) compared${report.compared.length ? ` (${report.compared.join(", ")})` : ""}\n`,
	);
	if (report.skipped.length > 0) {
		const tags = [...new Set(report.skipped.map((s) => s.reducerVersion))].join(", ");
		out.write(`  ${report.skipped.length} snapshot(s) written by ${tags} not compared: another reducer version wrote them\n`);
	}
	if (report.refused)
		out.write(`REFUSED: the reducer here throws on seq ${report.refused.seq} (${report.refused.type}): ${report.refused.message}\n`);
	for (const mismatch of report.mismatches) {
		out.write(`MISMATCH at version ${mismatch.version} against ${mismatch.against} (stored → replayed here):\n`);
		out.write(deltaText(mismatch.delta));
	}
	if (report.ok) out.write("ok: the reducers here agree with every compared snapshot and with the state now\n");
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
	let parsed: { values: Values; positionals: string[] };
	try {
		parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }) as {
			values: Values;
			positionals: string[];
		};
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}
	const { values, positionals } = parsed;
	const [first, second] = positionals;
	if (values.help || first === undefined || first === "help") {
		io.stdout.write(usage());
		return first === undefined && !values.help ? EXIT.usage : EXIT.ok;
	}
	const grouped = GROUPS[first];
	const sub = first === "segments" && (second === undefined || !grouped?.includes(second)) ? "list" : second;
	const command = grouped ? `${first} ${sub ?? ""}` : first;
	const allowed = COMMAND_OPTIONS[command];
	if (!allowed) throw new UsageError(grouped ? `${first} takes ${spokenList(grouped)}` : `unknown command "${first}"`);
	for (const name of Object.keys(values)) {
		if (!(name in GLOBAL) && !allowed.includes(name)) throw new UsageError(`--${name} is not an option of ${command}`);
	}
	const args = positionals.slice(grouped && sub === second ? 2 : 1);
	const quiet = values.quiet ?? false;
	const client = () => {
		const connection = resolveConnection({ endpoint: values.endpoint, key: values.key, org: values.org }, io.env, io.cwd);
		return new RoostClient({ ...connection, onRetry: (message) => io.stderr.write(`${message}\n`) });
	};

	switch (command) {
		case "events tail": {
			const actor = actorArg(args[0], command);
			await tail(
				client(),
				actor,
				{ after: wholeNumber("after", values.after) ?? 0, count: wholeNumber("count", values.count), json: values.json ?? false },
				io,
			);
			return EXIT.ok;
		}
		case "events export": {
			const actor = actorArg(args[0], command);
			const summary = await exportEvents(
				client(),
				actor,
				{ out: values.out, resume: values.resume ?? false, force: values.force ?? false, to: wholeNumber("to", values.to), quiet },
				io,
			);
			const where = values.out ?? "stdout";
			io.stderr.write(
				summary.exported > 0
					? `exported ${summary.exported} events of ${actorLabel(actor)} (seq ${summary.first}..${summary.last}) to ${where}; head hash ${summary.headHash}\n`
					: `nothing to export: ${where} already ends at seq ${summary.last}\n`,
			);
			return EXIT.ok;
		}
		case "audit": {
			const entries = await readAudit(client(), {
				before: wholeNumber("before", values.before),
				count: wholeNumber("count", values.count),
			});
			if (values.json) io.stdout.write(`${JSON.stringify(entries)}\n`);
			else for (const entry of entries) io.stdout.write(auditLine(entry));
			return EXIT.ok;
		}
		case "state": {
			const answer = await readState(client(), actorArg(args[0], command), wholeNumber("at", values.at));
			io.stdout.write(values.json ? `${JSON.stringify(answer)}\n` : json(answer));
			return EXIT.ok;
		}
		case "verify": {
			const segment = values.file ? await segmentHeaderOfFile(values.file) : null;
			if (values.file && segment) return verifySegment(values.file, segment, values, client, io);
			if (values.checkpoint !== undefined) throw new UsageError("--checkpoint goes with --file and a compacted log segment");
			if (values.file) {
				const actor = args[0] ? actorArg(args[0], command) : undefined;
				const report = await verifyFile(values.file, actor ? { client: client(), actor } : undefined);
				if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
				else if (report.ok) {
					io.stdout.write(`ok: ${report.file}: chain of ${report.checked} events verified here, head ${report.headHash}\n`);
					if (report.unchecked.length > 0)
						io.stdout.write(
							`not checkable offline: ${report.unchecked.length} redacted events (seq ${report.unchecked.join(", ")}): the server hid a secret in their data; the chain goes on from their stated hash (\`roost verify <actor>\` checks them on the server)\n`,
						);
				} else
					io.stdout.write(
						`BROKEN: ${report.file}: at seq ${report.brokenAt}${report.line ? ` (line ${report.line})` : ""}: ${report.reason}\n`,
					);
				if (!values.json && report.matchesServer)
					io.stdout.write(`${report.matchesServer.ok ? "ok" : "DIFFERENT"}: ${report.matchesServer.detail}\n`);
				return report.ok && report.matchesServer?.ok !== false ? EXIT.ok : EXIT.problemFound;
			}
			const actor = actorArg(args[0], command);
			const report = await verifyOnServer(client(), actor);
			if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
			else if (report.ok)
				io.stdout.write(`ok: ${actorLabel(actor)}: chain of ${report.version} events verified, head ${report.headHash}\n`);
			else io.stdout.write(`BROKEN: ${actorLabel(actor)}: at seq ${report.brokenAt}: ${report.reason}\n`);
			return report.ok ? EXIT.ok : EXIT.problemFound;
		}
		case "replay": {
			const actor = actorArg(args[0], command);
			if (values.server) {
				const c = client();
				const report = await c.get<{
					ok: boolean;
					reducerVersion: string;
					checked: number;
					mismatches: { version: number; against: string; delta: unknown }[];
				}>(c.path(actor, "/replay"));
				if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
				else {
					io.stdout.write(`server replay of ${actorLabel(actor)} with ${report.reducerVersion}: ${report.checked} events folded\n`);
					for (const m of report.mismatches)
						io.stdout.write(`MISMATCH at version ${m.version} against ${m.against}:\n${deltaText(m.delta)}`);
					if (report.ok) io.stdout.write("ok: the replay agrees with every stored snapshot and the state in memory\n");
				}
				return report.ok ? EXIT.ok : EXIT.problemFound;
			}
			const definition = values.definition ? await loadDefinition(values.definition, io.cwd, actor) : definitionOf(kindOf(actor));
			const report = await replayActor(client(), actor, definition, io, quiet);
			if (values.json) io.stdout.write(`${JSON.stringify({ actor: actorLabel(actor), ...report })}\n`);
			else printReplay(io, actor, report);
			return report.ok ? EXIT.ok : EXIT.problemFound;
		}
		case "fork": {
			const actor = actorArg(args[0], command);
			const c = client();
			const result = await fork(c, actor, wholeNumber("at", values.at));
			if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
			else {
				const sandbox: ActorPath = { kind: (actor as { kind: Segment }).kind, id: result.actor.id };
				io.stdout.write(
					`forked ${actorLabel(actor)} at version ${result.version} into ${actorLabel(sandbox)}; head hash ${result.headHash}\n` +
						`  console: ${c.endpoint}/console#${actorLabel(sandbox)}@${result.version}\n`,
				);
			}
			return EXIT.ok;
		}
		case "parked": {
			const options = { after: wholeNumber("after", values.after), limit: wholeNumber("limit", values.limit), json: values.json ?? false };
			await parked(client(), args, options, io);
			return EXIT.ok;
		}
		case "segments list": {
			const page = await listSegments(client(), { after: values.after, limit: wholeNumber("limit", values.limit) });
			if (values.json) io.stdout.write(`${JSON.stringify(page)}\n`);
			else {
				for (const listed of page.segments)
					io.stdout.write(`${listed.name}  ${listed.size} bytes  ${new Date(listed.uploaded).toISOString()}\n`);
				if (page.next !== null) io.stdout.write(`more: roost segments list --after ${page.next}\n`);
			}
			return EXIT.ok;
		}
		case "segments get": {
			if (!args[0]) throw new UsageError("segments get needs a segment name, as roost segments list prints it");
			await downloadSegment(client(), args[0], values.out, io);
			if (values.out) io.stderr.write(`wrote ${args[0]} to ${values.out}\n`);
			return EXIT.ok;
		}
		case "subject export": {
			if (!values.user) throw new UsageError("subject export needs --user ID");
			const c = client();
			const summary = await exportSubject(c, values.user, values.out, io);
			io.stderr.write(
				`exported what org ${c.org} holds about the user to ${values.out ?? "stdout"}: ${summary.sessions} sessions, ${summary.events} events, ` +
					`${summary.interactions} interaction records, ${summary.archived} archived items (${summary.lines} lines; audited as ${summary.exports.join(", ")})\n`,
			);
			return EXIT.ok;
		}
		case "import": {
			const [file, into] = args;
			if (!file) throw new UsageError(`import needs a file: roost import FILE [${segments().join("|")}|<kind>/sandbox-<id>]`);
			let target: Segment | ActorPath | undefined;
			if (into !== undefined) {
				target = (segments() as string[]).includes(into) ? (into as Segment) : (parseActor(into) ?? undefined);
				if (!target)
					throw new UsageError(`"${into}" is neither ${spokenList(segments(), "nor")}, nor a sandbox like ${segments()[0]}/sandbox-1`);
			}
			const c = client();
			const result = await importFile(c, file, { target, quiet }, io);
			if (values.json) io.stdout.write(`${JSON.stringify({ ...result, actor: actorLabel(result.actor) })}\n`);
			else {
				io.stdout.write(
					`imported ${result.imported} events into ${actorLabel(result.actor)} (version ${result.version}, head hash ${result.headHash})\n` +
						`  console: ${c.endpoint}/console#${actorLabel(result.actor)}@${result.version}\n`,
				);
			}
			return EXIT.ok;
		}
	}
	throw new UsageError(`unknown command "${command}"`);
}

async function verifySegment(file: string, segment: SegmentInfo, values: Values, client: () => RoostClient, io: CliIo): Promise<number> {
	const checkpoint = values.checkpoint;
	if (checkpoint !== undefined && checkpoint !== "server" && !/^[0-9a-f]{64}$/.test(checkpoint))
		throw new UsageError(`--checkpoint must be a 64-digit hex hash or "server", not "${checkpoint}"`);
	const anchor = checkpoint === undefined ? undefined : checkpoint === "server" ? { client: client() } : { hash: checkpoint };
	const report = await verifySegmentFile(file, segment, anchor);
	const { actor, fromSeq, toSeq } = report.segment;
	if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
	else if (report.ok) {
		io.stdout.write(
			`ok: ${file}: segment of ${actor.kind}:${actor.id} (org ${actor.org}), seq ${fromSeq}..${toSeq}: chain of ${report.checked} events verified here, head ${report.headHash}\n`,
		);
		if (report.unchecked.length > 0)
			io.stdout.write(`not checkable offline: ${report.unchecked.length} redacted events (seq ${report.unchecked.join(", ")})\n`);
		if (report.anchor) io.stdout.write(`${report.anchor.ok ? "ok" : "DIFFERENT"}: ${report.anchor.detail}\n`);
		else io.stdout.write("not checked against a checkpoint: add --checkpoint HASH, or --checkpoint server\n");
	} else io.stdout.write(`BROKEN: ${file}: at seq ${report.brokenAt}${report.line ? ` (line ${report.line})` : ""}: ${report.reason}\n`);
	return report.ok && report.anchor?.ok !== false ? EXIT.ok : EXIT.problemFound;
}

/** Runs one command; never throws: failures are printed on stderr and become the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
	try {
		return await dispatch(argv, io);
	} catch (error) {
		if (error instanceof UsageError) {
			io.stderr.write(`roost: ${error.message}\n(roost --help lists the commands)\n`);
			return EXIT.usage;
		}
		if (error instanceof CheckFailed) {
			io.stderr.write(`roost: ${error.message}\n`);
			return EXIT.problemFound;
		}
		if (error instanceof ProblemError) {
			const { status, title, detail, errors } = error.problem;
			const fields = (errors ?? []).map((e) => `\n  ${e.path}: ${e.message}`).join("");
			io.stderr.write(`roost: ${status} ${title}${detail ? `: ${detail}` : ""}${fields}\n`);
			return EXIT.refused;
		}
		if (error instanceof NetworkError) {
			io.stderr.write(`roost: ${error.message}\n`);
			return EXIT.unreachable;
		}
		const code = (error as { code?: unknown }).code;
		if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
			io.stderr.write(`roost: ${error instanceof Error ? error.message : String(error)}\n`);
			return EXIT.unreachable;
		}
		io.stderr.write(
			`roost: unexpected error (a bug in roost): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		return EXIT.internal;
	}
}
