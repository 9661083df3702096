/**
 * Which language model answers: Workers AI through its binding when deployed, an OpenAI-compatible endpoint
 * (a local Ollama, say) when one is configured, or else the offline responder. Chats use it, and so can any
 * other feature that needs a model (check `kind`: the offline responder writes chat answers, not objects).
 *
 * `AI_PROVIDER` picks: `auto` (default), `workers-ai`, `openai-compatible` or `offline`. `auto` takes the
 * OpenAI-compatible endpoint if `OPENAI_BASE_URL` is set, else Workers AI if the `AI` binding is there, else the
 * offline responder. The binding is what tells deployed from local: wrangler.jsonc leaves it out (with it, wrangler
 * dev and the tests need a Cloudflare login), and a deployment that wants Workers AI adds it (docs/chat.md).
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import { log } from "../core/log.ts";
import type { Env } from "../env.ts";
import type { ProviderKind } from "../events/chat.ts";
import { OFFLINE_MODEL_ID, OfflineResponder } from "./offline.ts";

export type { ProviderKind } from "../events/chat.ts";

export const DEFAULT_WORKERS_AI_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast";
export const DEFAULT_OPENAI_MODEL = "llama3.2";
const DEFAULT_OFFLINE_TOKEN_MS = 15;

export interface ModelChoice {
	kind: ProviderKind;
	model: LanguageModel;
	/** The model's id as the provider knows it. */
	modelId: string;
	/** For people: which provider and model, e.g. `workers-ai @cf/meta/llama-3.3-70b-instruct-fp8-fast`. */
	label: string;
}

export type ProviderEnv = Pick<
	Env,
	| "AI"
	| "AI_PROVIDER"
	| "AI_GATEWAY_ID"
	| "WORKERS_AI_MODEL"
	| "OPENAI_BASE_URL"
	| "OPENAI_API_KEY"
	| "OPENAI_MODEL"
	| "AI_OFFLINE_TOKEN_MS"
>;

type TestModel = LanguageModel | (() => LanguageModel);
let testModel: { model: TestModel; label: string } | undefined;

/**
 * Tests and the benchmark only: every later choice in this isolate returns this model (kind `test`), or a fresh
 * one from the factory each time; null restores the configured provider. Durable Objects of the same Worker share
 * the isolate locally, so a test can hand a chat actor a mock model this way.
 */
export function setTestModel(model: TestModel | null, label = "mock"): void {
	testModel = model ? { model, label } : undefined;
}

export function chooseModel(env: ProviderEnv): ModelChoice {
	if (testModel) {
		const model = typeof testModel.model === "function" ? testModel.model() : testModel.model;
		const modelId = typeof model === "string" ? model : model.modelId;
		return { kind: "test", model, modelId, label: `test ${testModel.label}` };
	}
	const wanted = (env.AI_PROVIDER ?? "auto").trim().toLowerCase() || "auto";
	switch (wanted) {
		case "workers-ai":
			if (env.AI) return workersAi(env, env.AI);
			log("warn", "AI_PROVIDER=workers-ai but the AI binding is missing: answering with the offline responder");
			return offline(env);
		case "openai-compatible":
			if (env.OPENAI_BASE_URL) return openAiCompatible(env, env.OPENAI_BASE_URL);
			log("warn", "AI_PROVIDER=openai-compatible but OPENAI_BASE_URL is not set: answering with the offline responder");
			return offline(env);
		case "offline":
			return offline(env);
		default:
			if (wanted !== "auto") log("warn", "AI_PROVIDER is not a provider; choosing automatically", { provider: wanted });
			if (env.OPENAI_BASE_URL) return openAiCompatible(env, env.OPENAI_BASE_URL);
			if (env.AI) return workersAi(env, env.AI);
			return offline(env);
	}
}

function workersAi(env: ProviderEnv, binding: Ai): ModelChoice {
	const modelId = env.WORKERS_AI_MODEL?.trim() || DEFAULT_WORKERS_AI_MODEL;
	const gateway = env.AI_GATEWAY_ID?.trim();
	const workersai = createWorkersAI({ binding, ...(gateway ? { gateway: { id: gateway } } : {}) });
	return { kind: "workers-ai", model: workersai(modelId as Parameters<typeof workersai>[0]), modelId, label: `workers-ai ${modelId}` };
}

function openAiCompatible(env: ProviderEnv, baseURL: string): ModelChoice {
	const modelId = env.OPENAI_MODEL?.trim() || DEFAULT_OPENAI_MODEL;
	const provider = createOpenAICompatible({
		name: "openai-compatible",
		baseURL,
		apiKey: env.OPENAI_API_KEY || undefined,
		includeUsage: true,
	});
	return { kind: "openai-compatible", model: provider.chatModel(modelId), modelId, label: `openai-compatible ${modelId} at ${baseURL}` };
}

function offline(env: ProviderEnv): ModelChoice {
	const configured = Number(env.AI_OFFLINE_TOKEN_MS);
	const delay =
		env.AI_OFFLINE_TOKEN_MS !== undefined && Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_OFFLINE_TOKEN_MS;
	return {
		kind: "offline",
		model: new OfflineResponder(delay),
		modelId: OFFLINE_MODEL_ID,
		label: "offline responder (no model configured)",
	};
}
