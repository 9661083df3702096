#!/usr/bin/env node
// Part of `npm run bench` (also `npm run bench:chat`): tokens through one chat actor, against consuming the same mock
// model directly, in the same run. Starts bench/chat-worker.ts in-process with wrangler's unstable_startWorker on
// loopback (state in a temp dir, deleted at the end). For each mode, each round: the Worker consumes the mock through
// streamText alone (the baseline), then a WebSocket subscribes to a fresh chat, a message is posted, and the clock
// stops when chat.assistant_message arrives; every token event is checked for order, gaps and text. Medians are kept.
// Writes bench/results/chat-<date>.json and bench/results/chat-latest.json (chat-quick.json with BENCH_QUICK=1).
// Offline: nothing leaves loopback.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, freePort, prepareWrangler } from "./common.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { tmp, unstable_startWorker } = await prepareWrangler("roost-chat-bench-");

const quick = process.env.BENCH_QUICK === "1";
const REPEATS = quick ? 1 : 5;
const TOKENS = quick ? 1000 : 5000;
const TARGET_TOKENS_PER_SECOND = 5000;
const TARGET_ADDED_MS_PER_TOKEN = 0.2;
const MODES = [
	{ mode: "burst", label: "mock emits as fast as it can", tokens: TOKENS },
	{ mode: "paced", label: "mock yields between deltas (network-like)", tokens: TOKENS },
];

const delta = (i) => `t${i % 1000} `;
const median = (values) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function json(res, expected) {
	const text = await res.text();
	if (res.status !== expected) throw new Error(`${res.url}: ${res.status} ${text}`);
	return JSON.parse(text);
}

async function createOrg(base) {
	const res = await fetch(new URL("/v1/orgs", base), {
		method: "POST",
		headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
		body: JSON.stringify({ name: "Chat bench" }),
	});
	const body = await json(res, 201);
	return { id: body.org.id, apiKey: body.apiKey };
}

/** The baseline: the Worker consumes the mock through streamText with no actor; wall time of that request. */
async function directRun(base, { mode, tokens }) {
	const t0 = performance.now();
	const body = await json(await fetch(new URL(`/bench/chat/direct?tokens=${tokens}&mode=${mode}`, base)), 200);
	const ms = performance.now() - t0;
	if (body.tokens !== tokens) throw new Error(`direct ${mode}: ${body.tokens} deltas, expected ${tokens}`);
	return { ms };
}

/** One answer through a fresh chat actor, watched over its WebSocket from here. */
async function actorRun(base, org, { tokens }, name) {
	const ws = new WebSocket(
		new URL(`/v1/orgs/${org.id}/chats/${name}/ws?after=0&token=${encodeURIComponent(org.apiKey)}`, base).href.replace(/^http/, "ws"),
	);
	let events = 0;
	let tokenEvents = 0;
	let text = "";
	let nextIndex = 0;
	let t0 = 0;
	let first = 0;
	const done = new Promise((resolve, reject) => {
		ws.addEventListener("error", () => reject(new Error("WebSocket error")));
		ws.addEventListener("message", (message) => {
			const frame = JSON.parse(message.data);
			if (frame.t !== "event") return;
			const event = frame.event;
			events++;
			if (event.type === "llm.token") {
				if (event.data.index !== nextIndex) reject(new Error(`token index ${event.data.index}, expected ${nextIndex}`));
				if (tokenEvents === 0) first = performance.now();
				nextIndex++;
				tokenEvents++;
				text += event.data.text;
			} else if (event.type === "chat.assistant_message") {
				resolve({ end: performance.now(), reply: event.data });
			} else if (event.type === "llm.error" || event.type === "chat.cancelled") {
				reject(new Error(`${event.type}: ${JSON.stringify(event.data)}`));
			}
		});
	});
	await new Promise((resolve, reject) => {
		ws.addEventListener("open", resolve, { once: true });
		ws.addEventListener("error", reject, { once: true });
	});
	t0 = performance.now();
	const res = await fetch(new URL(`/v1/orgs/${org.id}/chats/${name}/messages`, base), {
		method: "POST",
		headers: { authorization: `Bearer ${org.apiKey}`, "content-type": "application/json" },
		body: JSON.stringify({ text: "Stream the benchmark answer", clientActionId: `${name}-q` }),
	});
	await json(res, 202);
	const { end, reply } = await done;
	ws.close();
	const expected = Array.from({ length: tokens }, (_, i) => delta(i)).join("");
	if (text !== expected || reply.text !== expected) throw new Error(`${name}: the streamed text differs from the model's`);
	return { ms: end - t0, firstTokenMs: first - t0, events, tokenEvents };
}

