/** Finds the Durable Object of any actor: one namespace per kind, one object per `<org>:<id>`. */
import type { Env } from "../env.ts";
import type { ActorKind, ActorRef } from "../events/envelope.ts";
import type { EventSourcedActor } from "./actor.ts";
import { actorName } from "./identity.ts";

export type AnyActorStub = DurableObjectStub<EventSourcedActor<unknown>>;

export function namespaceOf(env: Env, kind: ActorKind): DurableObjectNamespace<EventSourcedActor<unknown>> {
	const namespaces = { org: env.ORG, session: env.SESSION, camera: env.CAMERA, chat: env.CHAT, registry: env.REGISTRY };
	return namespaces[kind] as unknown as DurableObjectNamespace<EventSourcedActor<unknown>>;
}

export function actorStub(env: Env, ref: ActorRef): AnyActorStub {
	return namespaceOf(env, ref.kind).getByName(actorName(ref.org, ref.id));
}
