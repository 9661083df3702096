/**
 * An org's operating settings (docs/api.md, "Org settings"): how long a web visit may be idle before it ends, a
 * camera's batch window and how long a silent camera stays online. `org.settings_set` records the fields an admin
 * changed; a field never set follows the deployment's default (SESSION_INACTIVITY_MS, CAMERA_BATCH_MS,
 * CAMERA_OFFLINE_AFTER_MS). Where a setting takes effect, it is carried on the event that uses it, so replay does
 * not depend on when the org was asked.
 */
import { z } from "zod";
import { defineEvent } from "./catalog.ts";

/** One minute to seven days: a visit idle this long ends. */
export const SESSION_INACTIVITY_SECONDS = { min: 60, max: 604_800 } as const;
/** Ten seconds to one hour: a camera's batch window. */
export const CAMERA_BATCH_SECONDS = { min: 10, max: 3_600 } as const;
/** Thirty seconds to one day: a camera silent this long is marked offline. */
export const CAMERA_OFFLINE_SECONDS = { min: 30, max: 86_400 } as const;

const seconds = (bounds: { min: number; max: number }) => z.number().int().min(bounds.min).max(bounds.max);

export const orgSettingsSchema = z.object({
	sessionInactivitySeconds: seconds(SESSION_INACTIVITY_SECONDS),
	cameraBatchSeconds: seconds(CAMERA_BATCH_SECONDS),
	cameraOfflineSeconds: seconds(CAMERA_OFFLINE_SECONDS),
});
export type OrgSettings = z.infer<typeof orgSettingsSchema>;
/** The fields an admin set; the others follow the deployment's defaults. */
export type SetSettings = Partial<OrgSettings>;

/** What an org runs with when nothing is set and the environment sets nothing either (docs/api.md). */
export const BUILT_IN_SETTINGS: OrgSettings = { sessionInactivitySeconds: 3_600, cameraBatchSeconds: 300, cameraOfflineSeconds: 300 };

/** The fields changed (at least one), and the key or member id that changed them. */
export const settingsSet = defineEvent("org.settings_set", orgSettingsSchema.partial().extend({ setBy: z.string().max(128).nullable() }), {
	internal: true,
});

/** The deployment's defaults: the environment's values in whole seconds (at least 1), else the built-in ones. */
export function deploymentSettings(env: {
	SESSION_INACTIVITY_MS?: string;
	CAMERA_BATCH_MS?: string;
	CAMERA_OFFLINE_AFTER_MS?: string;
}): OrgSettings {
	const secondsOf = (ms: string | undefined, fallback: number) => {
		const n = Number(ms);
		return Number.isSafeInteger(n) && n > 0 ? Math.max(1, Math.round(n / 1000)) : fallback;
	};
	return {
		sessionInactivitySeconds: secondsOf(env.SESSION_INACTIVITY_MS, BUILT_IN_SETTINGS.sessionInactivitySeconds),
		cameraBatchSeconds: secondsOf(env.CAMERA_BATCH_MS, BUILT_IN_SETTINGS.cameraBatchSeconds),
		cameraOfflineSeconds: secondsOf(env.CAMERA_OFFLINE_AFTER_MS, BUILT_IN_SETTINGS.cameraOfflineSeconds),
	};
}

export const SETTINGS_EVENTS = [settingsSet] as const;
