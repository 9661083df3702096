/**
 * The issue-23 bench cases of the bench Worker (bench/worker.ts routes to them): rows written and org RPCs counted by
 * bench/instrument.ts while real requests run through the app, and a search over an org whose interactions projection
 * is filled in bulk through the projection's own write path.
 */
import { createHash } from "node:crypto";
import type { StoredEvent } from "../src/actors/log.ts";
import { SubjectKeys } from "../src/actors/subject-keys.ts";
import { chainText } from "../src/core/hash.ts";
import { actorName } from "../src/core/identity.ts";
import type { Env } from "../src/env.ts";
import { visitInteractionId } from "../src/events/interaction.ts";
import { orgCatalog } from "../src/events/org.ts";
import { eventForFold } from "../src/events/stored.ts";
import app, { OrgActor as AppOrgActor, SessionActor as AppSessionActor } from "../src/index.ts";
import { interactionsProjection } from "../src/reducers/org-projections.ts";
import { patternFrame } from "../src/vision/test-pattern.ts";
import { type ClientEvent, clientEvent } from "./events.ts";
import { type Counts, countingOrgEnv, instrument, startCounting, stopCounting } from "./instrument.ts";

/** The org the route cases post to, and one of its API keys. */
export interface Org {
	id: string;
	apiKey: string;
}

