/** Types of scripts/camera-uploader.mjs, for the tests that drive it. */
export interface UploaderOptions {
	endpoint: string;
	org: string;
	key: string;
	camera: string;
	cameras: number;
	dir?: string;
	loop: boolean;
	format: "png" | "jpeg";
	width: number;
	height: number;
	cycle: number;
	fps: number;
	count?: number;
	quiet: boolean;
}

export interface Frame {
	bytes: Uint8Array;
	contentType: "image/png" | "image/jpeg";
	name?: string;
}

export interface UploadStats {
	sent: number;
	accepted: number;
	duplicates: number;
	failed: number;
	latencyMs: number;
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export function parseOptions(argv: string[], env?: Record<string, string | undefined>, demoPath?: string): UploaderOptions;
export function patternFrame(index: number, options?: Partial<Pick<UploaderOptions, "width" | "height" | "format" | "cycle">>): Frame;
export function folderFrames(dir: string): { name: string; path: string; contentType: Frame["contentType"] }[];
export function postFrame(
	target: Pick<UploaderOptions, "endpoint" | "org" | "key">,
	camera: string,
	frame: Frame,
	frameId: string,
	options?: { fetch?: Fetch; signal?: AbortSignal; attempts?: number },
): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }>;
export function runUploader(
	options: UploaderOptions,
	io?: { fetch?: Fetch; log?: (line: string) => void; signal?: AbortSignal },
): Promise<UploadStats>;
