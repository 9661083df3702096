/**
 * How the pages sign in, kept in the tab's session storage (it survives a reload but not the tab, and no other tab
 * or site sees it): an org API key, which names its org (`rk_<org>.<secret>`), or, behind Cloudflare Access, just
 * the org's id: the browser's Access cookie is the credential then, and the page keeps no secret at all.
 */
const KEY_STORAGE = "roost.apiKey";
const ACCESS_ORG_STORAGE = "roost.accessOrg";

export interface Credentials {
	org: string;
	/** null: signed in through Cloudflare Access, with no key. */
	apiKey: string | null;
}

/** The org a key belongs to, or null when the text is not shaped like a Roost API key. */
export function orgOfKey(apiKey: string): string | null {
	const match = /^rk_([A-Za-z0-9][A-Za-z0-9._:-]*)\.([A-Za-z0-9_-]{16,})$/.exec(apiKey.trim());
	return match?.[1] ?? null;
}

/** Whether `org` is shaped like an org id (the same characters a key's org may have). */
export function plausibleOrg(org: string): boolean {
	return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(org);
}

export function loadCredentials(): Credentials | null {
	const apiKey = sessionStorage.getItem(KEY_STORAGE);
	const org = apiKey ? orgOfKey(apiKey) : null;
	if (apiKey && org) return { org, apiKey };
	const accessOrg = sessionStorage.getItem(ACCESS_ORG_STORAGE);
	return accessOrg && plausibleOrg(accessOrg) ? { org: accessOrg, apiKey: null } : null;
}

export function saveCredentials({ org, apiKey }: Credentials): void {
	clearCredentials();
	if (apiKey) sessionStorage.setItem(KEY_STORAGE, apiKey);
	else sessionStorage.setItem(ACCESS_ORG_STORAGE, org);
}

export function clearCredentials(): void {
	sessionStorage.removeItem(KEY_STORAGE);
	sessionStorage.removeItem(ACCESS_ORG_STORAGE);
}
