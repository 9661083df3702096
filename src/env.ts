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
	/** Opens the admin routes (creating and listing orgs) only; a secret when deployed. */
	ADMIN_TOKEN: string;
	/** Requests per client IP per period, across /v1 (wrangler.jsonc `ratelimits`). */
	IP_RATE_LIMIT?: RateLimit;
	/** Requests per API key per period, across an org's routes. */
	KEY_RATE_LIMIT?: RateLimit;
	/** "off" turns both rate limits off (tests, benchmarks); anything else leaves them on. */
	RATE_LIMITS?: string;
	/** Events between snapshots (a decimal string). */
	SNAPSHOT_EVERY?: string;
	/** Interactions from ended sessions (and later cameras and chats), consumed by this Worker. */
	INTERACTIONS_QUEUE: Queue<unknown>;
	/** Long-term copies: interactions archived by the queue consumer. */
	ARCHIVE: R2Bucket;
	/** Milliseconds without events before a web session ends (a decimal string; default one hour). */
	SESSION_INACTIVITY_MS?: string;
}
