/**
 * Signing in, shared by the dashboard and the console: with an org API key, or, when the page is served behind
 * Cloudflare Access, by naming the org (the form's org field, or `?org=<id>` in the address): the browser's Access
 * cookie then makes the edge add the signed identity to every request, and the page keeps no key. `GET .../me` says
 * who the page acts as and with what role, so the views can show what that role opens. docs/dashboard.md.
 */
import { ApiError, RoostApi } from "./api.ts";
import { type Credentials, clearCredentials, loadCredentials, orgOfKey, plausibleOrg, saveCredentials } from "./credentials.ts";
import { byId } from "./dom.ts";

export interface OrgBody {
	org: { id: string; name: string };
	version: number;
}

export type Role = "admin" | "analyst" | "viewer" | "ingest";

/** Who the page acts as (GET /v1/orgs/{org}/me). */
export interface Me {
	org: string;
	role: Role;
	principal: { kind: "key"; id: string } | { kind: "member"; email: string };
	via: "key" | "access";
}

const RANK: Record<Role, number> = { ingest: 0, viewer: 1, analyst: 2, admin: 3 };

/** Whether `me` has `role` or a higher one. */
export const atLeast = (me: Me, role: Exclude<Role, "ingest">): boolean => RANK[me.role] >= RANK[role];

function showSignIn(message?: string, org?: string): void {
	byId("app").hidden = true;
	byId("sign-in").hidden = false;
	const error = byId("sign-in-error");
	error.hidden = !message;
	error.textContent = message ?? "";
	if (org) byId<HTMLInputElement>("org-field").value = org;
	byId<HTMLInputElement>("api-key").focus();
}

const meOf = (api: RoostApi) => api.get<Me>(api.orgPath("/me"));

/** Why a key did not sign in, in words. */
function keyRefusal(error: unknown): string {
	if (error instanceof ApiError && (error.status === 401 || error.status === 404))
		return "This key does not open any org (unknown or revoked).";
	if (error instanceof ApiError && error.status === 403)
		return "This is an ingest key: it only sends events in. Sign in with a viewer, analyst or admin key of the org.";
	return `Could not sign in: ${error instanceof Error ? error.message : String(error)}`;
}

/** Why naming the org did not sign in through Access, in words: no Access sign-in reached Roost, or it is not a member. */
function accessRefusal(org: string, error: unknown): string {
	if (error instanceof ApiError && error.status === 401)
		return error.message.includes("Access")
			? `Your Cloudflare Access sign-in was refused: ${error.message} Paste an API key instead.`
			: "No Cloudflare Access sign-in reached Roost (this page is not behind Access, or Access is off in Roost): paste an API key of the org.";
	if (error instanceof ApiError && error.status === 403) return `${error.message} Or paste an API key of the org.`;
	if (error instanceof ApiError && error.status === 404) return `There is no org "${org}" here.`;
	return `Could not sign in: ${error instanceof Error ? error.message : String(error)}`;
}

/** Checks the credentials with GET .../me; saves them and reloads when they open the org, else says why not. */
async function signIn(apiKey: string, orgField: string): Promise<void> {
	const key = apiKey.trim();
	const named = orgField.trim();
	let credentials: Credentials;
	if (key) {
		const org = orgOfKey(key);
		if (!org) return showSignIn("That is not a Roost API key: keys look like rk_<org>.<secret>.");
		credentials = { org, apiKey: key };
	} else if (named) {
		if (!plausibleOrg(named)) return showSignIn(`"${named}" is not an org id.`);
		credentials = { org: named, apiKey: null };
	} else {
		return showSignIn("Paste an API key, or name your org if this page is behind Cloudflare Access.");
	}
	try {
		await meOf(new RoostApi(credentials.org, credentials.apiKey));
	} catch (error) {
		return showSignIn(
			credentials.apiKey ? keyRefusal(error) : accessRefusal(credentials.org, error),
			credentials.apiKey ? undefined : named,
		);
	}
	saveCredentials(credentials);
	location.reload();
}

/** The credentials to open the page with: `?org=` names an org to open through Access unless the saved key is of that org. */
function startingCredentials(): Credentials | null {
	const saved = loadCredentials();
	const asked = new URLSearchParams(location.search).get("org")?.trim();
	if (asked && plausibleOrg(asked) && saved?.org !== asked) return { org: asked, apiKey: null };
	return saved;
}

/**
 * Wires the sign-in form, and with saved credentials (or `?org=` behind Access) opens the org: shows the app with the
 * org's name, who is signed in, and a sign-out button, then hands over to `start`. Credentials that no longer work
 * show the form again, saying why.
 */
export function signInThen(start: (api: RoostApi, org: OrgBody, me: Me) => Promise<void>): void {
	byId<HTMLFormElement>("sign-in-form").addEventListener("submit", (event) => {
		event.preventDefault();
		void signIn(byId<HTMLInputElement>("api-key").value, byId<HTMLInputElement>("org-field").value);
	});
	const credentials = startingCredentials();
	if (!credentials) {
		showSignIn();
		return;
	}
	void (async () => {
		const api = new RoostApi(credentials.org, credentials.apiKey);
		let org: OrgBody;
		let me: Me;
		try {
			[me, org] = await Promise.all([meOf(api), api.get<OrgBody>(api.orgPath())]);
		} catch (error) {
			if (!credentials.apiKey) {
				// A key saved for another org stays; only the Access sign-in that failed is forgotten.
				if (!loadCredentials()?.apiKey) clearCredentials();
				showSignIn(accessRefusal(credentials.org, error), credentials.org);
			} else if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
				clearCredentials();
				showSignIn("The saved key no longer opens its org. Sign in again.");
			} else {
				showSignIn(`Could not reach Roost: ${error instanceof Error ? error.message : String(error)}`);
			}
			return;
		}
		// Signed in through Access from the address: kept for the tab, like a key.
		saveCredentials(credentials);
		byId("sign-in").hidden = true;
		byId("app").hidden = false;
		byId("org-name").textContent = org.org.name;
		byId("org-id").textContent = org.org.id;
		const who = byId("who");
		who.textContent = `${me.principal.kind === "member" ? me.principal.email : me.principal.id} · ${me.role}`;
		who.title = me.via === "access" ? "Signed in through Cloudflare Access" : "Signed in with an API key";
		who.dataset.role = me.role;
		byId("sign-out").addEventListener("click", () => {
			clearCredentials();
			// Behind Access the browser stays signed in to Access; dropping ?org= keeps the page from opening the org again.
			location.replace(location.pathname);
		});
		await start(api, org, me);
	})();
}
