/// <reference types="node" />
/**
 * `npx roost` on a machine whose system Node is older than the engines field (Node 20 here): bin/roost.mjs
 * runs itself again on the project's Node (node_modules/.bin/node) instead of refusing or warning.
 * Spawns the real CLI with the real old Node; skipped, saying so, where no Node older than 22.12 is installed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

const OLD_NODE = ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"].find((path) => {
	if (!existsSync(path)) return false;
	const version = spawnSync(path, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
	const [major = 0, minor = 0] = version.split(".").map(Number);
	return major < 22 || (major === 22 && minor < 12);
});

const roost = (args: string[], env: Record<string, string> = {}) =>
	spawnSync(OLD_NODE as string, ["bin/roost.mjs", ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });

const title = OLD_NODE
	? `roost started by ${OLD_NODE}, older than 22.12`
	: "skipped: no Node older than 22.12 in /usr/bin, /usr/local/bin or /bin to start roost with";

// Each test starts two Node processes; on a loaded CI machine that can take several seconds.
describe.skipIf(!OLD_NODE)(title, { timeout: 30_000 }, () => {
	it("runs the CLI on the project's Node, with no engine warning", () => {
		const ran = roost(["--help"]);
		expect(ran.stderr).toBe("");
		expect(ran.status).toBe(0);
		expect(ran.stdout).toContain("Usage: roost <command>");
		expect(ran.stdout + ran.stderr).not.toMatch(/EBADENGINE|needs Node|Unsupported engine|ExperimentalWarning/);
	});

	it("passes the exit code through", () => {
		const ran = roost(["no-such-command"]);
		expect(ran.status).toBe(2);
		expect(ran.stderr).toContain('unknown command "no-such-command"');
	});

	it("does not loop when the re-run Node is old too (ROOST_REEXEC set, as in the re-run): one line, exit 2", () => {
		const ran = roost(["--help"], { ROOST_REEXEC: "1" });
		expect(ran.status).toBe(2);
		expect(ran.stdout).toBe("");
		expect(ran.stderr.trim().split("\n")).toHaveLength(1);
		expect(ran.stderr).toMatch(/roost needs Node 22\.12 or newer, not v\d+\.\d+\.\d+/);
	});
});
