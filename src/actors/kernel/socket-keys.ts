/**
 * Socket credentials after the upgrade: a socket lives at most MAX_SOCKET_LIFETIME_MS, and the key it was opened
 * with must stay live with the same role. The org is asked at most every KEY_CHECK_EVERY_MS per key, and on a
 * kernel timer while a keyed socket is open; an org that does not answer never closes a socket.
 */
import type { Connection } from "partyserver";
import { errorText, log } from "../../core/log.ts";
import type { KeyRole } from "../../events/org.ts";
import { CLOSE, KEY_CHECK_EVERY_MS, MAX_SOCKET_LIFETIME_MS, type SocketKey, type SocketState } from "../socket-guard.ts";
import type { Timer } from "../timers.ts";
import type { KernelHost } from "./host.ts";

/** The kernel's timer that re-checks open sockets' keys and lifetimes; armed only while a socket is open. */
export const SOCKET_CHECK_TIMER = "~sockets";

export const keyTag = (keyId: string) => `key:${keyId}`;

export interface KeyCheckHooks {
	connections<T>(tag?: string): Iterable<Connection<T>>;
	/** The org's answer: the key's role if it is live, else null. */
	liveKeyRole(keyId: string): Promise<KeyRole | null>;
	/** Sets the socket check timer unless it is set, or cancels it if it is. */
	checkTimer(armed: boolean): void;
	/** Moves the socket check timer on to its next firing. */
	advance(timer: Timer): void;
}

/** Closes a socket, which may already be closing. */
export function closeSocket(connection: Connection, why: { code: number; reason: string }): void {
	try {
		connection.close(why.code, why.reason);
	} catch {
		// Already closing.
	}
}

type KeyCheck = { at: number; role: KeyRole | null | undefined; pending?: Promise<KeyRole | null | undefined> };

export class KeyChecks<S> {
	/** The org's last answer on each socket key: its live role (null: not live), when it was asked, and a question in flight. */
	readonly #checks = new Map<string, KeyCheck>();

	constructor(
		private readonly host: KernelHost<S>,
		private readonly hooks: KeyCheckHooks,
	) {}

	#pastLifetime(connection: Connection, state: SocketState | null | undefined): boolean {
		if (state?.openedAt === undefined || this.host.now() - state.openedAt < MAX_SOCKET_LIFETIME_MS) return false;
		closeSocket(connection, CLOSE.lifetime);
		return true;
	}

	/** Whether the socket may still be used: within its lifetime, and its key live with the role it was opened with. Closes it if not. */
	async stillAllowed(connection: Connection<SocketState>, fresh = false): Promise<boolean> {
		const state = connection.state;
		if (this.#pastLifetime(connection, state)) return false;
		if (!state?.key) return true;
		const role = await this.#liveRole(state.key.id, fresh);
		return this.#verdict(connection, state.key, role);
	}

	/**
	 * Publishing cannot wait for the org: a socket past its lifetime, or whose key the last answer says is not
	 * live, is closed and skipped; a key whose answer is stale is asked again in the background.
	 */
	mayReceive(connection: Connection<SocketState>, state: SocketState | null): boolean {
		if (this.#pastLifetime(connection, state)) return false;
		const key = state?.key;
		if (!key) return true;
		const known = this.#checks.get(key.id);
		if (known && known.at > 0 && !this.#verdict(connection, key, known.role)) return false;
		if (!known || (!known.pending && this.host.now() - known.at >= KEY_CHECK_EVERY_MS))
			this.host.ctx.waitUntil(this.#liveRole(key.id).then((role) => void this.#verdict(connection, key, role)));
		return true;
	}

	/** Closes every socket opened with `keyId` now (the org does on revocation). */
	closeKey(keyId: string): void {
		this.#checks.set(keyId, { at: this.host.now(), role: null });
		for (const connection of this.hooks.connections(keyTag(keyId))) closeSocket(connection, CLOSE.revoked);
	}

	/** The socket check timer's firing: asks the org afresh about every open socket's key and closes what is no longer allowed. */
	async checkFired(timer: Timer): Promise<void> {
		const sockets = [...this.hooks.connections<SocketState>()];
		await Promise.all([...new Set(sockets.flatMap((c) => (c.state?.key ? [c.state.key.id] : [])))].map((id) => this.#liveRole(id, true)));
		for (const connection of sockets) await this.stillAllowed(connection);
		if (sockets.some((c) => c.state?.key)) this.hooks.advance(timer);
		else this.hooks.checkTimer(false);
	}

	#verdict(connection: Connection, key: SocketKey, role: KeyRole | null | undefined): boolean {
		if (role === undefined || role === key.role) return true;
		closeSocket(connection, role === null ? CLOSE.revoked : CLOSE.roleChanged);
		return false;
	}

	/**
	 * The key's live role (null: not live; undefined: the org could not be asked), asked of the org when the last
	 * answer is older than KEY_CHECK_EVERY_MS, or always if `fresh`. One question per key at a time.
	 */
	#liveRole(keyId: string, fresh = false): Promise<KeyRole | null | undefined> {
		const known = this.#checks.get(keyId);
		if (known?.pending) return known.pending;
		if (known && !fresh && this.host.now() - known.at < KEY_CHECK_EVERY_MS) return Promise.resolve(known.role);
		const pending = this.hooks.liveKeyRole(keyId).then(
			(role) => {
				this.#checks.set(keyId, { at: this.host.now(), role });
				return role;
			},
			(error) => {
				// The org did not answer: keep the last verdict until the next check; an outage never closes a socket.
				log("warn", "socket key check failed", {
					actorKind: this.host.actor.kind,
					actorId: this.host.actor.id,
					keyId,
					error: errorText(error),
				});
				this.#checks.set(keyId, { at: this.host.now(), role: known?.role });
				return known?.role;
			},
		);
		this.#checks.set(keyId, { at: known?.at ?? 0, role: known?.role, pending });
		return pending;
	}
}
