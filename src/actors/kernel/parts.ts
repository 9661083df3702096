/**
 * How the kernel's parts are put together for one actor: each part gets the host and only the hooks it needs, and
 * the parts that reach each other (timers and socket checks, parking and the append path) are wired here, once.
 * The actor keeps what it overrides (its timers, messages, sockets); everything else is a part.
 */
import type { Connection } from "partyserver";
import type { KeyRole } from "../../events/org.ts";
import type { PendingMessage } from "../outbox.ts";
import type { ClientMessage, parseClientMessage, ServerMessage } from "../socket-messages.ts";
import type { Timer } from "../timers.ts";
import { AlarmSchedule } from "./alarm.ts";
import { AppendPath } from "./append.ts";
import { type ExternalVerdict, OutboxCourier } from "./courier.ts";
import { clearActorStorage } from "./erase.ts";
import type { KernelHost } from "./host.ts";
import { Parking } from "./parking.ts";
import { Projections } from "./projections.ts";
import { Reads } from "./reads.ts";
import { SandboxExpiry } from "./sandbox-expiry.ts";
import { KeyChecks, SOCKET_CHECK_TIMER } from "./socket-keys.ts";
import { Subscriptions } from "./subscriptions.ts";
import { TimerPart } from "./timer-part.ts";
import type { AppendReceipt, Effects, TimerPlan } from "./types.ts";

/** What the actor (its kind) decides or does for the parts. */
export interface ActorHooks<S> {
	onTimer(timer: Timer, state: S): TimerPlan<S> | Promise<TimerPlan<S>>;
	deliverExternal(message: PendingMessage): Promise<ExternalVerdict>;
	commitEffects(receipt: AppendReceipt, state: S): Effects;
	liveKeyRole(keyId: string): Promise<KeyRole | null>;
	connections<T>(tag?: string): Iterable<Connection<T>>;
	send(connection: Connection, message: ServerMessage): void;
	clientMessageSchemas(): Parameters<typeof parseClientMessage>[1];
	onClientMessage(connection: Connection, message: ClientMessage): void;
}

export interface KernelParts<S> {
	schedule: AlarmSchedule;
	append: AppendPath<S>;
	timers: TimerPart<S>;
	parking: Parking<S>;
	projections: Projections<S>;
	keys: KeyChecks<S>;
	sockets: Subscriptions<S>;
	reads: Reads<S>;
	expiry: SandboxExpiry<S>;
}

export function composeParts<S>(host: KernelHost<S>, hooks: ActorHooks<S>): KernelParts<S> {
	// Parts that call each other are reached through `parts`, which is complete before any of them runs.
	const parts = {} as KernelParts<S>;
	parts.parking = new Parking(host, (plan, options) => parts.append.run(options ?? {}, plan));
	parts.timers = new TimerPart(host, {
		onTimer: (timer, state) => hooks.onTimer(timer, state),
		run: (plan, firing) => parts.append.run({}, plan, firing),
		kernelTimers: { [SOCKET_CHECK_TIMER]: (timer) => parts.keys.checkFired(timer) },
		parksAfter: (attempts) => parts.parking.reached(attempts),
		park: (timer, detail, reason) => parts.parking.parkTimer(timer, detail, reason),
	});
	parts.projections = new Projections(host);
	parts.schedule = new AlarmSchedule(host.ctx.storage, [
		parts.timers,
		parts.projections,
		new OutboxCourier(host, parts.parking, (message) => hooks.deliverExternal(message)),
	]);
	parts.reads = new Reads(host);
	parts.expiry = new SandboxExpiry(host, () => clearActorStorage(host, parts, hooks.connections(), host.definition.initialState()));
	parts.keys = new KeyChecks(host, {
		connections: (tag) => hooks.connections(tag),
		liveKeyRole: (keyId) => hooks.liveKeyRole(keyId),
		checkTimer: (armed) => parts.sockets.checkTimer(armed),
		advance: (timer) => void parts.append.run({}, () => ({ events: [], result: () => null }), timer),
	});
	parts.sockets = new Subscriptions(host, parts.keys, parts.timers, {
		connections: (tag) => hooks.connections(tag),
		send: (connection, message) => hooks.send(connection, message),
		envelope: (row) => parts.reads.envelope(row),
		clientMessageSchemas: () => hooks.clientMessageSchemas(),
		onClientMessage: (connection, message) => hooks.onClientMessage(connection, message),
	});
	parts.append = new AppendPath(
		host,
		parts.schedule,
		parts.projections,
		(envelopes) => parts.sockets.publish(envelopes),
		(receipt, state) => hooks.commitEffects(receipt, state),
	);
	return parts;
}
