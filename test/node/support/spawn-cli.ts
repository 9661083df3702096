/// <reference types="node" />
/** Runs bin/roost.mjs in a child process, as `npx roost <args>` does, with `env` on top of this process's environment. */
import { spawn } from "node:child_process";

export interface Ran {
	code: number;
	stdout: string;
	stderr: string;
}

export function spawnRoost(args: string[], env: Record<string, string>): Promise<Ran> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ["bin/roost.mjs", ...args], {
			env: { ...process.env, ...env },
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk) => {
			stdout += chunk;
		});
		child.stderr.on("data", (chunk) => {
			stderr += chunk;
		});
		child.on("error", reject);
		child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
	});
}
