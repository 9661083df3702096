/// <reference types="node" />
/**
 * Where the CLI connects and as whom. Each setting comes from its flag, else the environment, else the
 * demo org that `npm start` keeps in .wrangler/roost-demo.json (looked for in the current directory, then
 * in this repository), else a default:
 *   endpoint  --endpoint, ROOST_ENDPOINT, http://localhost:8787
 *   key       --key, ROOST_KEY, the demo org's key
 *   org       --org, ROOST_ORG, the org the key names (`rk_<org>.<secret>`)
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { claimedOrg } from "../http/api-keys.ts";
import { UsageError } from "./errors.ts";

export const DEFAULT_ENDPOINT = "http://localhost:8787";

export interface Connection {
	endpoint: string;
	org: string;
	apiKey: string;
}

export interface ConnectionFlags {
	endpoint?: string;
	key?: string;
	org?: string;
}

const REPO_DEMO_FILE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".wrangler", "roost-demo.json");

function readDemo(files: readonly string[]): { org?: string; apiKey?: string } | undefined {
	for (const file of files) {
		try {
			return JSON.parse(readFileSync(file, "utf8")) as { org?: string; apiKey?: string };
		} catch {}
	}
	return undefined;
}

export function resolveConnection(
	flags: ConnectionFlags,
	env: Record<string, string | undefined>,
	cwd: string,
	demoFiles: readonly string[] = [join(cwd, ".wrangler", "roost-demo.json"), REPO_DEMO_FILE],
): Connection {
	const endpoint = flags.endpoint ?? env.ROOST_ENDPOINT ?? DEFAULT_ENDPOINT;
	try {
		new URL(endpoint);
	} catch {
		throw new UsageError(`--endpoint ${endpoint} is not a URL`);
	}
	const demo = flags.key || env.ROOST_KEY ? undefined : readDemo(demoFiles);
	const apiKey = flags.key ?? env.ROOST_KEY ?? demo?.apiKey;
	if (!apiKey) {
		throw new UsageError(
			"no API key: pass --key <key>, set ROOST_KEY, or run `npm start` (it keeps the demo org's key in .wrangler/roost-demo.json)",
		);
	}
	const org = flags.org ?? env.ROOST_ORG ?? claimedOrg(apiKey) ?? demo?.org;
	if (!org) throw new UsageError("no org: the key is not shaped rk_<org>.<secret>, so pass --org <org> or set ROOST_ORG");
	return { endpoint: endpoint.replace(/\/+$/, ""), org, apiKey };
}
