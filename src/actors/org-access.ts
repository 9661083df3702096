/**
 * The org's answers about access, read-only over its state: which live key a hash belongs to, the role of a key or
 * member, and the socket tickets it keeps (hashed, for 60 s). Changes to keys and members are org events, decided
 * in src/reducers/org.ts and appended by the org actor.
 */
import { MEMBER_KEY_PREFIX } from "../core/identity.ts";
import type { KeyRole, MemberRole } from "../events/org.ts";
import { keyIsLive, type OrgState } from "../reducers/org.ts";

const encoder = new TextEncoder();

/** A socket ticket as the org keeps it, under its SHA-256 (never the ticket itself). */
export interface SocketTicket {
	keyId: string;
	role: KeyRole;
	expiresAt: number;
}
const TICKET_PREFIX = "socket-ticket:";
/** Unused, unexpired tickets an org may hold at once (a ticket lives 60 s). */
const MAX_OPEN_TICKETS = 1000;

export interface AccessHost {
	storage: DurableObjectStorage;
	state(): OrgState;
	now(): number;
}

export class OrgAccess {
	constructor(readonly host: AccessHost) {}

	/** A member's role, or null for someone who is not a member. */
	memberRole(email: string): MemberRole | null {
		const key = email.toLowerCase();
		const { members } = this.host.state();
		return Object.hasOwn(members, key) ? (members[key]?.role ?? null) : null;
	}

	/** The org's members, by email. */
	members(): { email: string; role: MemberRole; since: number }[] {
		return Object.entries(this.host.state().members)
			.map(([email, m]) => ({ email, ...m }))
			.sort((a, b) => a.email.localeCompare(b.email));
	}

	/** The role of key `keyId` while it is live (not revoked, not expired), or of the member a `member:<email>` id names, else null. */
	liveKeyRole(keyId: string): KeyRole | null {
		if (keyId.startsWith(MEMBER_KEY_PREFIX)) return this.memberRole(keyId.slice(MEMBER_KEY_PREFIX.length));
		const { keys } = this.host.state();
		const key = Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
		return key && keyIsLive(key, this.host.now()) ? key.role : null;
	}

	/**
	 * The id and role of the live key (not revoked, not expired) with this SHA-256 (hex), or null. Every live key is
	 * compared, each in constant time, so the answer takes as long whichever key matches or none does.
	 */
	authenticate(hash: string): { keyId: string; role: KeyRole; expiresAt: number | null } | null {
		if (!/^[0-9a-f]{64}$/.test(hash)) return null;
		const given = encoder.encode(hash);
		const now = this.host.now();
		let match: { keyId: string; role: KeyRole; expiresAt: number | null } | null = null;
		for (const [id, key] of Object.entries(this.host.state().keys)) {
			if (!keyIsLive(key, now) || !key.hash) continue;
			if (crypto.subtle.timingSafeEqual(given, encoder.encode(key.hash))) match = { keyId: id, role: key.role, expiresAt: key.expiresAt };
		}
		return match;
	}

	/** Keeps a socket ticket's hash until it expires; false when the org already holds MAX_OPEN_TICKETS unused ones. */
	async storeSocketTicket(hash: string, ticket: SocketTicket): Promise<boolean> {
		const { storage } = this.host;
		const now = this.host.now();
		const open = await storage.list<SocketTicket>({ prefix: TICKET_PREFIX, limit: MAX_OPEN_TICKETS + 1 });
		const expired = [...open].filter(([, t]) => t.expiresAt <= now).map(([name]) => name);
		if (expired.length > 0) await storage.delete(expired);
		if (open.size - expired.length >= MAX_OPEN_TICKETS) return false;
		await storage.put(`${TICKET_PREFIX}${hash}`, ticket);
		return true;
	}

	/** Spends a ticket: the key it was issued to, if it is unexpired and the key still live with the same role, else null. */
	async redeemSocketTicket(hash: string): Promise<{ keyId: string; role: KeyRole } | null> {
		if (!/^[0-9a-f]{64}$/.test(hash)) return null;
		const { storage } = this.host;
		const name = `${TICKET_PREFIX}${hash}`;
		const ticket = await storage.get<SocketTicket>(name);
		if (!ticket) return null;
		await storage.delete(name);
		if (ticket.expiresAt <= this.host.now()) return null;
		const role = this.liveKeyRole(ticket.keyId);
		return role === ticket.role ? { keyId: ticket.keyId, role } : null;
	}
}
