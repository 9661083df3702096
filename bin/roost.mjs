#!/usr/bin/env node
// `npx roost ...` (or `node bin/roost.mjs ...`): the replay and debug CLI, docs/console.md. It runs the
// TypeScript in src/cli directly: Node strips the types (on by default from Node 22.18 and 23.6; an older
// Node 22 is re-run here with --experimental-strip-types). Nothing to build.
import { spawnSync } from "node:child_process";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	console.error(`roost needs Node 22.12 or newer, not ${process.version}: run it as \`npx roost\`, which uses the repository's Node 24.`);
	process.exit(2);
}
if (!process.features.typescript) {
	const again = spawnSync(process.execPath, ["--experimental-strip-types", "--no-warnings=ExperimentalWarning", ...process.argv.slice(1)], {
		stdio: "inherit",
	});
	process.exit(again.status ?? 1);
}

const { run } = await import("../src/cli/main.ts");
const controller = new AbortController();
// The first Ctrl-C stops the command cleanly (a tail closes its socket, an export finishes its page); the second exits.
process.once("SIGINT", () => {
	controller.abort();
	process.once("SIGINT", () => process.exit(130));
});
process.exitCode = await run(process.argv.slice(2), {
	stdout: process.stdout,
	stderr: process.stderr,
	env: process.env,
	cwd: process.cwd(),
	signal: controller.signal,
});
