/**
 * Roost's client SDK: stream a web session's events into Roost from a browser or a Node service.
 * See docs/sdk.md.
 *
 * ```ts
 * import { createSession } from "roost/sdk";
 * const session = createSession({ endpoint: "https://roost.example.com", apiKey, orgId: "acme", autocapture: true });
 * session.track("added_to_cart", { sku: "shoe-42" });
 * ```
 */
import { SessionClient, type SessionOptions } from "./client.ts";

export type { AutocaptureOptions } from "./autocapture.ts";
export { cssPath } from "./autocapture.ts";
export type { StorageLike } from "./buffer.ts";
export type {
	FlushResult,
	RetryNotice,
	RetryOptions,
	SdkError,
	SentBatch,
	SessionClient,
	SessionOptions,
	SessionStats,
} from "./client.ts";
export type {
	ClickedData,
	ClientEvent,
	ClientEventType,
	CustomData,
	ErrorData,
	EventEnvelope,
	IdentifiedData,
	JsonValue,
	PageViewedData,
	Props,
	SessionEventData,
} from "./events.ts";
export { CLIENT_EVENT_TYPES, pathOf } from "./events.ts";
export type { BatchAck, FetchLike, Problem } from "./http.ts";
export { DeliveryError } from "./http.ts";
export type { WebSocketConstructor } from "./live.ts";

/** Starts streaming one web session. Nothing is sent until the first event is recorded. */
export function createSession(options: SessionOptions): SessionClient {
	return new SessionClient(options);
}
