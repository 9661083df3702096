/**
 * Finds the Durable Object of any actor: one namespace per kind, bound under the name its row in src/kinds.ts
 * gives, and one object per `<org>:<id>`. The Worker's side of the kinds table.
 */

import { actorName } from "../core/identity.ts";
import type { Env } from "../env.ts";
import { kindNamed } from "../kinds.ts";
import type { EventSourcedActor } from "./actor.ts";

export type AnyActorStub = DurableObjectStub<EventSourcedActor<unknown>>;

/** The namespace of a registered kind; a kind with no row, or whose binding is missing, is a deployment error. */
export function namespaceOf(env: Env, kind: string): DurableObjectNamespace<EventSourcedActor<unknown>> {
	const row = kindNamed(kind);
	if (!row) throw new Error(`no actor kind ${kind} in src/kinds.ts`);
	const namespace = (env as unknown as Record<string, unknown>)[row.binding];
	if (!namespace) throw new Error(`actor kind ${kind}: no Durable Object binding ${row.binding}`);
	return namespace as DurableObjectNamespace<EventSourcedActor<unknown>>;
}

export function actorStub(env: Env, ref: { kind: string; org: string; id: string }): AnyActorStub {
	return namespaceOf(env, ref.kind).getByName(actorName(ref.org, ref.id));
}
