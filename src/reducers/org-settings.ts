/**
 * What an org's settings mean (src/events/org-settings.ts). Pure: time and ids come in on the context. The state
 * keeps only the fields an admin set, so a field never set keeps following the deployment's default.
 */
import type { DataOf } from "../events/catalog.ts";
import type { orgCatalog } from "../events/org.ts";
import { deploymentSettings, type OrgSettings, type SetSettings } from "../events/org-settings.ts";
import type { DecideContext, Refusal } from "./definition.ts";

export type SettingsCommand = { kind: "set_settings"; settings: SetSettings; setBy: string | null };

export interface SettingsState {
	/** The fields an admin set; absent ones follow the deployment's defaults. */
	settings: SetSettings;
	/** When a setting last changed; null: never. */
	settingsSetAt: number | null;
}

export const initialSettingsState = (): SettingsState => ({ settings: {}, settingsSetAt: null });

type SettingsProposal = { id: string; type: "org.settings_set"; ts: number; data: DataOf<typeof orgCatalog, "org.settings_set"> };

const FIELDS = ["sessionInactivitySeconds", "cameraBatchSeconds", "cameraOfflineSeconds"] as const satisfies readonly (keyof OrgSettings)[];

export function decideSettings(
	command: SettingsCommand,
	state: SettingsState & { createdAt: number | null },
	context: DecideContext & { newId(): string },
): SettingsProposal[] | Refusal {
	if (state.createdAt === null) return { kind: "not_found", detail: "the org does not exist" };
	// Only what changes is recorded; setting a field to the value it already has records nothing.
	const changed: SetSettings = {};
	for (const field of FIELDS) {
		const value = command.settings[field];
		if (value !== undefined && state.settings[field] !== value) changed[field] = value;
	}
	if (Object.keys(changed).length === 0) return [];
	return [{ id: context.newId(), type: "org.settings_set", ts: context.now, data: { ...changed, setBy: command.setBy } }];
}

export function evolveSettings(state: SettingsState, event: SettingsProposal): SettingsState {
	const { setBy: _setBy, ...changed } = event.data;
	const settings: SetSettings = { ...state.settings };
	for (const field of FIELDS) if (changed[field] !== undefined) settings[field] = changed[field];
	return { settings, settingsSetAt: event.ts };
}

export type { OrgSettings, SetSettings };

/** The settings in force: what was set, over the deployment's defaults (its environment's, else the built-in ones). */
export const settingsInForce = (state: SettingsState, env: Parameters<typeof deploymentSettings>[0]): OrgSettings => ({
	...deploymentSettings(env),
	...state.settings,
});
