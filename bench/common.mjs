// What the bench scripts (run.mjs, profile.mjs) share: wrangler's environment, the SDK-shaped events they send,
// and the org they send them as.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import { join } from "node:path";

/**
 * A temp dir for the run's state and wrangler's logs, with the environment set before wrangler loads: no telemetry,
 * no Request.cf download, logs at warn. Returns the dir and wrangler's unstable_startWorker.
 */
export async function prepareWrangler(prefix) {
	const tmp = mkdtempSync(join(os.tmpdir(), prefix));
	process.env.WRANGLER_SEND_METRICS = "false";
	process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
	process.env.WRANGLER_LOG_PATH = join(tmp, "logs");
	process.env.WRANGLER_LOG ??= "warn";
	const { unstable_startWorker } = await import("wrangler");
	return { tmp, unstable_startWorker };
}

export const ADMIN_TOKEN = "roost-dev-admin";
export { clientEvent } from "./events.ts";

/** Creates an org with the admin token and returns its id and API key. */
export async function createOrg(base, name = "Bench") {
	const res = await fetch(new URL("/v1/orgs", base), {
		method: "POST",
		headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
		body: JSON.stringify({ name }),
	});
	const text = await res.text();
	if (res.status !== 201) throw new Error(`POST /v1/orgs: ${res.status} ${text}`);
	const body = JSON.parse(text);
	return { id: body.org.id, apiKey: body.apiKey };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.on("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}
