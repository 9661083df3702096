/**
 * A sandbox's end: SANDBOX_EXPIRES_AFTER_MS (7 days) after its last import, its own alarm clears it the way an
 * erasure clears an actor (every row and the alarm; clearActorStorage), so it then reads as an id never written.
 * A sandbox runs nothing else on its alarm (it is inert), so this is the only work it is ever armed for.
 */
import { log } from "../../core/log.ts";
import { positiveInt } from "../../core/settings.ts";
import type { KernelHost } from "./host.ts";

/** How long a sandbox lives after its last import; env SANDBOX_EXPIRES_AFTER_MS overrides it. */
export const SANDBOX_EXPIRES_AFTER_MS = 7 * 24 * 3_600_000;

export class SandboxExpiry<S> {
	constructor(
		private readonly host: KernelHost<S>,
		/** Clears the actor's storage and starts it again empty (src/actors/kernel/erase.ts). */
		private readonly clear: () => Promise<number>,
	) {}

	/** When this sandbox expires, or null for an ordinary actor. */
	expiresAt(): number | null {
		const { meta, env } = this.host;
		if (!meta.isSandbox) return null;
		// A sandbox marked before its writes were timed counts from now: from its first wake since.
		if (meta.sandboxWrittenAt === null) meta.sandboxWritten(this.host.now());
		return (meta.sandboxWrittenAt ?? this.host.now()) + (positiveInt(env.SANDBOX_EXPIRES_AFTER_MS) ?? SANDBOX_EXPIRES_AFTER_MS);
	}

	/**
	 * Makes sure the alarm fires by the expiry. An alarm already set earlier is left alone (the expiry only moves
	 * later, with each import): it fires, finds the sandbox not yet due, and arms for when it is.
	 */
	async arm(): Promise<void> {
		const at = this.expiresAt();
		if (at === null) return;
		const armed = await this.host.ctx.storage.getAlarm();
		if (armed === null || armed > at) await this.host.ctx.storage.setAlarm(at);
	}

	/** On the sandbox's alarm: clears it once it is due, else arms for when it is. */
	async fire(): Promise<void> {
		const at = this.expiresAt();
		if (at === null) return;
		if (this.host.now() < at) {
			await this.host.ctx.storage.setAlarm(at);
			return;
		}
		const { org, kind, id } = this.host.actor;
		const version = this.host.head.version;
		const bytesLeft = await this.clear();
		log("info", "sandbox expired", { org, actorKind: kind, actorId: id, version, expiredAt: at, bytesLeft });
	}
}
