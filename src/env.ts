import type { CameraActor } from "./actors/camera.ts";
import type { ChatActor } from "./actors/chat.ts";
import type { OrgActor } from "./actors/org.ts";
import type { RegistryActor } from "./actors/registry.ts";
import type { SessionActor } from "./actors/session.ts";

/** Bindings and vars declared in wrangler.jsonc. */
export interface Env {
	ORG: DurableObjectNamespace<OrgActor>;
	SESSION: DurableObjectNamespace<SessionActor>;
	CAMERA: DurableObjectNamespace<CameraActor>;
	CHAT: DurableObjectNamespace<ChatActor>;
	REGISTRY: DurableObjectNamespace<RegistryActor>;
	ADMIN_TOKEN: string;
	/** Events between snapshots (a decimal string). */
	SNAPSHOT_EVERY?: string;
	/** Interactions from ended sessions (and later cameras and chats), consumed by this Worker. */
	INTERACTIONS_QUEUE: Queue<unknown>;
	/** Long-term copies: interactions archived by the queue consumer. */
	ARCHIVE: R2Bucket;
	/** Milliseconds without events before a web session ends (a decimal string; default one hour). */
	SESSION_INACTIVITY_MS?: string;
}
