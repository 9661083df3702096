/**
 * The replay and debug console (`/console`): pick any actor of the org, page through its log, move through
 * its versions and see the state at each and the diff each event made, the stored event beside its upcast
 * form, chain verification, the what-if replay, NDJSON export, import into a sandbox and fork at a version.
 * The address says what is open: `/console#sessions/<id>@<version>` (or `#org@<version>`). Two more views cover
 * the org's operations: its parked work (`#parked`) and its webhook deliveries (`#webhooks/<endpoint id>`).
 * docs/console.md.
 */
import "../shared/base.css";
import "./console.css";
import { uuidv7 } from "uuidv7";
import {
	type ActorPath,
	actorApiPath,
	actorLabel,
	parseActor,
	type Segment,
	segmentOfKind,
	segments,
	spokenList,
} from "../../../src/cli/actors.ts";
import { checkChain, type ExportedEvent, parseNdjson, toNdjsonLine } from "../../../src/cli/chain.ts";
import { ActorSocket } from "../shared/actor-socket.ts";
import { ApiError, type RoostApi } from "../shared/api.ts";
import { byId, h } from "../shared/dom.ts";
import { atLeast, type Me, signInThen } from "../shared/sign-in.ts";
import { ActorHead } from "./actor-head.ts";
import { ActorLog } from "./actor-log.ts";
import { DiffView, StateView } from "./diff-view.ts";
import { EventView } from "./event-view.ts";
import { LogTable } from "./log-table.ts";
import { ParkedView } from "./parked-view.ts";
import { Picker, rememberActor } from "./picker.ts";
import { type ReplayReport, ReplayView } from "./replay-view.ts";
import { Scrubber } from "./scrubber.ts";
import { WebhooksView } from "./webhooks-view.ts";

/** The server takes at most 1000 events and 8 MiB per import request. */
const IMPORT_CHUNK_EVENTS = 1000;
const IMPORT_CHUNK_CHARS = 4 * 1024 * 1024;

interface ChainReport {
	ok: boolean;
	version: number;
	headHash: string;
	brokenAt?: number;
	reason?: string;
}

declare global {
	interface Window {
		/** For the browser tests and for curious people: what is open and at which version. */
		roostConsole?: { current: () => { actor: string; ready: boolean; version: number; max: number; brokenAt: number | null } | null };
	}
}

/** `#sessions/<id>@12` → the actor and version; null when the address names nothing. */
function parseAddress(hash: string): { actor: ActorPath; version?: number } | null {
	const match = /^#?([^@]+)(?:@(\d+))?$/.exec(decodeURIComponent(hash));
	if (!match?.[1]) return null;
	const actor = parseActor(match[1]);
	return actor ? { actor, version: match[2] === undefined ? undefined : Number(match[2]) } : null;
}

const addressOf = (actor: ActorPath, version: number) => `#${actorLabel(actor)}@${version}`;

type View = "actors" | "parked" | "webhooks";

/** `#parked`, `#webhooks` or `#webhooks/<endpoint id>`; null for an actor's address (or none). */
function viewAddress(hash: string): { view: "parked" } | { view: "webhooks"; webhook: string | null } | null {
	if (hash === "#parked") return { view: "parked" };
	const match = /^#webhooks(?:\/(.+))?$/.exec(hash);
	return match ? { view: "webhooks", webhook: match[1] ? decodeURIComponent(match[1]) : null } : null;
}

/** Everything about the actor that is open. */
class OpenActor {
	readonly log: ActorLog;
	readonly table: LogTable;
	version = 0;
	/** Its version is read and the first version shown. */
	ready = false;
	brokenAt: number | null = null;
	socket: ActorSocket | undefined;
	#ticket = 0;

	constructor(
		readonly actor: ActorPath,
		readonly page: ConsolePage,
	) {
		this.log = new ActorLog(page.api, actor);
		this.table = new LogTable(byId("log"), this.log, (seq) => void this.show(seq));
	}

	async start(version: number | undefined): Promise<void> {
		await this.log.refresh();
		const page = this.page;
		page.scrubber.setMax(this.log.version);
		page.scrubber.markBroken(null);
		page.head.show(this.actor, this.log.version, null);
		page.head.status("info", "");
		await this.show(version ?? this.log.version);
		this.ready = true;
		this.socket = new ActorSocket(page.api, this.actor, {
			after: this.log.version,
			onEvent: (event) => {
				const following = this.version === this.log.version;
				this.log.grow(event.seq);
				page.scrubber.setMax(this.log.version);
				page.head.show(this.actor, this.log.version, event.hash);
				if (following) void this.show(this.log.version);
				else void this.table.refresh();
			},
		});
	}

