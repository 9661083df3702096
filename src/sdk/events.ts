/**
 * The session events a client may send, as the SDK builds them. Mirrors src/events/session.ts without
 * importing it, so the SDK bundle carries no zod; test/workers/sdk.test.ts checks the two agree.
 */
import { uuidv7 } from "uuidv7";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Props = Record<string, JsonValue>;

export interface PageViewedData {
	url: string;
	/** The URL's pathname; the SDK derives it from `url`. */
	path: string;
	title?: string;
	referrer?: string;
}

export interface ClickedData {
	/** CSS path of the clicked element, e.g. `main > ul.products > li:nth-of-type(2) > a`. */
	target: string;
	text?: string;
	url?: string;
	x?: number;
	y?: number;
}

export interface CustomData {
	name: string;
	props?: Props;
}

export interface IdentifiedData {
	userId: string;
	traits?: Props;
}

export interface ErrorData {
	message: string;
	stack?: string;
	source?: string;
	url?: string;
}

/** Data of each type a client may send (the actor adds `session.started` and `session.ended` itself). */
export interface SessionEventData {
	"session.page_viewed": PageViewedData;
	"session.clicked": ClickedData;
	"session.custom": CustomData;
	"session.identified": IdentifiedData;
	"session.error": ErrorData;
}

export type ClientEventType = keyof SessionEventData;

export const CLIENT_EVENT_TYPES: readonly ClientEventType[] = [
	"session.page_viewed",
	"session.clicked",
	"session.custom",
	"session.identified",
	"session.error",
];

/** One event as the batch endpoint takes it. The id is a UUIDv7 fixed at creation, so a resent event is a duplicate. */
export interface ClientEvent<T extends ClientEventType = ClientEventType> {
	id: string;
	type: T;
	ts: number;
	data: SessionEventData[T];
}

/** An event as the server returns it (reads and socket pushes). */
export interface EventEnvelope {
	seq: number;
	id: string;
	type: string;
	v: number;
	ts: number;
	data: unknown;
	/** Strings (requestId, correlationId, …), `backfilled: true`, `receivedAt` (ms) and the principal: docs/events.md, "Meta keys". */
	meta: Record<string, string | number | true | { kind: "key"; id: string } | { kind: "member"; email: string }>;
	actor: { kind: string; org: string; id: string };
	hash: string;
}

/** Limits of the server's schemas; the SDK trims text it captures itself so a long title never sinks a batch. */
export const LIMITS = { url: 2048, title: 512, text: 256, target: 1024, name: 128, message: 4096, stack: 16384 } as const;

export function isClientEventType(type: string): type is ClientEventType {
	return (CLIENT_EVENT_TYPES as readonly string[]).includes(type);
}

export function newEvent<T extends ClientEventType>(type: T, data: SessionEventData[T], now: number = Date.now()): ClientEvent<T> {
	return { id: uuidv7(), type, ts: Math.max(0, Math.floor(now)), data };
}

/** Path of a URL, or the text itself when it is already a path: the same rule as the server's `pathOf`. */
export function pathOf(href: string): string {
	try {
		const parsed = new URL(href);
		return parsed.pathname || "/";
	} catch {
		const path = href.split(/[?#]/)[0] ?? href;
		return path.length > 0 ? path : "/";
	}
}

export function clip(text: string, max: number): string {
	return text.length > max ? text.slice(0, max) : text;
}
