#!/usr/bin/env node
// Camera uploader: posts JPEG or PNG frames to a camera of a Roost org at a set rate, for demos and load.
// Frames come from a folder (sorted by name, looped with --loop) or from a generated test pattern: a
// grey scene in which a square moves for the first third of every --cycle frames and then stands still,
// so the camera sees motion start and stop.
//
//   npm run camera -- --camera door [--dir frames/] [--fps 2] [--count 100] [--cameras 4]
//
// The org and key default to the demo org that `npm start` keeps in .wrangler/roost-demo.json;
// --org, --key and --endpoint (default http://localhost:8787), or ROOST_ORG, ROOST_API_KEY and
// ROOST_ENDPOINT, point it elsewhere. Each frame carries x-frame-ts (now) and x-frame-id, so a retried
// upload (429 with Retry-After, or 5xx) is stored once. Stops after --count frames per camera, or on Ctrl-C.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";

const demoFile = fileURLToPath(new URL("../.wrangler/roost-demo.json", import.meta.url));
const TYPES = { ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png" };

const USAGE = `Usage: npm run camera -- [options]
  --camera <id>        camera id (default cam-1); with --cameras N: <id>-1 .. <id>-N
  --cameras <n>        upload to n cameras at once (default 1), for load
  --dir <folder>       post the .jpg/.jpeg/.png files of a folder, in name order (default: a generated pattern)
  --loop               start the folder again at its end
  --format png|jpeg    the generated pattern's format (default jpeg)
  --size <w>x<h>       the generated pattern's size (default 320x240)
  --cycle <n>          the pattern moves for the first third of every n frames (default 30)
  --fps <n>            frames per second per camera (default 1)
  --count <n>          frames per camera, then stop (default: until Ctrl-C; a folder without --loop: its files)
  --org <id> --key <api key> --endpoint <url>   (default: .wrangler/roost-demo.json, http://localhost:8787)
  --quiet              no line per frame`;

/** Options from the command line, the environment and the demo org file. Throws a readable error on bad input. */
export function parseOptions(argv, env = process.env, demoPath = demoFile) {
	const flags = {};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
		const name = arg.slice(2);
		if (["loop", "quiet", "help"].includes(name)) flags[name] = true;
		else {
			const value = argv[++i];
			if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
			flags[name] = value;
		}
	}
	if (flags.help) throw new Error(USAGE);
	const demo = existsSync(demoPath) ? JSON.parse(readFileSync(demoPath, "utf8")) : {};
	const number = (name, fallback, min) => {
		if (flags[name] === undefined) return fallback;
		const n = Number(flags[name]);
		if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}`);
		return n;
	};
	const size = /^(\d{1,4})x(\d{1,4})$/.exec(flags.size ?? "320x240");
	if (!size) throw new Error("--size must look like 320x240");
	const format = flags.format ?? "jpeg";
	if (!["png", "jpeg"].includes(format)) throw new Error("--format must be png or jpeg");
	const options = {
		endpoint: (flags.endpoint ?? env.ROOST_ENDPOINT ?? "http://localhost:8787").replace(/\/$/, ""),
		org: flags.org ?? env.ROOST_ORG ?? demo.org,
		key: flags.key ?? env.ROOST_API_KEY ?? demo.apiKey ?? demo.key,
		camera: flags.camera ?? "cam-1",
		cameras: Math.floor(number("cameras", 1, 1)),
		dir: flags.dir,
		loop: Boolean(flags.loop),
		format,
		width: Number(size[1]),
		height: Number(size[2]),
		cycle: Math.floor(number("cycle", 30, 3)),
		fps: number("fps", 1, 0.01),
		count: flags.count === undefined ? undefined : Math.floor(number("count", 1, 1)),
		quiet: Boolean(flags.quiet),
	};
	if (!options.org || !options.key)
		throw new Error("no org or key: pass --org and --key, or run `npm start` first (it writes .wrangler/roost-demo.json)");
	return options;
}

/** The test pattern's frame number `index`: the square moves along a loop in the first third of each cycle. */
export function patternFrame(index, { width = 320, height = 240, format = "jpeg", cycle = 30 } = {}) {
	const moving = Math.floor(cycle / 3);
	const step = Math.min(index % cycle, moving);
	const size = Math.round(Math.min(width, height) / 5);
	const angle = (2 * Math.PI * step) / Math.max(1, moving);
	const sx = Math.round((width - size) / 2 + Math.cos(angle) * (width - size) * 0.35);
	const sy = Math.round((height - size) / 2 + Math.sin(angle) * (height - size) * 0.35);
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const inSquare = x >= sx && x < sx + size && y >= sy && y < sy + size;
			const grey = 60 + Math.round((x / width) * 20);
			const at = (y * width + x) * 4;
			rgba[at] = inSquare ? 230 : grey;
			rgba[at + 1] = inSquare ? 200 : grey;
			rgba[at + 2] = inSquare ? 60 : grey;
			rgba[at + 3] = 255;
		}
	}
	if (format === "png") return { bytes: encodePng({ width, height, data: rgba, channels: 4, depth: 8 }), contentType: "image/png" };
	return { bytes: new Uint8Array(jpeg.encode({ width, height, data: rgba }, 85).data), contentType: "image/jpeg" };
}

/** The image files of a folder, in name order, as a frame source. */
export function folderFrames(dir) {
	const files = readdirSync(dir)
		.filter((name) => TYPES[extname(name).toLowerCase()])
		.sort();
	if (files.length === 0) throw new Error(`${dir} has no .jpg, .jpeg or .png files`);
	return files.map((name) => ({ name, path: join(dir, name), contentType: TYPES[extname(name).toLowerCase()] }));
}

/** Waits `ms`, or less if `signal` aborts (it then resolves, never rejects). */
const sleep = (ms, signal) => delay(ms, undefined, { signal }).catch(() => {});

/** Posts one frame, retrying 429 (after Retry-After) and 5xx or network errors a few times; the same x-frame-id each time. */
export async function postFrame({ endpoint, org, key }, camera, frame, frameId, { fetch = globalThis.fetch, signal, attempts = 4 } = {}) {
	const ts = Date.now();
	let last;
	for (let attempt = 1; attempt <= attempts; attempt++) {
		try {
			const res = await fetch(`${endpoint}/v1/orgs/${org}/cameras/${camera}/frames`, {
				method: "POST",
				headers: { authorization: `Bearer ${key}`, "content-type": frame.contentType, "x-frame-ts": String(ts), "x-frame-id": frameId },
				body: frame.bytes,
				signal,
			});
			const body = await res.json().catch(() => ({}));
			if (res.status === 202) return { ok: true, status: 202, body };
			last = { ok: false, status: res.status, body };
			if (res.status !== 429 && res.status < 500) return last;
			const wait = res.status === 429 ? Number(res.headers.get("retry-after") ?? 1) * 1000 : 250 * 2 ** attempt;
			await sleep(Math.min(wait, 60_000), signal);
		} catch (error) {
			if (signal?.aborted) return { ok: false, status: 0, body: { detail: "stopped" } };
			last = { ok: false, status: 0, body: { detail: String(error?.message ?? error) } };
			await sleep(250 * 2 ** attempt, signal);
		}
	}
	return last;
}

/** Uploads to every camera at `fps` until `count` frames each, the folder's end, or `signal`. */
export async function runUploader(options, { fetch = globalThis.fetch, log = console.log, signal } = {}) {
	const files = options.dir ? folderFrames(options.dir) : null;
	const limit = options.count ?? (files && !options.loop ? files.length : Number.POSITIVE_INFINITY);
	const cameras =
		options.cameras === 1 ? [options.camera] : Array.from({ length: options.cameras }, (_, i) => `${options.camera}-${i + 1}`);
	const stats = { sent: 0, accepted: 0, duplicates: 0, failed: 0, latencyMs: 0 };
	const run = Date.now().toString(36);
	const frameAt = (index) => {
		if (!files) return patternFrame(index, options);
		const file = files[index % files.length];
		return { bytes: new Uint8Array(readFileSync(file.path)), contentType: file.contentType, name: file.name };
	};
	await Promise.all(
		cameras.map(async (camera, c) => {
			const started = Date.now() + (c * 1000) / options.fps / cameras.length;
			for (let index = 0; index < limit && !signal?.aborted; index++) {
				await sleep(Math.max(0, started + (index * 1000) / options.fps - Date.now()), signal);
				if (signal?.aborted) break;
				const frame = frameAt(index);
				const t = Date.now();
				const result = await postFrame(options, camera, frame, `${run}-${index}`, { fetch, signal });
				stats.sent++;
				stats.latencyMs += Date.now() - t;
				if (result.ok && result.body.duplicate) stats.duplicates++;
				else if (result.ok) stats.accepted++;
				else stats.failed++;
				if (!options.quiet || !result.ok) {
					const what = frame.name ?? `pattern #${index}`;
					log(
						result.ok
							? `${camera}: ${what} (${frame.bytes.length} bytes) -> ${result.body.frameId}, version ${result.body.version}`
							: `${camera}: ${what} refused: ${result.status} ${result.body.detail ?? JSON.stringify(result.body)}`,
					);
				}
			}
		}),
	);
	return stats;
}

async function main() {
	let options;
	try {
		options = parseOptions(process.argv.slice(2));
	} catch (error) {
		console.error(error.message);
		process.exit(2);
	}
	const stop = new AbortController();
	process.once("SIGINT", () => stop.abort());
	const source = options.dir ? `files of ${options.dir}` : `a ${options.width}x${options.height} ${options.format} test pattern`;
	console.log(
		`Posting ${source} to ${options.cameras} camera(s) of org ${options.org} at ${options.endpoint}, ${options.fps} frame(s)/s each. Ctrl-C stops.`,
	);
	const started = Date.now();
	const stats = await runUploader(options, { signal: stop.signal });
	const seconds = (Date.now() - started) / 1000;
	console.log(
		`Sent ${stats.sent} frames in ${seconds.toFixed(1)} s: ${stats.accepted} accepted, ${stats.duplicates} duplicates, ${stats.failed} refused; ` +
			`mean latency ${stats.sent ? Math.round(stats.latencyMs / stats.sent) : 0} ms.`,
	);
	process.exit(stats.failed > 0 && stats.accepted === 0 ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
