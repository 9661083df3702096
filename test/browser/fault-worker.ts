/**
 * A test Worker for the browser tests that need real parked work: Roost's own entry, plus one test-only route,
 * `POST /__test/fault` (body: a FaultArming), that arms a fault point (src/actors/faults.ts) in the isolate the
 * Worker's Durable Objects run in, so an actor's outbox can fail as an outage would. Never deployed: only
 * startLocalRoost({ entrypoint }) runs it.
 */
import "../../src/index.ts";
import { armFault, type FaultArming } from "../../src/actors/faults.ts";
import type { Env } from "../../src/env.ts";
import roost from "../../src/index.ts";

export * from "../../src/index.ts";

export default {
	...roost,
	async fetch(request, env, ctx) {
		if (new URL(request.url).pathname !== "/__test/fault") return roost.fetch(request, env, ctx);
		if (request.method !== "POST") return new Response(null, { status: 405 });
		armFault((await request.json()) as FaultArming);
		return Response.json({ armed: true });
	},
} satisfies ExportedHandler<Env>;
