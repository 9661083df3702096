/**
 * The dashboard page: sign in with an org API key (or through Cloudflare Access), then every view live from actor
 * sockets, each shown to the roles that open it (Settings to admins only). The org's socket
 * feeds sessions, interactions, cameras, patterns and the rate chart; sessions, cameras and the chat have
 * sockets of their own. Every socket reconnects by itself and resumes after the last seq it saw; a banner
 * says when any of them is down. docs/dashboard.md.
 */
import "../shared/base.css";
import "./dashboard.css";
import type { RoostApi } from "../shared/api.ts";
import { byId } from "../shared/dom.ts";
import { duration } from "../shared/format.ts";
import { LiveHub } from "../shared/live-hub.ts";
import { atLeast, type Me, type OrgBody, signInThen } from "../shared/sign-in.ts";
import { CamerasView } from "./cameras.ts";
import { ChatView } from "./chat.ts";
import { FeedView } from "./feed.ts";
import { OperationsView } from "./operations.ts";
import { PatternsView } from "./patterns.ts";
import { RatesView } from "./rates.ts";
import { SessionsView } from "./sessions.ts";
import { SettingsView } from "./settings.ts";

/** How far back the org's log is replayed on load: enough for a feed and a rate chart, little enough to load fast. */
const ORG_REPLAY = 500;

declare global {
	interface Window {
		/** For the browser tests and for curious people: the page's sockets and counters. */
		roostDashboard?: { sockets: () => unknown[]; reconnectAll: () => void; ratesTotal: () => number };
	}
}

async function start(api: RoostApi, org: OrgBody, me: Me): Promise<void> {
	document.title = `${org.org.name} · Roost dashboard`;

	const hub = new LiveHub(api);
	const rates = new RatesView(byId("rates"));
	const sessions = new SessionsView(byId("sessions"), api, hub);
	const feed = new FeedView(byId("feed"));
	const cameras = new CamerasView(byId("cameras"), api, hub);
	const patterns = new PatternsView(byId("patterns"), api);
	// Each view only for the roles whose routes it needs (docs/api.md, "Roles"); the API refuses the others anyway.
	if (atLeast(me, "analyst")) new ChatView(byId("chat"), api, hub);
	else for (const id of ["chat", "nav-chat"]) byId(id).remove();
	if (atLeast(me, "analyst")) new OperationsView(byId("operations"), api);
	else for (const id of ["operations", "nav-operations"]) byId(id).remove();
	if (atLeast(me, "admin")) {
		for (const id of ["settings", "nav-settings"]) byId(id).hidden = false;
		void new SettingsView(byId("settings"), api, me).load();
	} else for (const id of ["settings", "nav-settings"]) byId(id).remove();
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
	await Promise.all([
		sessions.load().catch(() => undefined),
		feed.load(api).catch(() => undefined),
		cameras.load().catch(() => undefined),
		patterns.load(),
	]);
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

signInThen(start);
