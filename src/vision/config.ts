/**
 * Which analyser a camera uses, from configuration: `VISION_PROVIDER` = `offline` (the default in
 * wrangler.jsonc: local runs and tests never need the network), `workers-ai`, or `auto` (Workers AI
 * when the `AI` binding exists). `VISION_MODEL` names the vision model.
 */
import type { ANALYSER_NAMES } from "../events/camera.ts";
import { DEFAULT_MOTION, type MotionOptions } from "./measure.ts";
import { DEFAULT_VISION_MODEL, type VisionBinding } from "./workers-ai.ts";

export type AnalyserName = (typeof ANALYSER_NAMES)[number];

export interface VisionConfig {
	analyser: AnalyserName;
	model: string;
	motion: MotionOptions;
	/** An AI Gateway id the vision model is called through (AI_GATEWAY_ID), if any. */
	gateway?: string;
	/** Set when the configuration asked for something that cannot be had, and what was chosen instead. */
	warning?: string;
}

export interface VisionEnv {
	VISION_PROVIDER?: string;
	VISION_MODEL?: string;
	AI_GATEWAY_ID?: string;
	AI?: unknown;
}

export function visionConfig(env: VisionEnv): VisionConfig {
	const model = env.VISION_MODEL?.trim() || DEFAULT_VISION_MODEL;
	const requested = (env.VISION_PROVIDER ?? "offline").trim().toLowerCase();
	const hasAi = isVisionBinding(env.AI);
	const gateway = env.AI_GATEWAY_ID?.trim();
	const base = { model, motion: DEFAULT_MOTION, ...(gateway ? { gateway } : {}) };
	switch (requested) {
		case "offline":
		case "":
			return { ...base, analyser: "offline" };
		case "auto":
			return { ...base, analyser: hasAi ? "workers-ai" : "offline" };
		case "workers-ai":
			return hasAi
				? { ...base, analyser: "workers-ai" }
				: { ...base, analyser: "offline", warning: "VISION_PROVIDER is workers-ai but there is no AI binding; using the offline analyser" };
		default:
			return {
				...base,
				analyser: "offline",
				warning: `VISION_PROVIDER "${requested}" is not offline, workers-ai or auto; using the offline analyser`,
			};
	}
}

export function isVisionBinding(value: unknown): value is VisionBinding {
	return typeof value === "object" && value !== null && typeof (value as { run?: unknown }).run === "function";
}
