/**
 * One actor's stored log as the console holds it: raw events (as stored, `?raw=true`) loaded page by page
 * on demand, and its state at any version folded here with the same pure reducers the Worker runs
 * (src/reducers), from the nearest state already computed. Stepping one version folds one event.
 */
import { type ActorPath, actorApiPath, definitionOf, kindOf } from "../../../src/cli/actors.ts";
import { type ExportedEvent, recordedOf } from "../../../src/cli/chain.ts";
import type { RecordedEvent } from "../../../src/events/envelope.ts";
import type { ActorDefinition } from "../../../src/reducers/definition.ts";
import type { RoostApi } from "../shared/api.ts";

const PAGE = 500;
/** A state is kept every this many versions, so any version is at most this many folds away. */
const CHECKPOINT_EVERY = 100;
/** Recent states kept besides the checkpoints (stepping back and forth stays instant). */
const RECENT_STATES = 64;

export interface EventsPage {
	events: ExportedEvent[];
	next: number | null;
}

export class ActorLog {
	readonly definition: ActorDefinition<unknown>;
	version = 0;
	readonly #raw = new Map<number, ExportedEvent>();
	readonly #loading = new Map<number, Promise<void>>();
	readonly #checkpoints = new Map<number, unknown>();
	readonly #recent = new Map<number, unknown>();

	constructor(
		readonly api: RoostApi,
		readonly actor: ActorPath,
	) {
		this.definition = definitionOf(kindOf(actor));
		this.#checkpoints.set(0, this.definition.initialState());
	}

	path(suffix = ""): string {
		return actorApiPath(this.api.org, this.actor, suffix);
	}

	/** Reads the actor's version (its snapshot list carries it cheaply). */
	async refresh(): Promise<number> {
		const { version } = await this.api.get<{ version: number }>(this.path("/snapshots"));
		this.version = Math.max(this.version, version);
		return this.version;
	}

	/** The log grew (a live event): later versions become reachable. */
	grow(version: number): void {
		this.version = Math.max(this.version, version);
	}

	/** The stored event at `seq`, loading its page if needed. */
	async raw(seq: number): Promise<ExportedEvent> {
		await this.#ensure(seq);
		const event = this.#raw.get(seq);
		if (!event) throw new Error(`seq ${seq} is not in the log`);
		return event;
	}

	/** The event as reducers and reads see it: lifted to its type's current version. */
	upcast(event: ExportedEvent): RecordedEvent {
		return recordedOf(this.definition, event);
	}

	/** Stored events in (from, to], in order. */
	async range(from: number, to: number, onProgress?: (seq: number) => void): Promise<ExportedEvent[]> {
		const out: ExportedEvent[] = [];
		for (let seq = from + 1; seq <= to; seq++) {
			if (!this.#raw.has(seq)) {
				await this.#ensure(seq);
				onProgress?.(seq);
			}
			const event = this.#raw.get(seq);
			if (event) out.push(event);
		}
		return out;
	}

	/** State at `version`: the fold of the first `version` events. */
	async stateAt(version: number): Promise<unknown> {
		const known = this.#known(version);
		if (known !== undefined) return known.state;
		let from = 0;
		for (const v of [...this.#recent.keys(), ...this.#checkpoints.keys()]) if (v <= version && v > from) from = v;
		let state = this.#known(from)?.state ?? this.definition.initialState();
		const events = await this.range(from, version);
		for (const event of events) {
			state = this.definition.evolve(state, this.upcast(event));
			if (event.seq % CHECKPOINT_EVERY === 0) this.#checkpoints.set(event.seq, state);
		}
		this.#remember(version, state);
		return state;
	}

	/** A page of the log as the server pages it (upcast), optionally of one type. */
	page(after: number, limit: number, type?: string): Promise<EventsPage> {
		return this.api.get<EventsPage>(this.path("/events"), { after, limit, type });
	}

	#known(version: number): { state: unknown } | undefined {
		if (this.#recent.has(version)) return { state: this.#recent.get(version) };
		if (this.#checkpoints.has(version)) return { state: this.#checkpoints.get(version) };
		return undefined;
	}

	#remember(version: number, state: unknown): void {
		this.#recent.delete(version);
		this.#recent.set(version, state);
		while (this.#recent.size > RECENT_STATES) {
			const oldest = this.#recent.keys().next().value;
			if (oldest === undefined) break;
			this.#recent.delete(oldest);
		}
	}

	async #ensure(seq: number): Promise<void> {
		if (this.#raw.has(seq)) return;
		const after = Math.floor((seq - 1) / PAGE) * PAGE;
		let loading = this.#loading.get(after);
		if (!loading) {
			loading = this.api
				.get<EventsPage>(this.path("/events"), { after, limit: PAGE, raw: "true" })
				.then((page) => {
					for (const event of page.events) this.#raw.set(event.seq, event);
				})
				.finally(() => this.#loading.delete(after));
			this.#loading.set(after, loading);
		}
		await loading;
	}
}
