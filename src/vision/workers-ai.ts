/**
 * Frame descriptions from a Workers AI vision model (LLaVA by default). The model gets a small JPEG
 * copy of the frame, not the upload, so a 5 MiB frame costs the same as a thumbnail. Only used when
 * configured and the `AI` binding exists (see config.ts): local runs and tests never reach it.
 */
import { encode as encodeJpeg } from "jpeg-js";
import { downscale, type Raster } from "./raster.ts";

export const DEFAULT_VISION_MODEL = "@cf/llava-hf/llava-1.5-7b-hf";

/** LLaVA 1.5 sees 336 x 336: a larger input only costs bytes. */
const MODEL_INPUT_SIDE = 336;

export const VISION_PROMPT =
	"This is a frame from a CCTV camera in a shop. In one or two sentences, describe what is happening. " +
	"Then, on a new line, write 'People: N' where N is the number of people visible (0 if none).";

/** The slice of the Workers AI binding this module uses. */
export interface VisionBinding {
	run(
		model: string,
		inputs: { image: number[]; prompt: string; max_tokens?: number },
		options?: { gateway?: { id: string } },
	): Promise<unknown>;
}

export interface Description {
	description: string;
	/** Read from the model's "People: N" line; null when it gave none. */
	peopleCount: number | null;
}

export async function describeFrame(ai: VisionBinding, model: string, raster: Raster, gateway?: string): Promise<Description> {
	const small = downscale(raster, MODEL_INPUT_SIDE);
	const jpeg = encodeJpeg({ width: small.width, height: small.height, data: small.rgba }, 80).data;
	const inputs = { image: [...new Uint8Array(jpeg)], prompt: VISION_PROMPT, max_tokens: 160 };
	const answer = await ai.run(model, inputs, gateway ? { gateway: { id: gateway } } : undefined);
	const text =
		(answer as { description?: unknown; response?: unknown } | null)?.description ?? (answer as { response?: unknown })?.response;
	if (typeof text !== "string" || text.trim().length === 0) throw new Error(`${model} returned no description`);
	return parseDescription(text);
}

/** Splits the model's answer into the description and the people count it ends with. */
export function parseDescription(text: string): Description {
	const people = /people\s*[:=]\s*(\d{1,4})/i.exec(text);
	const description = text
		.replace(/\n?\s*people\s*[:=]\s*\d{1,4}\.?\s*/i, " ")
		.replace(/\s+/g, " ")
		.trim();
	return { description: description.slice(0, 2000), peopleCount: people ? Number(people[1]) : null };
}
