/**
 * Analyses one frame: decode it, measure it against the previous frame's luminance grid (the
 * offline analyser), and with Workers AI also have a vision model describe it. What comes out is
 * the data of a `camera.frame_analyzed` event, or a failure that says which analyser failed and why,
 * with the offline measurement to fall back on when only the model failed.
 */
import type { AnalyserName, VisionConfig } from "./config.ts";
import type { ImageFormat } from "./image-format.ts";
import { type LumaGrid, lumaGrid, type Measurement, measure } from "./measure.ts";
import { decodeFrame } from "./raster.ts";
import { describeFrame, type VisionBinding } from "./workers-ai.ts";

export interface FrameAnalysis extends Measurement {
	analyser: AnalyserName;
	/** The vision model, when one described the frame. */
	model?: string;
	description: string;
	/** People counted by the model; null when the analyser cannot count (offline). */
	peopleCount: number | null;
	/** The frame this one was compared with for motion, or null for the first. */
	comparedWith: string | null;
	/** Set when the configured analyser gave up and this is the offline measurement instead. */
	fallbackFrom?: AnalyserName;
}

export interface PreviousFrame {
	frameId: string;
	grid: LumaGrid;
}

export type AnalysisOutcome =
	| { ok: true; analysis: FrameAnalysis; grid: LumaGrid }
	| { ok: false; analyser: AnalyserName; error: string; fallback?: { analysis: FrameAnalysis; grid: LumaGrid } };

export async function analyseFrame(
	frame: { bytes: Uint8Array; format: ImageFormat },
	previous: PreviousFrame | null,
	config: VisionConfig,
	ai?: VisionBinding,
): Promise<AnalysisOutcome> {
	let raster: ReturnType<typeof decodeFrame>;
	try {
		raster = decodeFrame(frame.bytes, frame.format);
	} catch (error) {
		return { ok: false, analyser: config.analyser, error: `cannot decode the ${frame.format.toUpperCase()}: ${messageOf(error)}` };
	}
	const grid = lumaGrid(raster);
	const measured = measure(grid, previous?.grid, config.motion);
	const offline: FrameAnalysis = {
		analyser: "offline",
		description: offlineDescription(measured, previous !== null),
		...measured,
		peopleCount: null,
		comparedWith: previous?.frameId ?? null,
	};
	if (config.analyser !== "workers-ai" || !ai) return { ok: true, analysis: offline, grid };
	try {
		const { description, peopleCount } = await describeFrame(ai, config.model, raster, config.gateway);
		return { ok: true, analysis: { ...offline, analyser: "workers-ai", model: config.model, description, peopleCount }, grid };
	} catch (error) {
		return {
			ok: false,
			analyser: "workers-ai",
			error: `${config.model}: ${messageOf(error)}`,
			fallback: { analysis: { ...offline, fallbackFrom: "workers-ai" }, grid },
		};
	}
}

/** What the offline analyser says about a frame: plainly that it measured and did not look. */
export function offlineDescription(m: Measurement, compared: boolean): string {
	const light = `brightness ${Math.round(m.brightness * 100)}%`;
	if (!compared) return `Offline analyser (measurements only): ${light}; first frame, nothing to compare for motion.`;
	if (!m.motion) return `Offline analyser (measurements only): ${light}; no motion.`;
	const regions = m.changedRegions.length;
	return `Offline analyser (measurements only): ${light}; motion in ${regions} region${regions === 1 ? "" : "s"} (${Math.round(m.motionScore * 100)}% of the frame changed).`;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 500);
