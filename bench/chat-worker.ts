/**
 * The chat benchmark's Worker (run by bench/chat.mjs): the real app and actors, with a mock model installed through
 * `setTestModel` (the chat actors share this isolate locally). `/bench/chat/model` installs a mock that streams
 * `tokens` deltas, either in one burst (as fast as the stream can go) or one per turn of the event loop (as deltas
 * arrive over a network); `/bench/chat/direct` consumes the same mock through streamText directly, with no actor,
 * as the baseline the added latency is measured against.
 */
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { streamText } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { setTestModel } from "../src/ai/provider.ts";
import type { Env } from "../src/env.ts";
import app from "../src/index.ts";

export { CameraActor, ChatActor, OrgActor, RegistryActor, SessionActor } from "../src/index.ts";

type Mode = "burst" | "paced";

const usage = {
	inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
	outputTokens: { total: 0, text: 0, reasoning: 0 },
};

/** Delta i of an answer: short words like a model's tokens. */
export const delta = (i: number) => `t${i % 1000} `;

function parts(tokens: number): LanguageModelV4StreamPart[] {
	const out: LanguageModelV4StreamPart[] = [
		{ type: "stream-start", warnings: [] },
		{ type: "text-start", id: "t" },
	];
	for (let i = 0; i < tokens; i++) out.push({ type: "text-delta", id: "t", delta: delta(i) });
	out.push(
		{ type: "text-end", id: "t" },
		{
			type: "finish",
			usage: { ...usage, outputTokens: { total: tokens, text: tokens, reasoning: 0 } },
			finishReason: { unified: "stop", raw: "stop" },
		},
	);
	return out;
}

/** A mock that streams `tokens` deltas: all at once (`burst`), or each after a zero-delay timer (`paced`). */
export function mockModel(tokens: number, mode: Mode): MockLanguageModelV4 {
	return new MockLanguageModelV4({
		doStream: async () => {
			const chunks = parts(tokens);
			if (mode === "burst") {
				// Everything is queued before the first read: nothing on the model's side slows the consumer.
				const stream = new ReadableStream<LanguageModelV4StreamPart>({
					start(controller) {
						for (const part of chunks) controller.enqueue(part);
						controller.close();
					},
				});
				return { stream };
			}
			let next = 0;
			const stream = new ReadableStream<LanguageModelV4StreamPart>({
				async pull(controller) {
					const part = chunks[next++];
					if (!part) return controller.close();
					if (part.type === "text-delta") await new Promise((resolve) => setTimeout(resolve, 0));
					controller.enqueue(part);
				},
			});
			return { stream };
		},
	});
}

/** Consumes the mock through streamText with nothing around it; answers the text length so nothing is optimised away. */
async function direct(tokens: number, mode: Mode): Promise<{ tokens: number; chars: number }> {
	const result = streamText({ model: mockModel(tokens, mode), prompt: "bench", maxRetries: 0 });
	let chars = 0;
	let deltas = 0;
	for await (const part of result.fullStream) {
		if (part.type === "text-delta") {
			chars += part.text.length;
			deltas++;
		}
	}
	return { tokens: deltas, chars };
}

function positive(value: string | null, fallback: number): number {
	const n = Number(value ?? fallback);
	if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${value}`);
	return n;
}

export default {
	...app,
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		if (!url.pathname.startsWith("/bench/chat/")) return app.fetch(request, env, ctx);
		const tokens = positive(url.searchParams.get("tokens"), 1000);
		const mode: Mode = url.searchParams.get("mode") === "paced" ? "paced" : "burst";
		try {
			if (url.pathname === "/bench/chat/model") {
				setTestModel(() => mockModel(tokens, mode), `bench ${mode} ${tokens}`);
				return Response.json({ installed: true });
			}
			if (url.pathname === "/bench/chat/direct") return Response.json(await direct(tokens, mode));
		} catch (error) {
			return Response.json({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, { status: 500 });
		}
		return new Response("unknown bench case", { status: 404 });
	},
} satisfies ExportedHandler<Env>;
