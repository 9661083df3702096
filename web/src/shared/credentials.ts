/**
 * The org API key the pages sign in with. It lives in the tab's session storage: it survives a reload but
 * not the tab, and no other tab or site sees it. An API key names its org: `rk_<org>.<secret>`.
 */
const STORAGE_KEY = "roost.apiKey";

export interface Credentials {
	org: string;
	apiKey: string;
}

/** The org a key belongs to, or null when the text is not shaped like a Roost API key. */
export function orgOfKey(apiKey: string): string | null {
	const match = /^rk_([A-Za-z0-9][A-Za-z0-9._:-]*)\.([A-Za-z0-9_-]{16,})$/.exec(apiKey.trim());
	return match?.[1] ?? null;
}

export function loadCredentials(): Credentials | null {
	const apiKey = sessionStorage.getItem(STORAGE_KEY);
	const org = apiKey ? orgOfKey(apiKey) : null;
	return apiKey && org ? { org, apiKey } : null;
}

export function saveCredentials({ apiKey }: Credentials): void {
	sessionStorage.setItem(STORAGE_KEY, apiKey);
}

export function clearCredentials(): void {
	sessionStorage.removeItem(STORAGE_KEY);
}
