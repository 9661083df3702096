/**
 * Settings (admins only; the page shows it to no other role and the API refuses them anyway): the org's API keys,
 * listed, created (the secret shown once, with a copy button, and never kept) and revoked; and its members, the
 * people who sign in through Cloudflare Access, listed, added (or given another role) and removed. Every change is an
 * org event naming who made it (GET /v1/orgs/{org}/audit). docs/dashboard.md, "Settings".
 */
import { ApiError, type RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";
import type { Me } from "../shared/sign-in.ts";

interface KeyView {
	id: string;
	label: string | null;
	role: string;
	createdAt: number;
	revokedAt: number | null;
	expiresAt: number | null;
}

interface Member {
	email: string;
	role: string;
	since: number;
}

const KEY_ROLES = ["viewer", "analyst", "admin", "ingest"] as const;
const MEMBER_ROLES = ["viewer", "analyst", "admin"] as const;
const ROLE_HINTS: Record<string, string> = {
	viewer: "viewer: reads, sockets, MCP",
	analyst: "analyst: reads, chats, rollups, sandboxes",
	admin: "admin: everything, keys and members included",
	ingest: "ingest: sends events only (web pages, cameras)",
};

const day = (ms: number): string => new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
/** yyyy-mm-dd of the local day after today: the earliest expiry the form offers. */
function tomorrow(): string {
	const d = new Date(Date.now() + 86_400_000);
	return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function select(id: string, options: readonly string[], chosen: string): HTMLSelectElement {
	const element = h("select", { id, name: id });
	for (const option of options) element.append(h("option", { value: option, selected: option === chosen }, ROLE_HINTS[option] ?? option));
	return element;
}

function field(label: string, control: HTMLElement): HTMLElement {
	return h("label", { class: "settings-field" }, h("span", {}, label), control);
}

export class SettingsView {
	readonly #error = h("p", { class: "form-error", id: "settings-error", role: "alert", hidden: true });
	readonly #secret = h("div", { class: "key-secret", id: "key-secret", hidden: true });
	readonly #keys = h("ul", { class: "settings-list", id: "keys-list" });
	readonly #members = h("ul", { class: "settings-list", id: "members-list" });
	readonly #keyLabel = h("input", { id: "key-label", name: "label", type: "text", maxlength: 100, placeholder: "office wall" });
	readonly #keyRole = select("key-role", KEY_ROLES, "viewer");
	readonly #keyExpires = h("input", { id: "key-expires", name: "expires", type: "date", min: tomorrow() });
	readonly #memberEmail = h("input", { id: "member-email", name: "email", type: "email", required: true, placeholder: "ana@example.com" });
	readonly #memberRole = select("member-role", MEMBER_ROLES, "viewer");

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
		private readonly me: Me,
	) {
		const keyForm = h(
			"form",
			{ class: "settings-form", id: "key-form", onsubmit: (event: Event) => this.#submit(event, () => this.#createKey()) },
			field("Label", this.#keyLabel),
			field("Role", this.#keyRole),
			field("Expires (optional)", this.#keyExpires),
			h("button", { type: "submit" }, "Create key"),
		);
		const memberForm = h(
			"form",
			{ class: "settings-form", id: "member-form", onsubmit: (event: Event) => this.#submit(event, () => this.#addMember()) },
			field("Email", this.#memberEmail),
			field("Role", this.#memberRole),
			h("button", { type: "submit" }, "Add member"),
		);
		replace(
			section,
			h("h2", { id: "settings-title" }, "Settings"),
			h("p", { class: "caption" }, "Admins only. Every change here is recorded in the org's log with who made it (npx roost audit)."),
			this.#error,
			h("h3", {}, "API keys"),
			h("p", { class: "caption" }, "A key's secret is shown once, when it is made: copy it then. Revoking stops it at once."),
			keyForm,
			this.#secret,
			this.#keys,
			h("h3", {}, "Members"),
			h(
				"p",
				{ class: "caption" },
				"People who sign in through Cloudflare Access, by the email Access signs in. Adding someone who is a member changes their role.",
			),
			memberForm,
			this.#members,
		);
	}

	/** Reads the keys and the members and shows them. */
	async load(): Promise<void> {
		try {
			const [{ keys }, { members }] = await Promise.all([
				this.api.get<{ keys: KeyView[] }>(this.api.orgPath("/keys")),
				this.api.get<{ members: Member[] }>(this.api.orgPath("/members")),
			]);
			this.#renderKeys(keys);
			this.#renderMembers(members);
		} catch (error) {
			this.#say(error);
		}
	}

	/** Runs a form's action with its button disabled, and says what went wrong if anything did. */
	#submit(event: Event, action: () => Promise<void>): void {
		event.preventDefault();
		const button = (event.target as HTMLFormElement).querySelector("button");
		if (button) button.disabled = true;
		this.#say(null);
		void action()
			.catch((error: unknown) => this.#say(error))
			.finally(() => {
				if (button) button.disabled = false;
			});
	}

	#say(error: unknown): void {
		this.#error.hidden = error === null;
		this.#error.textContent = error === null ? "" : error instanceof ApiError ? `${error.problem.title}: ${error.message}` : String(error);
	}

	async #createKey(): Promise<void> {
		const label = this.#keyLabel.value.trim();
		const expires = this.#keyExpires.value;
		// The start of the chosen day, in this browser's time zone.
		const expiresAt = expires ? new Date(`${expires}T00:00`).getTime() : undefined;
		if (expiresAt !== undefined && !(expiresAt > Date.now())) throw new Error("The expiry must be a day in the future.");
		const made = await this.api.post<{ apiKey: string; key: KeyView }>(this.api.orgPath("/keys"), {
			role: this.#keyRole.value,
			...(label ? { label } : {}),
			...(expiresAt === undefined ? {} : { expiresAt }),
		});
		this.#keyLabel.value = "";
		this.#keyExpires.value = "";
		this.#showSecret(made.apiKey, made.key);
		await this.load();
	}

	/** The new key's secret, once: it lives in this box until Done (or the next key), never in storage. */
	#showSecret(apiKey: string, key: KeyView): void {
		const value = h("code", { id: "key-secret-value" }, apiKey);
		const copy = h("button", { type: "button", id: "copy-key" }, "Copy");
		copy.addEventListener("click", () => {
			navigator.clipboard.writeText(apiKey).then(
				() => {
					copy.textContent = "Copied";
				},
				() => {
					// No clipboard (permission refused): select the text, for the keyboard's copy.
					getSelection()?.selectAllChildren(value);
					copy.textContent = "Press Ctrl+C (or ⌘C)";
				},
			);
		});
		const done = h("button", { type: "button", class: "quiet", onclick: () => this.#hideSecret() }, "Done");
		replace(
			this.#secret,
			h("p", {}, h("strong", {}, `New ${key.role} key ${key.label ? `“${key.label}”` : key.id}: `), "copy it now, it is not shown again."),
			value,
			h("div", { class: "key-secret-actions" }, copy, done),
		);
		this.#secret.hidden = false;
	}

	#hideSecret(): void {
		replace(this.#secret);
		this.#secret.hidden = true;
	}

	async #revoke(key: KeyView): Promise<void> {
		const mine = this.me.principal.kind === "key" && this.me.principal.id === key.id;
		const what = `${key.label ? `“${key.label}” ` : ""}(${key.id})`;
		if (
			!confirm(
				mine ? `Revoke ${what}? It is the key this page signed in with.` : `Revoke the ${key.role} key ${what}? It stops working at once.`,
			)
		)
			return;
		await this.api.delete(this.api.orgPath(`/keys/${encodeURIComponent(key.id)}`));
		if (mine) location.reload();
		else await this.load();
	}

	#renderKeys(keys: KeyView[]): void {
		const now = Date.now();
		// Live keys first, newest first; then revoked and expired ones.
		const live = (k: KeyView) => k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now);
		const sorted = [...keys].sort((a, b) => Number(live(b)) - Number(live(a)) || b.createdAt - a.createdAt);
		replace(
			this.#keys,
			...sorted.map((key) => {
				const status =
					key.revokedAt !== null
						? `revoked ${day(key.revokedAt)}`
						: !live(key)
							? "expired"
							: key.expiresAt
								? `expires ${day(key.expiresAt)}`
								: "no expiry";
				const mine = this.me.principal.kind === "key" && this.me.principal.id === key.id;
				return h(
					"li",
					{ "data-key-id": key.id, "data-live": String(live(key)), class: live(key) ? "" : "gone" },
					h("strong", { class: "name" }, key.label ?? "(no label)"),
					h("span", { class: "pill", "data-role": key.role }, key.role),
					h("code", { class: "id" }, key.id),
					h("span", { class: "status" }, `made ${day(key.createdAt)} · ${status}${mine ? " · this page's key" : ""}`),
					live(key)
						? h(
								"button",
								{ type: "button", class: "quiet revoke", onclick: () => void this.#revoke(key).catch((e: unknown) => this.#say(e)) },
								"Revoke",
							)
						: null,
				);
			}),
		);
	}

	async #addMember(): Promise<void> {
		await this.api.post(this.api.orgPath("/members"), { email: this.#memberEmail.value.trim(), role: this.#memberRole.value });
		this.#memberEmail.value = "";
		await this.load();
	}

	async #remove(member: Member): Promise<void> {
		if (!confirm(`Remove ${member.email}? Their Access sign-in opens nothing from their next request on.`)) return;
		await this.api.delete(this.api.orgPath("/members"), { email: member.email });
		await this.load();
	}

	#renderMembers(members: Member[]): void {
		if (members.length === 0) {
			replace(this.#members, h("li", { class: "empty" }, "No members yet: people sign in with keys only."));
			return;
		}
		replace(
			this.#members,
			...members.map((member) => {
				const me = this.me.principal.kind === "member" && this.me.principal.email === member.email;
				return h(
					"li",
					{ "data-email": member.email },
					h("strong", { class: "name" }, member.email),
					h("span", { class: "pill", "data-role": member.role }, member.role),
					h("span", { class: "status" }, `since ${day(member.since)}${me ? " · you" : ""}`),
					h(
						"button",
						{ type: "button", class: "quiet remove", onclick: () => void this.#remove(member).catch((e: unknown) => this.#say(e)) },
						"Remove",
					),
				);
			}),
		);
	}
}
