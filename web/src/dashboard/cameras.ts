/**
 * Cameras with their online/offline state and their latest analysed frame. The org lists its cameras
 * (`GET /cameras`, most recently changed first) and says on its log when one comes online or goes offline
 * (`org.camera_status`). Each camera shown is read once (`GET .../state`) and then followed on its own socket
 * from that version, for its frames, analyses and motion. The frame itself is not readable over the API, so
 * the view draws what its analysis says: brightness, the regions that changed, motion, people, description.
 */
import type { ActorSocket } from "../shared/actor-socket.ts";
import { ApiError, type EventEnvelope, type RoostApi } from "../shared/api.ts";
import { h, perFrame, replace } from "../shared/dom.ts";
import { ago, clock, percent, plural } from "../shared/format.ts";
import type { LiveHub } from "../shared/live-hub.ts";

/** Cameras followed live at once: the most recently changed. */
const MAX_CAMERAS = 12;

interface Region {
	x: number;
	y: number;
	width: number;
	height: number;
}

interface Analysis {
	frameId: string;
	analyser: string;
	description: string;
	brightness: number;
	motion: boolean;
	motionScore: number;
	changedRegions: Region[];
	peopleCount: number | null;
	ts: number;
}

interface Camera {
	id: string;
	status: "new" | "online" | "offline" | "unknown";
	frames: number;
	lastFrame: { frameId: string; ts: number; width: number; height: number } | null;
	lastAnalysis: Analysis | null;
	motion: boolean;
	error: string | null;
	socket?: ActorSocket;
}

interface CameraStateBody {
	version: number;
	state: {
		status: "new" | "online" | "offline";
		frames: number;
		lastFrame: { frameId: string; ts: number; width: number; height: number } | null;
		lastAnalysis: Analysis | null;
		motion: { active: boolean };
	};
}

export class CamerasView {
	readonly #cameras = new Map<string, Camera>();
	readonly #grid: HTMLElement;
	readonly #note: HTMLElement;
	readonly #more: HTMLElement;
	/** Cameras the org has that are not followed (beyond MAX_CAMERAS). */
	#unfollowed = new Set<string>();
	readonly render = perFrame(() => this.#render());

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
		private readonly hub: LiveHub,
	) {
		this.#grid = h("div", { class: "camera-grid", id: "camera-grid" });
		this.#more = h("p", { class: "caption", hidden: true });
		this.#note = h("p", { class: "empty" }, "No camera yet. A camera appears here with its first frame.");
		replace(
			section,
			h("h2", { id: "cameras-title" }, "Cameras"),
			h("p", { class: "caption" }, "Online or offline, and what the latest analysed frame showed (drawn from its analysis)."),
			this.#note,
			this.#more,
			this.#grid,
		);
		setInterval(() => this.render(), 10_000);
	}

	async load(): Promise<void> {
		const list = await this.api.get<{ cameras: { camera: string; status: "online" | "offline" }[] }>(this.api.orgPath("/cameras"));
		for (const { camera } of list.cameras) this.follow(camera);
	}

	/** The org's log: a camera came online (a new one with its first frame) or went offline. */
	onOrgEvent(event: EventEnvelope): void {
		if (event.type !== "org.camera_status") return;
		const { camera, status } = event.data as { camera: string; status: "online" | "offline" };
		this.follow(camera);
		const known = this.#cameras.get(camera);
		// The camera's own socket says the same a moment later; this keeps the pill right if it lags.
		if (known && known.status !== "unknown") known.status = status;
		this.render();
	}

