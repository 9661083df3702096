#!/usr/bin/env node
// `npm run deploy:check`: would a deploy go through? No login and no network (docs/deploy.md).
//
// For each deployed environment (staging, production) it runs `wrangler deploy --dry-run` into a temporary folder:
// wrangler reads the environment's config, checks it, and bundles the Worker exactly as a deploy would. Then it
// prints the bundle's size, raw and gzipped, against the platform's limits, and the Worker's startup cost: the
// production bundle loaded into a local workerd by `wrangler check startup`, its global scope's CPU profiled.
//
// The pattern analyzer's image is not built: a dry run needs Docker for that, so it passes
// `--containers-rollout=none` and only checks that the Dockerfile is there. `wrangler deploy` builds and pushes it.
//
// Exits 1 when a dry run fails, a gzipped bundle is over the free plan's limit or startup is over the platform's;
// it warns over Roost's 1 MiB goal.
//   npm run deploy:check                 both environments
//   npm run deploy:check -- --keep       keeps the bundles (prints where)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const ENVIRONMENTS = ["staging", "production"];
const MiB = 1024 * 1024;
/** Workers' size limits after compression (free and paid plans), and Roost's own goal. */
const LIMITS = { free: 3 * MiB, paid: 10 * MiB, goal: 1 * MiB };
/** What the platform allows a Worker's global scope to take at startup. */
const STARTUP_LIMIT_MS = 1000;
const keep = process.argv.includes("--keep");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_LOG: "warn" };

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const percent = (bytes, limit) => `${((bytes / limit) * 100).toFixed(1)}%`;

/** Bundles one environment as `wrangler deploy` would, without uploading anything. */
function dryRun(name, outdir) {
	const args = ["wrangler", "deploy", "--dry-run", "--env", name, "--outdir", outdir, "--containers-rollout=none"];
	const run = spawnSync("npx", args, { cwd: root, env, encoding: "utf8" });
	if (run.status !== 0) {
		process.stdout.write(run.stdout);
		process.stderr.write(run.stderr);
		throw new Error(`wrangler deploy --dry-run --env ${name} failed (exit ${run.status})`);
	}
	// The one warning expected here: the local ADMIN_TOKEN var is, on purpose, not in the deployed environments.
	const warnings = run.stderr.split("\n").filter((line) => /WARNING|ERROR/.test(line) && !/Processing wrangler\.jsonc/.test(line));
	for (const line of warnings) console.warn(`  ${line.trim()}`);
	return run.stdout;
}

/** The modules wrangler would upload (the entry and its text modules), and their sizes raw and gzipped. */
async function bundleSize(outdir) {
	const files = (await readdir(outdir)).filter((file) => !file.endsWith(".map") && file !== "README.md");
	let raw = 0;
	let gzip = 0;
	for (const file of files) {
		const bytes = await readFile(join(outdir, file));
		raw += bytes.length;
		gzip += gzipSync(bytes, { level: 9 }).length;
	}
	return { files: files.length, raw, gzip };
}

/**
 * The production Worker's startup CPU: `wrangler check startup` bundles it, loads it into a local workerd and profiles
 * its global scope; the active time is every sample not idle. A local CPU, not Cloudflare's: a guide, not a verdict.
 */
async function startupCost(dir) {
	const outfile = join(dir, "startup.cpuprofile");
	const args = ["wrangler", "check", "startup", "--env", "production", "--args=--containers-rollout=none", "--outfile", outfile];
	const run = spawnSync("npx", args, { cwd: root, env, encoding: "utf8" });
	if (run.status !== 0) {
		process.stdout.write(run.stdout);
		process.stderr.write(run.stderr);
		throw new Error(`wrangler check startup failed (exit ${run.status})`);
	}
	const profile = JSON.parse(await readFile(outfile, "utf8"));
	const names = new Map(profile.nodes.map((node) => [node.id, node.callFrame.functionName]));
	let activeUs = 0;
	let gcUs = 0;
	profile.samples.forEach((id, i) => {
		const name = names.get(id);
		const delta = profile.timeDeltas[i] ?? 0;
		if (name !== "(idle)") activeUs += delta;
		if (name === "(garbage collector)") gcUs += delta;
	});
	return { activeMs: activeUs / 1000, gcMs: gcUs / 1000, samples: profile.samples.length };
}

async function main() {
	execFileSync(process.execPath, ["web/build.mjs"], { cwd: root, stdio: "ignore" });
	const dockerfile = join(root, "containers/pattern-analyzer/Dockerfile");
	if (!existsSync(dockerfile)) throw new Error("containers/pattern-analyzer/Dockerfile is missing");
	const tmp = await mkdtemp(join(tmpdir(), "roost-deploy-check-"));
	let failed = false;
	try {
		console.log("roost deploy check: wrangler deploy --dry-run, no login, no network\n");
		const sizes = {};
		for (const name of ENVIRONMENTS) {
			const outdir = join(tmp, name);
			console.log(`${name}:`);
			dryRun(name, outdir);
			const size = await bundleSize(outdir);
			sizes[name] = size;
			console.log(`  bundle   ${kib(size.raw)} raw, ${kib(size.gzip)} gzipped (${size.files} modules)`);
			console.log(
				`  limits   ${percent(size.gzip, LIMITS.free)} of the free plan's 3 MiB, ${percent(size.gzip, LIMITS.paid)} of the paid plan's 10 MiB (gzipped)`,
			);
			if (size.gzip > LIMITS.free) {
				console.error(`  FAIL     over the free plan's limit`);
				failed = true;
			} else if (size.gzip > LIMITS.goal) {
				console.warn(`  WARN     over Roost's 1 MiB goal`);
			} else {
				console.log(`  goal     under 1 MiB gzipped: ok`);
			}
			console.log("  container image: not built in a dry run (Docker); `wrangler deploy` builds it\n");
		}
		const startup = await startupCost(tmp);
		console.log("startup (production, `wrangler check startup`: the bundle's global scope in a local workerd):");
		console.log(
			`  cpu      ${startup.activeMs.toFixed(0)} ms active, ${startup.gcMs.toFixed(0)} ms of it garbage collection (${startup.samples} samples)`,
		);
		console.log(`  limit    the platform allows ${STARTUP_LIMIT_MS} ms; the profile is kept with --keep (open it in Chrome DevTools)`);
		if (startup.activeMs > STARTUP_LIMIT_MS) {
			console.error("  FAIL     over the platform's startup limit");
			failed = true;
		}
		if (keep) console.log(`\nbundles kept in ${tmp}`);
	} finally {
		if (!keep) await rm(tmp, { recursive: true, force: true });
	}
	if (failed) process.exit(1);
	console.log("\ndeploy check: ok");
}

main().catch((error) => {
	console.error(`deploy check failed: ${error.message}`);
	process.exit(1);
});
