import type { CameraActor } from "./actors/camera.ts";
import type { ChatActor } from "./actors/chat.ts";
import type { OrgActor } from "./actors/org.ts";
import type { PatternAnalyzerContainer } from "./actors/pattern-analyzer.ts";
import type { RegistryActor } from "./actors/registry.ts";
import type { SessionActor } from "./actors/session.ts";
import type { BindingOf, BuiltinKind } from "./kinds.ts";

/** The actor class of each kind in src/kinds.ts: a kind added there and missing here does not compile. */
interface ActorClasses {
	org: OrgActor;
	session: SessionActor;
	camera: CameraActor;
	chat: ChatActor;
	registry: RegistryActor;
}

/** Each kind's Durable Object namespace under its binding name (`ORG`, `SESSION`, ...). */
type ActorNamespaces = { [K in BuiltinKind as BindingOf<K>]: DurableObjectNamespace<ActorClasses[K]> };

/** Bindings and vars declared in wrangler.jsonc. */
export interface Env extends ActorNamespaces {
	/** The deployed git commit (`wrangler deploy --var ROOST_VERSION:$(git rev-parse HEAD)`), reported by GET /healthz. */
	ROOST_VERSION?: string;
	/** Opens the admin routes (creating and listing orgs) only; a secret when deployed (unset: the admin routes are 503). */
	ADMIN_TOKEN?: string;
	/** "development" only where wrangler.jsonc's local vars apply: the one place the public dev ADMIN_TOKEN is accepted. */
	ROOST_ENV?: string;
	/** Cloudflare Access: the team domain (`https://<team>.cloudflareaccess.com`) and the application's AUD tag. Both set turns member sign-in on. */
	ACCESS_TEAM_DOMAIN?: string;
	ACCESS_AUD?: string;
	/** A JWKS (JSON) to verify Access tokens with instead of fetching the team's: for tests and air-gapped setups. */
	ACCESS_JWKS?: string;
	/** Requests per client IP per period, across /v1 (wrangler.jsonc `ratelimits`). */
	IP_RATE_LIMIT?: RateLimit;
	/** Requests per API key per period, across an org's routes. */
	KEY_RATE_LIMIT?: RateLimit;
	/** "off" turns both rate limits off (tests, benchmarks); anything else leaves them on. */
	RATE_LIMITS?: string;
	/** Events between snapshots (a decimal string). */
	SNAPSHOT_EVERY?: string;
	/** Client action ids each actor remembers, its newest (src/actors/client-actions.ts; default 10,000). */
	CLIENT_ACTIONS_KEPT?: string;
	/** Milliseconds after its last import before a sandbox clears itself (src/actors/kernel/sandbox-expiry.ts; default 7 days). */
	SANDBOX_EXPIRES_AFTER_MS?: string;
	/** Events folded per transaction while a projection rebuilds (src/actors/kernel/projections.ts; default 5,000). */
	PROJECTION_CHUNK?: string;
	/** Failures after which an outbox message or a timer is parked (src/actors/kernel/parking.ts; default 50). */
	PARK_AFTER_ATTEMPTS?: string;
	/** Interactions from ended sessions (and later cameras and chats), consumed by this Worker. */
	INTERACTIONS_QUEUE: Queue<unknown>;
	/** What web sessions tell their org (visit starts), batched per org by this Worker's consumer (src/intake.ts). */
	ORG_INTAKE_QUEUE: Queue<unknown>;
	/** Long-term copies: interactions archived by the queue consumer. */
	ARCHIVE: R2Bucket;
	/** Where pattern analysis runs: "worker" (default, in the org actor) or "container" (PatternAnalyzerContainer). */
	PATTERN_ANALYZER?: string;
	/** The pattern analyzer container (absent where containers are not configured). */
	PATTERN_ANALYZER_CONTAINER?: DurableObjectNamespace<PatternAnalyzerContainer>;
	/** Rollup periods that get a written report, comma-separated (default: all five). */
	ROLLUP_REPORTS?: string;
	/** Milliseconds without events before a web session ends (a decimal string; default one hour). */
	SESSION_INACTIVITY_MS?: string;
	/** Derives every webhook endpoint's signing secret (docs/webhooks.md); a secret when deployed, unset: webhooks cannot be created. */
	WEBHOOK_SECRET_KEY?: string;
	/** "1" (with ROOST_ENV "development" only): webhooks may use http and loopback/private addresses, for tests and `npm start`. */
	WEBHOOKS_ALLOW_LOCAL?: string;
	/** Attempts before a webhook delivery is parked and its endpoint disabled (default 12). */
	WEBHOOK_MAX_ATTEMPTS?: string;
	/** Milliseconds a webhook receiver has to answer one attempt (default 10000). */
	WEBHOOK_TIMEOUT_MS?: string;
	/** What one web visit takes: events and characters of event data (decimal strings; defaults in src/reducers/session.ts). */
	SESSION_MAX_VISIT_EVENTS?: string;
	SESSION_MAX_VISIT_DATA_CHARS?: string;
	/** Camera frames as uploaded (`frames/<org>/<camera>/...`, docs/cameras.md). */
	FRAMES: R2Bucket;
	/** Interactions from camera batches, consumed by this Worker like INTERACTIONS_QUEUE. */
	CCTV_QUEUE: Queue<unknown>;
	/** Milliseconds without frames before a camera is marked offline (default 300000). */
	CAMERA_OFFLINE_AFTER_MS?: string;
	/** Milliseconds a camera batch stays open before it is handed to the org (default 300000). */
	CAMERA_BATCH_MS?: string;
	/** Motion stops at a still frame at least this long after the last moving one (default 10000). */
	CAMERA_MOTION_QUIET_MS?: string;
	/** Frame analyser: offline (default), workers-ai, or auto (Workers AI when the AI binding exists). */
	VISION_PROVIDER?: string;
	/** Workers AI vision model; default @cf/llava-hf/llava-1.5-7b-hf. */
	VISION_MODEL?: string;
	/** Workers AI (wrangler.jsonc `ai`); usable only when deployed: local dev cannot reach it (docs/chat.md). */
	AI?: Ai;
	/** An AI Gateway id: Workers AI calls (chat and vision) go through it when set (docs/deploy.md). */
	AI_GATEWAY_ID?: string;
	/** Workers Analytics Engine, for metrics (staging and production only; absent locally). */
	METRICS?: AnalyticsEngineDataset;
	/** Which model answers chats: auto (default), workers-ai, openai-compatible or offline (src/ai/provider.ts). */
	AI_PROVIDER?: string;
	/** Workers AI model id; default @cf/meta/llama-3.3-70b-instruct-fp8-fast. */
	WORKERS_AI_MODEL?: string;
	/** An OpenAI-compatible endpoint (e.g. a local Ollama at http://localhost:11434/v1); auto picks it when set. */
	OPENAI_BASE_URL?: string;
	OPENAI_API_KEY?: string;
	OPENAI_MODEL?: string;
	/** Most tokens one answer may produce (a decimal string; default 1024). */
	CHAT_MAX_OUTPUT_TOKENS?: string;
	/** Messages the model sees verbatim; older ones reach it as a running summary (default 20). */
	CHAT_HISTORY_MESSAGES?: string;
	/** Least milliseconds between two llm.token events while deltas keep coming (default 50; 0: every turn). */
	CHAT_TOKEN_INTERVAL_MS?: string;
	/** Milliseconds between the offline responder's tokens (default 15; 0 streams as fast as it can). */
	AI_OFFLINE_TOKEN_MS?: string;
}