async function main() {
	const started = Date.now();
	const port = await freePort();
	const worker = await unstable_startWorker({
		config: join(root, "bench/chat-wrangler.jsonc"),
		dev: { persist: join(tmp, "state"), inspector: false, watch: false, server: { hostname: "127.0.0.1", port } },
	});
	try {
		await worker.ready;
		const proxy = await worker.url;
		await (await fetch(proxy)).arrayBuffer();
		const mf = worker.raw?.runtimes?.find((runtime) => runtime.mf)?.mf;
		const base = mf ? await mf.ready : proxy;
		const org = await createOrg(base);
		console.log(`roost chat bench: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? "unknown"}, node ${process.version}`);
		console.log(`${TOKENS} deltas per answer; ${REPEATS} timed round(s) after a warm-up, median kept\n`);

		const results = [];
		let seq = 0;
		for (const spec of MODES) {
			await json(await fetch(new URL(`/bench/chat/model?tokens=${spec.tokens}&mode=${spec.mode}`, base)), 200);
			const runs = [];
			for (let round = 0; round <= REPEATS; round++) {
				const directResult = await directRun(base, spec);
				const actor = await actorRun(base, org, spec, `bench-${spec.mode}-${Date.now().toString(36)}-${seq++}`);
				if (round > 0) runs.push({ directMs: directResult.ms, ...actor });
				process.stdout.write(".");
			}
			const directMs = median(runs.map((r) => r.directMs));
			const actorMs = median(runs.map((r) => r.ms));
			const added = runs.map((r) => (r.ms - r.directMs) / spec.tokens);
			results.push({
				mode: spec.mode,
				label: spec.label,
				tokens: spec.tokens,
				directMs,
				actorMs,
				firstTokenMs: median(runs.map((r) => r.firstTokenMs)),
				tokensPerSecond: (spec.tokens / actorMs) * 1000,
				directTokensPerSecond: (spec.tokens / directMs) * 1000,
				addedMsPerToken: median(added),
				tokenEvents: median(runs.map((r) => r.tokenEvents)),
				logEvents: median(runs.map((r) => r.events)),
				runs,
			});
		}
		process.stdout.write("\n\n");

		const header = [
			"mode",
			"deltas",
			"direct ms",
			"actor ms",
			"tokens/s",
			"added ms/token (median of rounds)",
			"llm.token events",
			"first token ms",
			"met",
		];
		const rows = results.map((r) => {
			const met = r.tokensPerSecond >= TARGET_TOKENS_PER_SECOND && r.addedMsPerToken <= TARGET_ADDED_MS_PER_TOKEN;
			r.met = met;
			return [
				`${r.mode} (${r.label})`,
				String(r.tokens),
				r.directMs.toFixed(1),
				r.actorMs.toFixed(1),
				Math.round(r.tokensPerSecond).toLocaleString("en-US"),
				r.addedMsPerToken.toFixed(4),
				String(r.tokenEvents),
				r.firstTokenMs.toFixed(1),
				met ? "yes" : "NO",
			];
		});
		const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
		const line = (cells) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ")} |`;
		console.log([line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n"));
		console.log(
			`\ntargets: >= ${TARGET_TOKENS_PER_SECOND} tokens/s and <= ${TARGET_ADDED_MS_PER_TOKEN} ms added per token (median): ${results.map((r) => `${r.mode} ${r.met ? "met" : "MISSED"}`).join(", ")}`,
		);
		console.log(
			"added ms/token = (time to the assistant message over the socket - time to consume the mock directly) / deltas, in each round (the two run back to back); the median of rounds",
		);

		const date = new Date(started).toISOString();
		const report = {
			benchmark: "chat",
			date,
			durationSeconds: Math.round((Date.now() - started) / 100) / 10,
			machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? "unknown", node: process.version },
			settings: { repeats: REPEATS, tokens: TOKENS, quick, via: mf ? "user Worker socket" : "wrangler proxy" },
			targets: { tokensPerSecond: TARGET_TOKENS_PER_SECOND, addedMsPerToken: TARGET_ADDED_MS_PER_TOKEN },
			results,
		};
		const dir = join(root, "bench/results");
		mkdirSync(dir, { recursive: true });
		const text = `${JSON.stringify(report, null, "\t")}\n`;
		// A quick run (BENCH_QUICK=1) is a smoke test: it leaves the dated file and chat-latest.json alone.
		const files = quick ? ["chat-quick.json"] : [`chat-${date.slice(0, 10)}.json`, "chat-latest.json"];
		for (const file of files) writeFileSync(join(dir, file), text);
		console.log(`wrote ${files.map((file) => `bench/results/${file}`).join(" and ")} (${report.durationSeconds}s)`);
	} finally {
		await worker.dispose();
	}
}

let exitCode = 0;
try {
	await main();
} catch (error) {
	console.error(error);
	exitCode = 1;
} finally {
	try {
		// workerd may still be closing files in the temp dir just after dispose: retry briefly, and never fail the run on it.
		rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
	} catch (error) {
		console.warn(`could not remove ${tmp}: ${error instanceof Error ? error.message : error}`);
	}
}
process.exit(exitCode);
