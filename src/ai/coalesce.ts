/**
 * Merges text deltas that a model's stream has already delivered into one delta, before streamText sees them.
 * streamText's pipeline costs a few tens of microseconds per part, more than a fast model takes to produce one; a
 * burst of queued deltas therefore goes through it as one part (at most `maxDeltas` deltas), while a delta that
 * arrives on its own (a model streaming over the network) passes at once, unchanged. Order is kept: a part of any
 * other kind ends the merge and follows it.
 */
import type { LanguageModelV4Middleware, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { type LanguageModel, wrapLanguageModel } from "ai";

type Part = LanguageModelV4StreamPart;
type Delta = Extract<Part, { type: "text-delta" }>;

const TURN_ENDED = Symbol("turn ended");

export function coalesceDeltas(source: ReadableStream<Part>, maxDeltas = 64): ReadableStream<Part> {
	const reader = source.getReader();
	let next: Promise<ReadableStreamReadResult<Part>> | undefined;
	let carried: Part | undefined;
	const read = () => {
		if (!next) {
			next = reader.read();
			// Awaited by a later pull when a merge ends first; marked handled so a failure in between is not "unhandled".
			next.catch(() => {});
		}
		return next;
	};
	return new ReadableStream<Part>({
		async pull(controller) {
			if (carried) {
				controller.enqueue(carried);
				carried = undefined;
				return;
			}
			let merged: Delta | undefined;
			let count = 0;
			let turn: Promise<typeof TURN_ENDED> | undefined;
			for (;;) {
				const result = turn ? await Promise.race([read(), turn]) : await read();
				if (result === TURN_ENDED) {
					// Nothing more came in this turn of the event loop: the pending read carries over to the next pull.
					if (merged) controller.enqueue(merged);
					return;
				}
				next = undefined;
				if (result.done) {
					if (merged) controller.enqueue(merged);
					controller.close();
					return;
				}
				const part = result.value;
				if (part.type === "text-delta" && !part.providerMetadata && (!merged || merged.id === part.id)) {
					if (!merged) {
						merged = { ...part };
						turn = new Promise((resolve) => setTimeout(() => resolve(TURN_ENDED), 0));
					} else merged.delta += part.delta;
					if (++count >= maxDeltas) {
						controller.enqueue(merged);
						return;
					}
					continue;
				}
				if (merged) {
					controller.enqueue(merged);
					carried = part;
				} else controller.enqueue(part);
				return;
			}
		},
		cancel(reason) {
			return reader.cancel(reason);
		},
	});
}

const middleware: LanguageModelV4Middleware = {
	specificationVersion: "v4",
	wrapStream: async ({ doStream }) => {
		const result = await doStream();
		return { ...result, stream: coalesceDeltas(result.stream) };
	},
};

/** The model with its streamed text deltas coalesced; a model named by a string id is left as it is. */
export function withCoalescedDeltas(model: LanguageModel): LanguageModel {
	if (typeof model === "string") return model;
	return wrapLanguageModel({ model, middleware });
}