	close(): void {
		this.socket?.close();
	}

	/** Moves to `version`: the event that made it, the diff it made, the state after it. */
	async show(version: number): Promise<void> {
		const page = this.page;
		const v = Math.max(0, Math.min(Number.isFinite(version) ? Math.trunc(version) : 0, this.log.version));
		const ticket = ++this.#ticket;
		this.version = v;
		page.scrubber.show(v);
		page.head.forkAt(v);
		history.replaceState(null, "", addressOf(this.actor, v));
		void this.table.follow(v);
		try {
			if (v === 0) {
				page.event.showNone();
				page.diff.showNone();
				page.state.show(0, await this.log.stateAt(0));
				return;
			}
			const raw = await this.log.raw(v);
			const before = await this.log.stateAt(v - 1);
			const after = await this.log.stateAt(v);
			if (ticket !== this.#ticket) return;
			page.event.show(raw, this.log.upcast(raw), this.brokenAt === v);
			page.diff.show(v, raw.type, before, after);
			page.state.show(v, after);
		} catch (error) {
			if (ticket === this.#ticket) page.notice(`Could not show version ${v}: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	async verify(): Promise<void> {
		const { head } = this.page;
		head.status("busy", "Verifying the hash chain on the server…");
		const report = await this.page.api.get<ChainReport>(this.log.path("/verify"));
		this.brokenAt = report.ok ? null : (report.brokenAt ?? null);
		this.page.scrubber.markBroken(this.brokenAt);
		this.table.markBroken(this.brokenAt);
		head.show(this.actor, this.log.version, report.headHash);
		if (report.ok) {
			head.status("ok", `Chain verified: all ${report.version} events hash as stored, head ${report.headHash.slice(0, 16)}…`);
		} else {
			const broken = this.brokenAt;
			head.status(
				"bad",
				"Chain broken at ",
				broken === null
					? "an unknown seq"
					: h("button", { type: "button", class: "link", id: "broken-seq", onclick: () => void this.show(broken) }, `seq ${broken}`),
				`: ${report.reason ?? "the hashes do not match"}. Events from there on cannot be trusted.`,
			);
			if (broken !== null) await this.show(broken);
		}
	}

	async exportLog(): Promise<void> {
		const { head } = this.page;
		const total = this.log.version;
		const lines: string[] = [];
		for (let after = 0; after < total; ) {
			head.status("busy", `Exporting… ${after} of ${total} events`);
			const page = await this.page.api.get<{ events: ExportedEvent[]; next: number | null }>(this.log.path("/events"), {
				after,
				limit: 1000,
				raw: "true",
			});
			for (const event of page.events) if (event.seq <= total) lines.push(toNdjsonLine(event));
			if (page.next === null || page.events.length === 0) break;
			after = page.next;
		}
		const name = `${this.actor.kind === "org" ? `org-${this.page.api.org}` : `${this.actor.kind}-${this.actor.id}`}.ndjson`;
		const url = URL.createObjectURL(new Blob(lines, { type: "application/x-ndjson" }));
		const link = h("a", { href: url, download: name, id: "export-link" }, `Download ${name}`);
		head.status("ok", `Exported ${lines.length} events as stored (raw, with their hashes). `, link);
		link.click();
		setTimeout(() => URL.revokeObjectURL(url), 60_000);
	}

	async fork(): Promise<void> {
		const { head } = this.page;
		const at = this.version;
		head.status("busy", `Forking at version ${at}…`);
		const result = await this.page.api.post<{ actor: { id: string }; version: number }>(this.log.path("/fork"), { at });
		const sandbox: ActorPath = { kind: this.actor.kind as Segment, id: result.actor.id };
		await this.page.open(sandbox, { version: result.version, push: true });
		this.page.head.status("ok", `Forked ${actorLabel(this.actor)} at version ${at} into this sandbox.`);
	}

	/** The events of this actor whose meta has `key` = `value` (loads the whole log once). */
	async findMeta(key: string, value: string): Promise<ExportedEvent[]> {
		const events = await this.log.range(0, this.log.version, (seq) =>
			this.page.head.status("busy", `Reading the log… ${seq} of ${this.log.version}`),
		);
		this.page.head.status("info", "");
		return events.filter((e) => (e.meta as Record<string, string>)[key] === value);
	}
}

class ConsolePage {
	readonly head: ActorHead;
	readonly scrubber: Scrubber;
	readonly event: EventView;
	readonly diff: DiffView;
	readonly state: StateView;
	readonly replay: ReplayView;
	readonly picker: Picker;
	readonly parked: ParkedView;
	readonly webhooks: WebhooksView;
	current: OpenActor | undefined;
	#view: View = "actors";

	constructor(
		readonly api: RoostApi,
		me: Me,
	) {
		this.head = new ActorHead(byId("actor-head"), {
			verify: () => this.#run(() => this.current?.verify()),
			replay: () => this.#run(() => this.#replay()),
			exportLog: () => this.#run(() => this.current?.exportLog()),
			fork: () => this.#run(() => this.current?.fork()),
			importFile: (file) => this.#run(() => this.#import(file)),
		});
		this.scrubber = new Scrubber(byId("scrubber"), (version) => void this.current?.show(version));
		this.event = new EventView(byId("event"), {
			followCause: (actor, eventId, from) => void this.#run(() => this.#followCause(actor, eventId, from)),
			findMeta: (key, value) => this.current?.findMeta(key, value) ?? Promise.resolve([]),
			goTo: (seq) => void this.current?.show(seq),
		});
		this.diff = new DiffView(byId("diff"));
		this.state = new StateView(byId("state"));
		this.replay = new ReplayView(byId("replay"), (version) => void this.current?.show(version));
		this.picker = new Picker(byId("picker"), api, (actor) => void this.open(actor, { push: true }));
		this.parked = new ParkedView(byId("parked"), api, me);
		this.webhooks = new WebhooksView(byId("webhooks"), api, me);
		// A view the role cannot read is left out of the navigation; its address still says why it is empty.
		if (!atLeast(me, "analyst")) byId("nav-parked").hidden = true;
		if (!atLeast(me, "admin")) byId("nav-webhooks").hidden = true;
		// Actors goes back to the open actor at the version it is at now (the link's href is set when the view is left).
		byId("nav-actors").addEventListener("click", (event) => {
			const current = this.current;
			if (!current) return;
			event.preventDefault();
			if (this.#view !== "actors") location.hash = addressOf(current.actor, current.version);
		});
		// Typed addresses fire hashchange; back and forward over the entries the console pushed fire popstate.
		addEventListener("hashchange", () => void this.#fromAddress());
		addEventListener("popstate", () => void this.#fromAddress());
		window.roostConsole = {
			current: () =>
				this.current
					? {
							actor: actorLabel(this.current.actor),
							ready: this.current.ready,
							version: this.current.version,
							max: this.current.log.version,
							brokenAt: this.current.brokenAt,
						}
					: null,
		};
	}

	async start(orgVersion: number): Promise<void> {
		void this.picker.load(orgVersion);
		await this.#fromAddress();
	}

	notice(text: string | null): void {
		const notice = byId("notice");
		notice.hidden = !text;
		notice.textContent = text ?? "";
	}

	async open(actor: ActorPath, options: { version?: number; push?: boolean } = {}): Promise<void> {
		this.#show("actors");
		this.notice(null);
		this.current?.close();
		this.replay.hide();
		byId("nothing-open").hidden = true;
		byId("workspace").hidden = false;
		this.picker.select(actor);
		rememberActor(actor);
		if (options.push) history.pushState(null, "", addressOf(actor, options.version ?? 0));
		document.title = `${actorLabel(actor)} · Roost console`;
		const opened = new OpenActor(actor, this);
		this.current = opened;
		try {
			await opened.start(options.version);
		} catch (error) {
			this.notice(`Could not open ${actorLabel(actor)}: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	/** Shows one view: the actor picker and the open actor, the parked work, or the webhook deliveries. */
	#show(view: View): void {
		if (view !== "webhooks") this.webhooks.hide();
		this.#view = view;
		byId("picker").hidden = view !== "actors";
		byId("actors-view").hidden = view !== "actors";
		byId("parked").hidden = view !== "parked";
		byId("webhooks").hidden = view !== "webhooks";
		for (const link of document.querySelectorAll<HTMLAnchorElement>("nav.views a")) {
			if (link.dataset.view === view) link.setAttribute("aria-current", "page");
			else link.removeAttribute("aria-current");
		}
		// Back to the actor that was open, at the version it was at.
		const current = this.current;
		byId<HTMLAnchorElement>("nav-actors").href = current ? addressOf(current.actor, current.version) : "#actors";
		if (view === "parked") document.title = "Parked work · Roost console";
		if (view === "webhooks") document.title = "Webhook deliveries · Roost console";
		if (view === "actors") document.title = current ? `${actorLabel(current.actor)} · Roost console` : "Roost console";
	}

	async #fromAddress(): Promise<void> {
		const view = viewAddress(location.hash);
		if (view?.view === "parked") {
			this.#show("parked");
			await this.parked.load(true);
			return;
		}
		if (view?.view === "webhooks") {
			this.#show("webhooks");
			await this.webhooks.show(view.webhook);
			return;
		}
		const address = parseAddress(location.hash);
		if (this.#view !== "actors") this.#show("actors");
		if (!address) return;
		const current = this.current;
		if (current && actorLabel(current.actor) === actorLabel(address.actor)) {
			if (address.version !== undefined && address.version !== current.version) await current.show(address.version);
			return;
		}
		await this.open(address.actor, { version: address.version });
	}

	async #replay(): Promise<void> {
		if (!this.current) return;
		this.replay.busy();
		try {
			this.replay.show(await this.api.get<ReplayReport>(this.current.log.path("/replay")));
		} catch (error) {
			this.replay.failed(error instanceof Error ? error.message : String(error));
		}
	}

	async #followCause(actor: ActorPath, eventId: string | undefined, from: ExportedEvent): Promise<void> {
		let seq: number | undefined;
		if (eventId) {
			const page = await this.api.get<{ events: ExportedEvent[] }>(actorApiPath(this.api.org, actor, "/events"), { id: eventId });
			seq = page.events[0]?.seq;
		}
		await this.open(actor, { version: seq, push: true });
		if (eventId && seq === undefined) {
			this.notice(
				`${actorLabel(actor)} has no event with id ${eventId}: the sender of the message behind #${from.seq} did not name the event that caused it, so the message id stands in for it. Showing ${actorLabel(actor)} at its latest version.`,
			);
		}
	}

	/** Imports an NDJSON export into a new sandbox of its kind, after checking its chain here. */
	async #import(file: File): Promise<void> {
		const events = parseNdjson(await file.text());
		if (events.length === 0) throw new Error(`${file.name} holds no events`);
		const chain = checkChain(events);
		if (!chain.ok) throw new Error(`${file.name}: the chain breaks at seq ${chain.brokenAt} (${chain.reason}); nothing was imported`);
		const fileKind = events[0]?.actor?.kind;
		const segment: Segment | undefined = fileKind
			? segmentOfKind(fileKind)
			: this.current && this.current.actor.kind !== "org"
				? this.current.actor.kind
				: undefined;
		if (!segment)
			throw new Error(`Only the log of one of the org's ${spokenList(segments("console"))} can be imported: sandboxes are of those kinds.`);
		const sandbox: ActorPath = { kind: segment, id: `sandbox-${uuidv7()}` };
		const path = actorApiPath(this.api.org, sandbox, "/import");
		let chunk: ExportedEvent[] = [];
		let chars = 0;
		let sent = 0;
		const send = async () => {
			if (chunk.length === 0) return;
			this.head.status("busy", `Importing into ${actorLabel(sandbox)}… ${sent} of ${events.length}`);
			await this.api.post(path, { events: chunk.map(({ actor: _actor, ...event }) => event) });
			sent += chunk.length;
			chunk = [];
			chars = 0;
		};
		for (const event of events) {
			const size = JSON.stringify(event).length;
			if (chunk.length >= IMPORT_CHUNK_EVENTS || (chunk.length > 0 && chars + size > IMPORT_CHUNK_CHARS)) await send();
			chunk.push(event);
			chars += size;
		}
		await send();
		await this.open(sandbox, { version: events.length, push: true });
		this.head.status(
			"ok",
			`Imported ${events.length} events of ${file.name} into this sandbox; its chain is the file's (head ${chain.headHash.slice(0, 16)}…).`,
		);
	}

	#run(task: () => Promise<void> | undefined): void {
		Promise.resolve()
			.then(task)
			.catch((error) => {
				const message =
					error instanceof ApiError
						? `${error.status} ${error.problem.title}: ${error.message}`
						: error instanceof Error
							? error.message
							: String(error);
				this.head.status("bad", message);
			});
	}
}

signInThen(async (api, org, me) => {
	await new ConsolePage(api, me).start(org.version);
});
