/**
 * The settings an admin set for an org (src/events/org-settings.ts), remembered in this isolate for SETTINGS_CACHE_MS,
 * as API keys are (src/http/key-cache.ts): a session asks its org when a visit opens and a camera when a frame
 * arrives, at most once per org and isolate in that time; concurrent asks share one RPC. The isolate that changes
 * the settings forgets them at once (forgetOrgSettings); other isolates see a change within SETTINGS_CACHE_MS.
 */
import { actorName } from "../core/identity.ts";
import { errorText, log } from "../core/log.ts";
import type { Env } from "../env.ts";
import type { SetSettings } from "../events/org-settings.ts";

/** The key cache's time: a change reaches every isolate within it. */
export const SETTINGS_CACHE_MS = 10_000;
export const MAX_CACHED_ORGS = 1_000;

const known = new Map<string, { settings: SetSettings; until: number }>();
const inFlight = new Map<string, Promise<SetSettings>>();
let generation = 0;

/** The fields the org's admin set; {} when the org cannot be asked (the deployment's defaults apply, and a warning is logged). */
export async function orgSettings(env: Pick<Env, "ORG">, org: string): Promise<SetSettings> {
	const cached = known.get(org);
	if (cached && cached.until > Date.now()) return cached.settings;
	let pending = inFlight.get(org);
	if (!pending) {
		pending = ask(env, org);
		inFlight.set(org, pending);
	}
	return pending;
}

async function ask(env: Pick<Env, "ORG">, org: string): Promise<SetSettings> {
	const asked = generation;
	try {
		const settings = await env.ORG.getByName(actorName(org, org)).explicitSettings();
		if (asked === generation) {
			known.delete(org);
			known.set(org, { settings, until: Date.now() + SETTINGS_CACHE_MS });
			if (known.size > MAX_CACHED_ORGS) known.delete(known.keys().next().value as string);
		}
		return settings;
	} catch (error) {
		log("warn", "org settings unavailable; the deployment's defaults apply", { org, error: errorText(error) });
		return {};
	} finally {
		if (asked === generation) inFlight.delete(org);
	}
}

/** Called where an org's settings change: this isolate asks again on next use. */
export function forgetOrgSettings(org: string): void {
	generation++;
	inFlight.clear();
	known.delete(org);
}
