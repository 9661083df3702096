/**
 * wrangler.jsonc's deployed environments (docs/deploy.md), read by wrangler's own config reader: the admin token is
 * never committed for them, the model is on, and every resource name is the environment's own.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";

/** src/http/auth.ts DEV_ADMIN_TOKEN (that module imports cloudflare: modules, which Node cannot load). */
const DEV_ADMIN_TOKEN = "roost-dev-admin";

const config = join(import.meta.dirname, "../../wrangler.jsonc");
const DEPLOYED = ["staging", "production"] as const;
/** The parts of wrangler's resolved config these tests read (its own types come from a package tsc does not see here). */
interface Resolved {
	vars: Record<string, unknown>;
	ai?: { binding: string };
	observability?: { head_sampling_rate?: number };
	containers?: { class_name: string; max_instances?: number }[];
	durable_objects: { bindings: { class_name: string }[] };
	r2_buckets: { bucket_name?: string }[];
	queues: { producers?: { queue: string }[]; consumers?: { queue: string; dead_letter_queue?: string; max_retries?: number }[] };
	analytics_engine_datasets: { binding: string; dataset?: string }[];
	ratelimits: { namespace_id: string }[];
}
const read = (env?: string): Resolved =>
	unstable_readConfig({ config, ...(env ? { env } : {}) }, { hideWarnings: true }) as unknown as Resolved;

/** Every bound resource's name in a resolved environment, by kind. */
function resourceNames(resolved: Resolved): string[] {
	return [
		...resolved.r2_buckets.map((bucket) => `r2:${bucket.bucket_name}`),
		...(resolved.queues.producers ?? []).map((queue) => `queue:${queue.queue}`),
		...(resolved.queues.consumers ?? []).flatMap((queue) => (queue.dead_letter_queue ? [`dlq:${queue.dead_letter_queue}`] : [])),
		...resolved.analytics_engine_datasets.map((dataset) => `dataset:${dataset.dataset}`),
		...resolved.ratelimits.map((limit) => `ratelimit:${limit.namespace_id}`),
	];
}

describe("deployed environments", () => {
	it("the production config commits no admin token, anywhere in the file", () => {
		const { rawConfig } = experimental_readRawConfig({ config });
		const production = rawConfig.env?.production;
		expect(production).toBeDefined();
		expect(production?.vars ?? {}).not.toHaveProperty("ADMIN_TOKEN");
		expect(JSON.stringify(production)).not.toContain(DEV_ADMIN_TOKEN);
		// Resolved as wrangler deploys it: vars are not inherited, so the local token does not leak in either.
		expect(read("production").vars).not.toHaveProperty("ADMIN_TOKEN");
		expect(read("staging").vars).not.toHaveProperty("ADMIN_TOKEN");
	});

	it.each(DEPLOYED)("%s: not development, Workers AI on, the analyzer container on, queues with dead letters, sampled logs", (name) => {
		const resolved = read(name);
		expect(resolved.vars).toMatchObject({ ROOST_ENV: name, AI_PROVIDER: "workers-ai", VISION_PROVIDER: "workers-ai" });
		expect(resolved.vars).toHaveProperty("AI_GATEWAY_ID");
		expect(resolved.ai).toEqual({ binding: "AI" });
		expect(resolved.vars.PATTERN_ANALYZER).toBe("container");
		expect(resolved.containers).toEqual([expect.objectContaining({ class_name: "PatternAnalyzerContainer", max_instances: 2 })]);
		for (const consumer of resolved.queues.consumers ?? []) {
			expect(consumer).toMatchObject({ max_retries: expect.any(Number), max_batch_size: expect.any(Number) });
			// A dead-letter queue's own consumer (it records what lands there in the org) has none of its own.
			if (consumer.queue.endsWith("-dlq")) continue;
			expect(consumer.dead_letter_queue).toMatch(new RegExp(`^roost-${name}-.+-dlq$`));
		}
		// Every dead-letter queue has a consumer (docs/operations.md).
		const consumed = (resolved.queues.consumers ?? []).map((consumer) => consumer.queue);
		for (const consumer of resolved.queues.consumers ?? [])
			if (consumer.dead_letter_queue) expect(consumed).toContain(consumer.dead_letter_queue);
		expect(resolved.analytics_engine_datasets).toEqual([{ binding: "METRICS", dataset: `roost_${name}_metrics` }]);
		expect(resolved.observability?.head_sampling_rate).toBeGreaterThan(0);
		expect(resolved.durable_objects.bindings.map((b) => b.class_name)).toEqual(read().durable_objects.bindings.map((b) => b.class_name));
	});

	it("each environment's resources are its own", () => {
		const [local, staging, production] = [read(), read("staging"), read("production")].map((resolved) => new Set(resourceNames(resolved)));
		for (const [a, b] of [
			[local, staging],
			[local, production],
			[staging, production],
		] as const) {
			expect([...(a ?? [])].filter((resource) => b?.has(resource))).toEqual([]);
		}
	});

	it("local development keeps no AI binding, no Analytics Engine and no dead-letter queues (no login needed)", () => {
		const local = read();
		expect(local.ai).toBeUndefined();
		expect(local.analytics_engine_datasets).toEqual([]);
		expect(local.vars).toMatchObject({ ROOST_ENV: "development", ADMIN_TOKEN: DEV_ADMIN_TOKEN });
		for (const consumer of local.queues.consumers ?? []) expect(consumer.dead_letter_queue).toBeUndefined();
	});
});