export interface ScaleEnv extends Env {
	SHORT_SESSION: DurableObjectNamespace<ShortVisitSessionActor>;
	BENCH_ORG: DurableObjectNamespace<BenchOrgActor>;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Inactivity of the short-visit sessions: long enough to append a visit and let its start reach the org first. */
const SHORT_VISIT_MS = 1500;

/** The app's SessionActor with visits ending after SHORT_VISIT_MS of silence, so a bench sees a visit end. */
export class ShortVisitSessionActor extends AppSessionActor {
	constructor(ctx: DurableObjectState, env: Env) {
		instrument(ctx, "session");
		super(ctx, countingOrgEnv({ ...env, SESSION_INACTIVITY_MS: String(SHORT_VISIT_MS) }));
	}
}

/** POSTs SDK events to the app's session route through its fetch handler in this isolate (key check included). */
async function post(env: Env, ctx: ExecutionContext, org: Org, session: string, events: ClientEvent[]): Promise<number> {
	const body = JSON.stringify({ events });
	const headers = { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json", "content-length": String(body.length) };
	const request = new Request(`http://roost.bench/v1/orgs/${org.id}/sessions/${session}/events`, { method: "POST", headers, body });
	const response = await app.fetch(request as Request<unknown, IncomingRequestCfProperties>, countingOrgEnv(env), ctx);
	if (response.status !== 202) throw new Error(`route ${session}: ${response.status} ${await response.text()}`);
	return ((await response.json()) as { accepted: number }).accepted;
}

/**
 * Rows written per SDK event: `requests` requests of `batch` events to one open visit through the app's route, counted
 * from the first request to SETTLE_MS after the last (so the alarms and deliveries they cause are in), visit already open.
 */
export async function ingestRowsCase(env: Env, ctx: ExecutionContext, org: Org, name: string, batch: number, requests: number) {
	await post(env, ctx, org, name, [clientEvent(name, 0)]);
	// The visit's start reaches the org through the session's outbox; let it land before counting.
	await settle(300);
	startCounting();
	let accepted = 0;
	for (let r = 0; r < requests; r++)
		accepted += await post(
			env,
			ctx,
			org,
			name,
			Array.from({ length: batch }, (_, k) => clientEvent(name, r * batch + k + 1)),
		);
	await settle(300);
	const counts = stopCounting();
	if (accepted !== batch * requests) throw new Error(`${name}: ${accepted} accepted, expected ${batch * requests}`);
	return { events: accepted, requests, ...counts };
}

/**
 * Org RPCs per ingest request, SDK-shaped: `sessions` visits of `perVisit` requests of `batch` events each, interleaved
 * as concurrent visits would be, every request through the route (the key check and its per-isolate cache included).
 */
export async function orgRpcCase(
	env: Env,
	ctx: ExecutionContext,
	org: Org,
	name: string,
	sessions: number,
	perVisit: number,
	batch: number,
) {
	startCounting();
	let requests = 0;
	for (let r = 0; r < perVisit; r++) {
		await Promise.all(
			Array.from({ length: sessions }, (_, s) =>
				post(
					env,
					ctx,
					org,
					`${name}-s${s}`,
					Array.from({ length: batch }, (_, k) => clientEvent(`${name}-s${s}`, r * batch + k)),
				),
			),
		);
		requests += sessions;
	}
	// The visits' starts go out through the sessions' outboxes after the requests answer: count until the org lists every
	// visit as active (asked through the uncounted binding), however long the machine's load makes that.
	const orgStub = env.ORG.getByName(actorName(org.id, org.id));
	const names = new Set(Array.from({ length: sessions }, (_, s) => `${name}-s${s}`));
	await until(
		async () => {
			// The org's whole state, not a page of listSessions: earlier sections' sessions in the same org may sort first.
			const read = await orgStub.readState();
			return read.ok && [...names].every((session) => session in read.value.state.activeSessions);
		},
		120_000,
		"the visits' starts",
	);
	await settle(300);
	return { requests, sessions, ...stopCounting() };
}

/** Waits until `check` holds, polling every 100 ms, for at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await settle(100);
	}
}

/**
 * Rows written per ended visit, session and org sides: `visits` visits of `requests` SDK batches of 3 appended over RPC
 * to short-visit sessions; counting starts once they are quiet and stops when the org has every visit's interaction.
 */
export async function visitEndCase(env: ScaleEnv, org: Org, name: string, visits: number, requests: number) {
	const names = Array.from({ length: visits }, (_, v) => `${name}-v${v}`);
	await Promise.all(
		names.map(async (session) => {
			const stub = env.SHORT_SESSION.getByName(actorName(org.id, session));
			for (let r = 0; r < requests; r++) {
				const events = Array.from({ length: 3 }, (_, k) => clientEvent(session, r * 3 + k));
				const outcome = await stub.recordBatch({ events }, { requestId: `${session}-${r}` });
				if (!outcome.ok) throw new Error(`append ${session}: ${JSON.stringify(outcome.error)}`);
			}
		}),
	);
	// Each visit's start reaches the org through the org intake queue (src/intake.ts), up to a second after the session
	// sent it: waited for (or for the visit's end, should it overtake the start), so only the end is counted.
	const orgStub = env.ORG.getByName(actorName(org.id, org.id));
	await until(
		async () => {
			for (const session of names) {
				const id = visitInteractionId(session, 1);
				if (!(await orgStub.eventById(`${id}:started`)) && !(await orgStub.eventById(id))) return false;
			}
			return true;
		},
		20_000,
		"the visits' starts",
	);
	await settle(300);
	startCounting();
	const ended = async () => {
		const found = await orgStub.searchInteractions({ source: "web", limit: 200 });
		if (!found.ok) return false;
		const seen = new Set(found.value.interactions.map((i) => i.actor.id));
		return names.every((session) => seen.has(session));
	};
	await until(ended, 20_000, "the visits' interactions");
	await settle(300);
	const counts = stopCounting();
	return { visits, eventsPerVisit: requests * 3, ...counts };
}

type AnswerCounts = Counts & { tokenEvents: number };

/**
 * Counts what chat answers of the installed mock model write, each from its question to SETTLE after its answer:
 * `first` is the chat's first answer (the new chat object's own setup, its schema and migrations, included), `next` a
 * second answer in the same chat, what every later answer costs.
 */
export async function chatRowsCase(
	env: Env,
	ctx: ExecutionContext,
	org: Org,
	name: string,
): Promise<AnswerCounts & { next: AnswerCounts }> {
	const chat = env.CHAT.getByName(actorName(org.id, name));
	let answered = 0;
	let tokensBefore = 0;
	const ask = async (n: number): Promise<AnswerCounts> => {
		startCounting();
		const body = JSON.stringify({ text: `Stream the benchmark answer ${n}`, clientActionId: `${name}-q${n}` });
		const headers = { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json", "content-length": String(body.length) };
		const request = new Request(`http://roost.bench/v1/orgs/${org.id}/chats/${name}/messages`, { method: "POST", headers, body });
		const response = await app.fetch(request as Request<unknown, IncomingRequestCfProperties>, countingOrgEnv(env), ctx);
		if (response.status !== 202) throw new Error(`chat ${name}: ${response.status} ${await response.text()}`);
		let tokenEvents = 0;
		await until(
			async () => {
				const page = (await chat.readEvents({ after: 0, limit: 1000 })) as unknown as { events: { type: string }[] };
				const answers = page.events.filter((e) => e.type === "chat.assistant_message").length;
				tokenEvents = page.events.filter((e) => e.type === "llm.token").length - tokensBefore;
				return answers > answered;
			},
			30_000,
			"the answer",
		);
		tokensBefore += tokenEvents;
		answered++;
		// The answer's interaction goes to the org through the chat's outbox.
		await settle(500);
		return { ...stopCounting(), tokenEvents };
	};
	const first = await ask(1);
	const next = await ask(2);
	return { ...first, next };
}

/**
 * Rows written per camera frame: `frames` PNG frames of a moving square posted to one camera through the app's route,
 * counted from the first to SETTLE after the last, so each frame's analysis (on the camera's alarm) is included.
 */
export async function cameraRowsCase(env: Env, ctx: ExecutionContext, org: Org, name: string, frames: number) {
	const postFrame = async (i: number) => {
		const body = patternFrame("png", { square: { x: 10 + ((i * 7) % 100), y: 20, size: 30 } });
		const headers = { authorization: `Bearer ${org.apiKey}`, "content-type": "image/png", "content-length": String(body.byteLength) };
		const request = new Request(`http://roost.bench/v1/orgs/${org.id}/cameras/${name}/frames`, { method: "POST", headers, body });
		const response = await app.fetch(request as Request<unknown, IncomingRequestCfProperties>, countingOrgEnv(env), ctx);
		if (response.status !== 202) throw new Error(`frame ${name}: ${response.status} ${await response.text()}`);
	};
	// The first frame brings the camera online (a message to the org); count from the second on.
	await postFrame(0);
	await settle(500);
	startCounting();
	for (let i = 1; i <= frames; i++) {
		await postFrame(i);
		// A camera sends a frame every few seconds; a short gap lets each frame's analysis run before the next.
		await settle(50);
	}
	await settle(500);
	return { frames, ...stopCounting() };
}

/** Web interactions get a user id this often (the rest are anonymous), from a pool of USERS. */
const USERS = 50_000;
const PATHS = 400;

/**
 * The app's OrgActor plus a bulk path for the search bench: interactions written as the append path writes them (the
 * event row with its chained hash, the user id sealed under a subject key, the projection's `apply`), 20,000 per call.
 */
export class BenchOrgActor extends AppOrgActor {
	/** Appends interactions `from`+1 .. `from`+`count` (of the bench's mix) after the log's head; answers the new head. */
	fillInteractions(prefix: string, from: number, count: number): number {
		const subjects = new SubjectKeys(this.ctx.storage.sql);
		const sql = this.ctx.storage.sql;
		let { version, hash } = this.log.head();
		const v = orgCatalog.get("org.interaction_recorded")?.version ?? 1;
		const meta = JSON.stringify({ correlationId: `${prefix}-fill`, requestId: `${prefix}-fill` });
		this.ctx.storage.transactionSync(() => {
			const rows: StoredEvent[] = [];
			for (let n = from + 1; n <= from + count; n++) {
				const seq = ++version;
				const endedAt = SEARCH_BASE_TS + n * 2000;
				const kind = n % 20 === 0 ? "chat" : n % 7 === 0 ? "cctv" : "web";
				const actorId = `${prefix}-${n}`;
				const summary: Record<string, unknown> = {};
				if (kind === "web") {
					summary.pages = Array.from({ length: 5 }, (_, p) => `/p/${(n * 7 + p * 13) % PATHS}`);
					if (n % 5 !== 0) summary.userId = subjects.seal(`user-${n % USERS}`, `session:${actorId}`);
				}
				const data = {
					id: `${actorId}:1`,
					source: kind,
					actor: { kind: kind === "web" ? "session" : kind === "cctv" ? "camera" : "chat", id: actorId },
					startedAt: endedAt - 240_000,
					endedAt,
					summary,
				};
				const row = { seq, id: data.id, type: "org.interaction_recorded", v, ts: endedAt, data: JSON.stringify(data), meta };
				hash = createHash("sha256").update(chainText(hash, row)).digest("hex");
				rows.push({ ...row, hash });
				interactionsProjection.apply(eventForFold(row, orgCatalog), sql);
			}
			this.log.insert(rows);
		});
		return version;
	}
}

export const SEARCH_BASE_TS = 1_760_000_000_000;

/** Appends interactions `from`+1 .. `from`+`count` to the bench org `name` (one call of at most 20,000; the bench loops). */
export async function searchFill(env: ScaleEnv, name: string, from: number, count: number) {
	const stub = env.BENCH_ORG.getByName(actorName(name, name));
	const version = await stub.fillInteractions(name, from, Math.min(20_000, count));
	return { version, projections: await stub.projections() };
}
