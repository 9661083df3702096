/**
 * The Worker under test: Roost's own entry, plus a probe actor that exercises the kernel's
 * scheduler with timers of every kind, and a test-only actor kind (a phone call, ./call-kind.ts) that its
 * one row in the kinds table makes readable through every generic route. The probe is a real kernel
 * subclass on real storage and alarms; its handler records each firing as an event and can be told to fail.
 */
// Roost's entry first, as a deployed Worker loads it: zod schemas made before @hono/zod-openapi loads have no .openapi.
import "../../../src/index.ts";
import { z } from "zod";
import { type EventPage, EventSourcedActor, type KernelStatus, type Plan } from "../../../src/actors/actor.ts";
import type { OutboxMessage } from "../../../src/actors/outbox.ts";
import type { Timer, TimerChange } from "../../../src/actors/timers.ts";
import { actorName } from "../../../src/core/identity.ts";
import type { Outcome } from "../../../src/core/outcome.ts";
import type { Env } from "../../../src/env.ts";
import { defineEvent, EventCatalog } from "../../../src/events/catalog.ts";
import type { ActorKind, RecordedEvent } from "../../../src/events/envelope.ts";
import type { ActorDefinition } from "../../../src/reducers/definition.ts";

export * from "../../../src/index.ts";
export { default } from "../../../src/index.ts";
export { CallActor } from "./call-kind.ts";

const fired = defineEvent("probe.fired", z.object({ timer: z.string(), scheduledAt: z.number().int(), payload: z.json().optional() }));

/** Text the probe keeps in its state, so a test can grow a state past one SQLite row. */
const held = defineEvent("probe.held", z.object({ text: z.string() }));

interface ProbeState {
	firings: number;
	held: string[];
}

const probeDefinition: ActorDefinition<ProbeState> = {
	kind: "probe" as ActorKind,
	catalog: new EventCatalog([fired, held]),
	reducerVersion: 1,
	initialState: () => ({ firings: 0, held: [] }),
	evolve: (state, event: RecordedEvent) =>
		event.type === "probe.held"
			? { ...state, held: [...state.held, (event.data as { text: string }).text] }
			: { ...state, firings: state.firings + 1 },
};

export class ProbeActor extends EventSourcedActor<ProbeState> {
	#failuresLeft = 0;
	#invalid = false;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, probeDefinition);
	}

	setTimers(changes: TimerChange[]): Outcome<{ timers: number }> {
		return this.changeTimers(changes);
	}

	/** Records outbox messages without events; they go out on the next alarm. */
	emit(messages: OutboxMessage[]): Outcome<null> {
		return this.execute({}, () => ({ events: [], result: () => null, effects: () => ({ outbox: messages }) }));
	}

	kernel(): KernelStatus {
		return this.kernelStatus();
	}

	/** The next `n` firings throw, as a handler with a bug or a flaky dependency would. */
	failNext(n: number): void {
		this.#failuresLeft = n;
	}

	/** From now on every firing plans an event its catalog refuses, as a handler deriving a bad event would. */
	planInvalid(on: boolean): void {
		this.#invalid = on;
	}

	/** Appends one `probe.held` event per text. */
	hold(texts: string[], from: number): Outcome<{ version: number }> {
		return this.execute({}, () => ({
			events: texts.map((text, i) => ({ id: `held-${from + i}`, type: "probe.held", ts: 0, data: { text } })),
			result: (receipt) => ({ version: receipt.version }),
		}));
	}

	probeState(): ProbeState {
		return this.state;
	}

	timer(name: string): Timer | undefined {
		return this.timers.get(name);
	}

	alarmAt(): Promise<number | null> {
		return this.ctx.storage.getAlarm();
	}

	protected override onTimer(timer: Timer): Plan<unknown, ProbeState> {
		if (this.#failuresLeft > 0) {
			this.#failuresLeft--;
			throw new Error(`probe failure for ${timer.name}`);
		}
		return {
			events: [
				{
					id: `${timer.name}@${timer.scheduledAt}`,
					type: "probe.fired",
					ts: timer.scheduledAt,
					data: { timer: timer.name, scheduledAt: this.#invalid ? "never" : timer.scheduledAt, payload: timer.payload ?? undefined },
				},
			],
			result: () => null,
		};
	}
}

/** The probe's RPC surface as tests use it (RPC typing cannot map `unknown` payloads). */
export interface ProbeStub extends DurableObjectStub {
	setTimers(changes: TimerChange[]): Promise<Outcome<{ timers: number }>>;
	emit(messages: OutboxMessage[]): Promise<Outcome<null>>;
	kernel(): Promise<KernelStatus>;
	failNext(n: number): Promise<void>;
	planInvalid(on: boolean): Promise<void>;
	hold(texts: string[], from: number): Promise<Outcome<{ version: number }>>;
	probeState(): Promise<{ firings: number; held: string[] }>;
	timer(name: string): Promise<Timer | undefined>;
	alarmAt(): Promise<number | null>;
	readEvents(query: { after?: number; limit?: number }): Promise<EventPage>;
	describe(): Promise<{ version: number; snapshots: { version: number; bytes: number; parts: number }[] }>;
}

/** A probe actor by name, from the namespace bound only in the test configuration. */
export function probeStub(env: object, name: string): ProbeStub {
	const namespace = (env as { PROBE: DurableObjectNamespace<ProbeActor> }).PROBE;
	return namespace.getByName(actorName("acme", name)) as unknown as ProbeStub;
}
