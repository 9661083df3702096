/** Worker entry: the HTTP API, and the actor classes wrangler binds. */
import { createApp } from "./app.ts";
import { consumeDeadLetters, isDeadLetterQueue } from "./dead-letters.ts";
import type { Env } from "./env.ts";
import { consumeIntake, isIntakeQueue } from "./intake.ts";
import { consumeInteractions } from "./queue.ts";

export { CameraActor } from "./actors/camera.ts";
export { ChatActor } from "./actors/chat.ts";
export { OrgActor } from "./actors/org.ts";
export { PatternAnalyzerContainer } from "./actors/pattern-analyzer.ts";
export { RegistryActor } from "./actors/registry.ts";
export { SessionActor } from "./actors/session.ts";

// Built on the first request, not at import: routes come from src/kinds.ts, which a test Worker extends first.
let app: ReturnType<typeof createApp> | undefined;

export default {
	fetch: (request, env, ctx) => {
		app ??= createApp();
		return app.fetch(request, env, ctx);
	},
	// The dead-letter queues (staging, production) record what lands there in the org: docs/operations.md. The org
	// intake hands each org a batch's visit starts in one RPC (src/intake.ts); the rest archive interactions.
	queue: (batch, env) =>
		isDeadLetterQueue(batch.queue)
			? consumeDeadLetters(batch, env)
			: isIntakeQueue(batch.queue)
				? consumeIntake(batch, env)
				: consumeInteractions(batch, env),
} satisfies ExportedHandler<Env>;
