/** AI_GATEWAY_ID (docs/deploy.md): Workers AI calls for chats and for frame descriptions go through that gateway. */
import { describe, expect, it } from "vitest";
import { streamAnswer } from "../../src/ai/answer.ts";
import { chooseModel } from "../../src/ai/provider.ts";
import { analyseFrame } from "../../src/vision/analyser.ts";
import { visionConfig } from "../../src/vision/config.ts";
import { patternFrame } from "../../src/vision/test-pattern.ts";
import type { VisionBinding } from "../../src/vision/workers-ai.ts";

/** A Workers AI binding that records each call's options and streams one word. */
function recordingAi() {
	const options: unknown[] = [];
	const binding = {
		run: async (_model: string, inputs: Record<string, unknown>, callOptions?: unknown) => {
			options.push(callOptions);
			if (!inputs.stream) return { description: "An empty shop.\nPeople: 0" };
			const body = `data: ${JSON.stringify({ response: "ok" })}\n\ndata: [DONE]\n\n`;
			return new Response(body).body;
		},
	};
	return { binding, options };
}

describe("AI_GATEWAY_ID", () => {
	it("routes a chat answer through the gateway", async () => {
		const ai = recordingAi();
		const { model } = chooseModel({ AI: ai.binding as unknown as Ai, AI_PROVIDER: "workers-ai", AI_GATEWAY_ID: "roost-gw" });
		const outcome = await streamAnswer(
			{ model, instructions: "Be brief.", messages: [{ role: "user", content: "Hi" }], tools: {}, signal: new AbortController().signal },
			{ token: () => {}, toolCalled: () => {}, toolResult: () => {} },
		);
		expect(outcome).toMatchObject({ kind: "done" });
		expect(ai.options[0]).toMatchObject({ gateway: { id: "roost-gw" } });
	});

	it("routes a frame description through the gateway, and without one calls Workers AI directly", async () => {
		const ai = recordingAi();
		const binding = ai.binding as unknown as VisionBinding;
		const frame = { bytes: patternFrame("png"), format: "png" as const };
		const through = visionConfig({ VISION_PROVIDER: "workers-ai", AI: binding, AI_GATEWAY_ID: "roost-gw" });
		expect(through.gateway).toBe("roost-gw");
		await analyseFrame(frame, null, through, binding);
		expect(ai.options[0]).toEqual({ gateway: { id: "roost-gw" } });
		await analyseFrame(frame, null, visionConfig({ VISION_PROVIDER: "workers-ai", AI: binding, AI_GATEWAY_ID: "" }), binding);
		expect(ai.options[1]).toBeUndefined();
	});
});