	/** Starts following a camera, once, while fewer than MAX_CAMERAS are followed. */
	follow(id: string): void {
		if (this.#cameras.has(id)) return;
		if (this.#cameras.size >= MAX_CAMERAS) {
			this.#unfollowed.add(id);
			this.render();
			return;
		}
		const camera: Camera = { id, status: "unknown", frames: 0, lastFrame: null, lastAnalysis: null, motion: false, error: null };
		this.#cameras.set(id, camera);
		this.render();
		void this.#load(camera);
	}

	async #load(camera: Camera): Promise<void> {
		let version = 0;
		try {
			const body = await this.api.get<CameraStateBody>(this.api.actorPath({ kind: "cameras", id: camera.id }, "/state"));
			const s = body.state;
			Object.assign(camera, {
				status: s.status,
				frames: s.frames,
				lastFrame: s.lastFrame,
				lastAnalysis: s.lastAnalysis,
				motion: s.motion.active,
				error: null,
			});
			version = body.version;
		} catch (error) {
			camera.error = error instanceof ApiError ? error.message : String(error);
		}
		this.render();
		camera.socket = this.hub.open(
			{ kind: "cameras", id: camera.id },
			{ after: version, onEvent: (event) => this.#onCameraEvent(camera, event) },
		);
	}

	#onCameraEvent(camera: Camera, event: EventEnvelope): void {
		const d = event.data as Record<string, unknown>;
		switch (event.type) {
			case "camera.online":
				camera.status = "online";
				break;
			case "camera.offline":
				camera.status = "offline";
				camera.motion = false;
				break;
			case "camera.frame_received":
				camera.frames++;
				camera.lastFrame = { frameId: String(d.frameId), ts: event.ts, width: Number(d.width), height: Number(d.height) };
				break;
			case "camera.frame_analyzed":
				camera.lastAnalysis = { ...(d as unknown as Analysis), ts: event.ts };
				break;
			case "camera.motion_started":
				camera.motion = true;
				break;
			case "camera.motion_stopped":
				camera.motion = false;
				break;
		}
		camera.error = null;
		this.render();
	}

	#render(): void {
		this.#note.hidden = this.#cameras.size > 0;
		this.#more.hidden = this.#unfollowed.size === 0;
		this.#more.textContent = `${plural(this.#unfollowed.size, "more camera")}, not followed live.`;
		replace(this.#grid, ...[...this.#cameras.values()].map((camera) => this.#card(camera)));
	}

	#card(camera: Camera): HTMLElement {
		const a = camera.lastAnalysis;
		const status = camera.status === "unknown" ? "…" : camera.status;
		return h(
			"article",
			{ class: "camera", "data-camera": camera.id, "data-status": camera.status },
			h(
				"header",
				{},
				h("h3", {}, camera.id),
				h("span", { class: `pill pill-${camera.status}` }, status),
				camera.motion && h("span", { class: "pill pill-motion" }, "motion"),
			),
			frameDrawing(camera),
			a
				? h(
						"dl",
						{ class: "facts" },
						h("dt", {}, "Analysed"),
						h("dd", {}, `${clock(a.ts)} (${ago(a.ts)}) by ${a.analyser}`),
						h("dt", {}, "Brightness"),
						h("dd", {}, percent(a.brightness)),
						h("dt", {}, "Motion"),
						h("dd", {}, a.motion ? `yes, ${percent(a.motionScore)} changed` : "no"),
						h("dt", {}, "People"),
						h("dd", {}, a.peopleCount === null ? "not counted" : String(a.peopleCount)),
					)
				: h("p", { class: "caption" }, camera.lastFrame ? `Last frame ${ago(camera.lastFrame.ts)}; not analysed yet.` : "No frame yet."),
			a?.description ? h("p", { class: "description" }, a.description) : null,
			camera.error ? h("p", { class: "form-error" }, camera.error) : null,
		);
	}
}

/** The latest analysed frame as its analysis describes it: its brightness as the background, changed regions as boxes. */
function frameDrawing(camera: Camera): SVGSVGElement {
	const width = camera.lastFrame?.width ?? 320;
	const height = camera.lastFrame?.height ?? 240;
	const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
	svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
	svg.setAttribute("class", "frame");
	svg.setAttribute("role", "img");
	const a = camera.lastAnalysis;
	svg.setAttribute(
		"aria-label",
		a
			? `Latest analysed frame of ${camera.id}: brightness ${percent(a.brightness)}, ${a.changedRegions.length} changed regions`
			: `No analysed frame of ${camera.id} yet`,
	);
	const level = Math.round(30 + (a?.brightness ?? 0.1) * 180);
	svg.appendChild(svgRect({ x: 0, y: 0, width, height, fill: `rgb(${level},${level},${level + 8})` }));
	for (const region of a?.changedRegions ?? []) {
		svg.appendChild(
			svgRect({ x: region.x * width, y: region.y * height, width: region.width * width, height: region.height * height, class: "region" }),
		);
	}
	return svg;
}

function svgRect(attributes: Record<string, string | number>): SVGRectElement {
	const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
	for (const [name, value] of Object.entries(attributes)) rect.setAttribute(name, String(value));
	return rect;
}
