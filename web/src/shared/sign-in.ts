/**
 * Signing in with an org API key, shared by the dashboard and the console: the sign-in form, the key
 * kept in the tab's session storage, and opening the page for the org the key belongs to.
 */
import { ApiError, RoostApi } from "./api.ts";
import { clearCredentials, loadCredentials, orgOfKey, saveCredentials } from "./credentials.ts";
import { byId } from "./dom.ts";

export interface OrgBody {
	org: { id: string; name: string };
	version: number;
}

function showSignIn(message?: string): void {
	byId("app").hidden = true;
	byId("sign-in").hidden = false;
	const error = byId("sign-in-error");
	error.hidden = !message;
	error.textContent = message ?? "";
	byId<HTMLInputElement>("api-key").focus();
}

async function signIn(apiKey: string): Promise<void> {
	const org = orgOfKey(apiKey);
	if (!org) {
		showSignIn("That is not a Roost API key: keys look like rk_<org>.<secret>.");
		return;
	}
	try {
		await new RoostApi(org, apiKey.trim()).get<OrgBody>(`/v1/orgs/${encodeURIComponent(org)}`);
	} catch (error) {
		showSignIn(
			error instanceof ApiError && (error.status === 401 || error.status === 404)
				? "This key does not open any org (unknown or revoked)."
				: error instanceof ApiError && error.status === 403
					? "This is an ingest key: it only sends events in. Sign in with a full key of the org."
					: `Could not sign in: ${error instanceof Error ? error.message : String(error)}`,
		);
		return;
	}
	saveCredentials({ org, apiKey: apiKey.trim() });
	location.reload();
}

/**
 * Wires the sign-in form, and with a saved key opens the org: shows the app with the org's name and a
 * sign-out button, then hands over to `start`. A saved key that no longer works shows the form again.
 */
export function signInThen(start: (api: RoostApi, org: OrgBody) => Promise<void>): void {
	byId<HTMLFormElement>("sign-in-form").addEventListener("submit", (event) => {
		event.preventDefault();
		void signIn(byId<HTMLInputElement>("api-key").value);
	});
	const credentials = loadCredentials();
	if (!credentials) {
		showSignIn();
		return;
	}
	void (async () => {
		const api = new RoostApi(credentials.org, credentials.apiKey);
		let org: OrgBody;
		try {
			org = await api.get<OrgBody>(api.orgPath());
		} catch (error) {
			if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
				clearCredentials();
				showSignIn("The saved key no longer opens its org. Sign in again.");
			} else {
				showSignIn(`Could not reach Roost: ${error instanceof Error ? error.message : String(error)}`);
			}
			return;
		}
		byId("sign-in").hidden = true;
		byId("app").hidden = false;
		byId("org-name").textContent = org.org.name;
		byId("org-id").textContent = org.org.id;
		byId("sign-out").addEventListener("click", () => {
			clearCredentials();
			location.reload();
		});
		await start(api, org);
	})();
}
