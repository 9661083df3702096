/** WebSocket frames between an actor and its subscribers (docs/api.md, the `.../ws` route under "Actor reads"). */
import { z } from "zod";
import { type FieldError, zodErrors } from "../events/catalog.ts";
import type { ActorRef, EventEnvelope } from "../events/envelope.ts";

export type ServerMessage =
	| { t: "hello"; version: number; actor: ActorRef; sendOnly?: true }
	| { t: "event"; event: EventEnvelope }
	| { t: "pong" }
	| { t: "ack"; accepted: number; duplicates: number; version: number; clientActionId?: string }
	| {
			t: "error";
			status: number;
			title: string;
			detail: string;
			errors?: FieldError[];
			currentVersion?: number;
			clientActionId?: string;
			/** On a 429: seconds until a frame is accepted again. */
			retryAfter?: number;
	  };

export interface ClientMessage {
	t: string;
	[key: string]: unknown;
}

/** Largest client frame accepted; the HTTP batch limit applies to sockets too. */
export const MAX_CLIENT_FRAME_BYTES = 1_048_576;

const envelopeSchema = z.object({ t: z.string().min(1) }).loose();

export type ParsedClientMessage = { ok: true; message: ClientMessage } | { ok: false; detail: string; errors?: FieldError[] };

/** Parses a frame as JSON, checks `t`, and validates it with the schema registered for that `t`. */
export function parseClientMessage(
	raw: string | ArrayBuffer | ArrayBufferView,
	schemas: Record<string, z.ZodType<ClientMessage>>,
): ParsedClientMessage {
	if (typeof raw !== "string") return { ok: false, detail: "frames must be JSON text" };
	if (raw.length > MAX_CLIENT_FRAME_BYTES) return { ok: false, detail: `frame is larger than ${MAX_CLIENT_FRAME_BYTES} bytes` };
	let json: unknown;
	try {
		json = JSON.parse(raw);
	} catch {
		return { ok: false, detail: "frame is not valid JSON" };
	}
	const head = envelopeSchema.safeParse(json);
	if (!head.success) return { ok: false, detail: "frame must be an object with a string field t", errors: zodErrors(head.error) };
	if (head.data.t === "ping") return { ok: true, message: head.data };
	// Own keys only: a frame whose t is "constructor" or "__proto__" must not find Object.prototype's members.
	const schema = Object.hasOwn(schemas, head.data.t) ? schemas[head.data.t] : undefined;
	if (!schema)
		return { ok: false, detail: `unsupported message type "${head.data.t}"`, errors: [{ path: "t", message: "unsupported message type" }] };
	const body = schema.safeParse(json);
	if (!body.success) return { ok: false, detail: "message has invalid fields", errors: zodErrors(body.error) };
	return { ok: true, message: body.data };
}
