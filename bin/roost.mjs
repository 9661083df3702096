#!/usr/bin/env node
// `npx roost ...` (or `node bin/roost.mjs ...`): the replay and debug CLI, docs/console.md. It runs the
// TypeScript in src/cli directly: Node strips the types (on by default from Node 22.18 and 23.6; an older
// Node 22 is re-run here with --experimental-strip-types). Nothing to build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	// An older system Node (`npx roost` on Node 20) runs the CLI again on the project's own Node (the `node`
	// devDependency), so nothing warns about engines. ROOST_REEXEC stops a loop if that Node is old as well.
	const projectNode = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
	if (process.env.ROOST_REEXEC || !existsSync(projectNode)) {
		const why = process.env.ROOST_REEXEC ? `${projectNode} is ${process.version} too` : `${projectNode} is missing (run \`npm install\`)`;
		console.error(`roost needs Node 22.12 or newer, not ${process.version}, and the project's Node cannot stand in: ${why}.`);
		process.exit(2);
	}
	const again = spawnSync(projectNode, process.argv.slice(1), { stdio: "inherit", env: { ...process.env, ROOST_REEXEC: "1" } });
	if (again.error) {
		console.error(`roost could not start ${projectNode}: ${again.error.message}`);
		process.exit(2);
	}
	process.exit(again.status ?? 128 + (constants.signals[again.signal] ?? 0));
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
