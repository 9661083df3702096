/**
 * `npm start` as a new user runs it (scripts/start.mjs: wrangler dev on a local workerd), for the tests that start
 * the real thing: on free ports, with its own state directory, in its own process group so that stopping it stops
 * wrangler and workerd too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export interface NpmStart {
	process: ChildProcess;
	/** Everything it printed so far, stdout and stderr. */
	output: () => string;
	exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

export function npmStart(args: string[], at: { port: number; inspectorPort: number; stateDir: string }): NpmStart {
	const child = spawn(process.execPath, ["scripts/start.mjs", ...args, "--inspector-port", String(at.inspectorPort)], {
		env: {
			...process.env,
			PATH: `${join(process.cwd(), "node_modules/.bin")}:${process.env.PATH ?? ""}`,
			PORT: String(at.port),
			ROOST_STATE_DIR: at.stateDir,
			WRANGLER_SEND_METRICS: "false",
			CLOUDFLARE_CF_FETCH_ENABLED: "false",
		},
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	let output = "";
	child.stdout?.on("data", (chunk) => {
		output += String(chunk);
	});
	child.stderr?.on("data", (chunk) => {
		output += String(chunk);
	});
	const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
	return { process: child, output: () => output, exited };
}

/** Resolves with what it printed once `printed` matches it; rejects if it exits first. */
export function printedLines(started: NpmStart, printed: RegExp): Promise<string> {
	return new Promise<string>((resolve, reject) => {
		const timer = setInterval(() => {
			if (printed.test(started.output())) {
				clearInterval(timer);
				resolve(started.output());
			} else if (started.process.exitCode !== null) {
				clearInterval(timer);
				reject(new Error(`npm start exited with ${started.process.exitCode}:\n${started.output().slice(-3000)}`));
			}
		}, 100);
	});
}

/** Stops it and its children: SIGTERM to the group, SIGKILL after 10 s. */
export async function stopNpmStart(started: NpmStart | undefined): Promise<void> {
	if (!started?.process.pid || started.process.exitCode !== null) return;
	process.kill(-started.process.pid, "SIGTERM");
	const stopped = await Promise.race([started.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
	if (!stopped) process.kill(-started.process.pid, "SIGKILL");
}
