/** The web session actor: SDK batches in over HTTP or its socket, one visit at a time. */
import type { Connection } from "partyserver";
import { z } from "zod";
import type { Env } from "../env.ts";
import type { EventMeta } from "../events/envelope.ts";
import { type SessionBatchInput, sessionBatchInput } from "../events/session.ts";
import { decideSession, type SessionState, sessionDefinition } from "../reducers/session.ts";
import { EventSourcedActor } from "./actor.ts";
import { errorDetails, type Outcome, statusOf } from "./outcome.ts";
import type { ClientMessage } from "./socket-messages.ts";

export interface BatchResult {
	accepted: number;
	duplicates: number;
	version: number;
}

export class SessionActor extends EventSourcedActor<SessionState> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, sessionDefinition);
	}

	/** Appends an SDK batch: repeated event ids are counted as duplicates and not stored again. */
	recordBatch(input: SessionBatchInput, meta: EventMeta = {}): Outcome<BatchResult> {
		const { events, clientActionId, expectedVersion } = input;
		return this.execute({ clientActionId, expectedVersion, meta: { ...meta, clientActionId } }, (state) => {
			const existing = this.log.existingIds(events.map((e) => e.id));
			const fresh = events
				.map((event, i) => ({ ...event, at: `events[${i}]` }))
				.filter((event) => {
					if (existing.has(event.id)) return false;
					existing.add(event.id);
					return true;
				});
			return {
				events: decideSession({ kind: "record", events: fresh }, state),
				result: (receipt) => ({ accepted: fresh.length, duplicates: events.length - fresh.length, version: receipt.version }),
			};
		});
	}

	protected override clientMessageSchemas() {
		return { events: sessionBatchInput.extend({ t: z.literal("events") }) };
	}

	protected override onClientMessage(connection: Connection, message: ClientMessage): void {
		const input = message as unknown as SessionBatchInput;
		const echo = input.clientActionId ? { clientActionId: input.clientActionId } : {};
		const outcome = this.recordBatch(input, { requestId: `ws:${connection.id}` });
		if (outcome.ok) this.send(connection, { t: "ack", ...outcome.value, ...echo });
		else this.send(connection, { t: "error", ...statusOf(outcome.error), ...errorDetails(outcome.error), ...echo });
	}
}
