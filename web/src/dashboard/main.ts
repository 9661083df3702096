/**
 * The dashboard page: sign in with an org API key, then every view live from actor sockets. The org's socket
 * feeds sessions, interactions, cameras, patterns and the rate chart; sessions, cameras and the chat have
 * sockets of their own. Every socket reconnects by itself and resumes after the last seq it saw; a banner
 * says when any of them is down. docs/dashboard.md.
 */
import "../shared/base.css";
import "./dashboard.css";
import { ApiError, RoostApi } from "../shared/api.ts";
import { type Credentials, clearCredentials, loadCredentials, orgOfKey, saveCredentials } from "../shared/credentials.ts";
import { byId } from "../shared/dom.ts";
import { duration } from "../shared/format.ts";
import { LiveHub } from "../shared/live-hub.ts";
import { CamerasView } from "./cameras.ts";
import { ChatView } from "./chat.ts";
import { FeedView } from "./feed.ts";
import { PatternsView } from "./patterns.ts";
import { RatesView } from "./rates.ts";
import { SessionsView } from "./sessions.ts";

/** How far back the org's log is replayed on load: enough for a feed and a rate chart, little enough to load fast. */
const ORG_REPLAY = 500;

interface OrgBody {
	org: { id: string; name: string };
	version: number;
}

declare global {
	interface Window {
		/** For the browser tests and for curious people: the page's sockets and counters. */
		roostDashboard?: { sockets: () => unknown[]; reconnectAll: () => void; ratesTotal: () => number };
	}
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
				: `Could not sign in: ${error instanceof Error ? error.message : String(error)}`,
		);
		return;
	}
	saveCredentials({ org, apiKey: apiKey.trim() });
	location.reload();
}

async function start(credentials: Credentials): Promise<void> {
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
	document.title = `${org.org.name} · Roost dashboard`;
	byId("sign-out").addEventListener("click", () => {
		clearCredentials();
		location.reload();
	});

	const hub = new LiveHub(api);
	const rates = new RatesView(byId("rates"));
	const sessions = new SessionsView(byId("sessions"), api, hub);
	const feed = new FeedView(byId("feed"));
	const cameras = new CamerasView(byId("cameras"), api, hub);
	const patterns = new PatternsView(byId("patterns"), api);
	new ChatView(byId("chat"), api, hub);
	hub.onEvent((event) => {
		if (event.actor.kind !== "chat") rates.record(event);
	});
	watchConnectivity(hub);
	window.roostDashboard = { sockets: () => hub.stats, reconnectAll: () => hub.reconnectAll(), ratesTotal: () => rates.total };

	// The org's socket first, so the status line is honest from the start; the directory read may answer before
	// or after the replay, and the sessions view takes both in either order.
	hub.open(
		{ kind: "org" },
		{
			after: Math.max(0, org.version - ORG_REPLAY),
			onEvent: (event) => {
				sessions.onOrgEvent(event);
				feed.onOrgEvent(event);
				cameras.onOrgEvent(event);
				patterns.onOrgEvent(event);
			},
		},
	);
	// A failed read leaves that view to its live events; patterns says so itself.
	await Promise.all([sessions.load().catch(() => undefined), cameras.load().catch(() => undefined), patterns.load()]);
}

/** The offline banner and the status line: live, or which sockets are down and since when. */
function watchConnectivity(hub: LiveHub): void {
	const banner = byId("offline-banner");
	const status = byId("live-status");
	let wasOffline = false;
	let backTimer: ReturnType<typeof setTimeout> | undefined;
	const update = () => {
		const { down, browserOffline, since } = hub.status;
		const offline = down.length > 0 || browserOffline;
		document.body.dataset.connection = offline ? "offline" : "online";
		if (offline) {
			clearTimeout(backTimer);
			banner.hidden = false;
			banner.dataset.state = "offline";
			const what = browserOffline ? "This browser is offline" : `Live updates are down (${down.length} of ${hub.size} connections)`;
			const howLong = since && Date.now() - since >= 2000 ? ` for ${duration(Date.now() - since)}` : "";
			banner.textContent = `${what}${howLong}. Reconnecting by itself; the views resume from the last event they saw.`;
			status.textContent = "Offline";
			status.dataset.state = "offline";
		} else {
			status.textContent = `Live · ${hub.openCount} connections`;
			status.dataset.state = hub.openCount === hub.size ? "live" : "connecting";
			if (wasOffline) {
				banner.dataset.state = "back";
				banner.textContent = "Back online: caught up with what happened meanwhile.";
				clearTimeout(backTimer);
				backTimer = setTimeout(() => {
					banner.hidden = true;
				}, 3000);
			}
		}
		wasOffline = offline;
	};
	hub.onChange(update);
	setInterval(() => {
		if (wasOffline) update();
	}, 1000);
	update();
}

const credentials = loadCredentials();
byId<HTMLFormElement>("sign-in-form").addEventListener("submit", (event) => {
	event.preventDefault();
	void signIn(byId<HTMLInputElement>("api-key").value);
});
if (credentials) void start(credentials);
else showSignIn();
