/** The registry: the one actor that lists the deployment's orgs and mints their ids, for the admin API. */
import { uuidv7 } from "uuidv7";
import { actorName } from "../core/identity.ts";
import type { Outcome } from "../core/outcome.ts";
import type { Env } from "../env.ts";
import type { EventMeta } from "../events/envelope.ts";
import { isRefusal } from "../reducers/definition.ts";
import { decideRegistry, type RegistryProposal, type RegistryState, registryDefinition } from "../reducers/registry.ts";
import { EventSourcedActor } from "./actor.ts";

/** The registry's Durable Object name: there is one per deployment. */
export const REGISTRY_NAME = actorName("roost", "registry");

export interface RegisteredOrg {
	id: string;
	name: string;
	registeredAt: number;
}

export class RegistryActor extends EventSourcedActor<RegistryState, RegistryProposal> {
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env, registryDefinition);
	}

	/** Mints an id for a new org and records it; a retry with the same client action id returns the first org. */
	register(input: { name: string; clientActionId?: string }, meta: EventMeta = {}): Outcome<RegisteredOrg> {
		const { name, clientActionId } = input;
		return this.execute({ clientActionId, meta: { ...meta, clientActionId } }, (state, version) => {
			const context = { now: this.now(), version };
			// A minted id that is already taken is refused by the decider; mint again.
			for (;;) {
				const org = newOrgId(name);
				const events = decideRegistry({ kind: "register", org, name, eventId: uuidv7() }, state, context);
				if (!isRefusal(events)) return { events, result: () => ({ id: org, name, registeredAt: context.now }) };
			}
		});
	}

	/** Whether the org was ever registered: the check that keeps forged keys from waking (and creating) org actors. */
	hasOrg(org: string): boolean {
		return Object.hasOwn(this.state.orgs, org);
	}

	/** Every org, oldest first. */
	list(): RegisteredOrg[] {
		return Object.entries(this.state.orgs)
			.map(([id, org]) => ({ id, name: org.name, registeredAt: org.registeredAt }))
			.sort((a, b) => a.registeredAt - b.registeredAt || a.id.localeCompare(b.id));
	}
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A readable, unguessable org id: a slug of the name and 12 random characters, e.g. `acme-shop-k3v9q0x2m1ab`. */
export function newOrgId(name: string): string {
	const slug =
		name
			.normalize("NFKD")
			.toLowerCase()
			.replace(/[^a-z0-9]+/g, "-")
			.replace(/^-+|-+$/g, "")
			.slice(0, 32)
			.replace(/-+$/, "") || "org";
	const bytes = crypto.getRandomValues(new Uint8Array(12));
	const suffix = Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
	return `${slug}-${suffix}`;
}
