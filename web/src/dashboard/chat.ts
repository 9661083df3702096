/**
 * Ask about the org's data: a chat actor of this tab. A question is posted
 * (`POST /chats/{id}/messages`); the answer arrives on the chat's socket as events: `llm.started`, then
 * `llm.token` by `llm.token` (shown as they come), `llm.tool_called` / `llm.tool_result` as the model uses
 * its read tools, and one end: `chat.assistant_message`, `llm.error` or `chat.cancelled`. Cancel posts
 * `.../cancel` for the running answer. The socket replays the chat from its start, so a reload shows it all.
 */
import type { ActorSocket } from "../shared/actor-socket.ts";
import { ApiError, type EventEnvelope, type RoostApi } from "../shared/api.ts";
import { h, replace } from "../shared/dom.ts";
import type { LiveHub } from "../shared/live-hub.ts";

const CHAT_KEY = "roost.chatId";

interface Answer {
	operationId: string;
	bubble: HTMLElement;
	text: HTMLElement;
	tools: HTMLElement;
	status: HTMLElement;
	tokens: number;
	running: boolean;
	calls: Map<string, HTMLElement>;
}

export class ChatView {
	#chatId: string;
	#socket: ActorSocket | undefined;
	readonly #answers = new Map<string, Answer>();
	readonly #log: HTMLElement;
	readonly #input: HTMLTextAreaElement;
	readonly #send: HTMLButtonElement;
	readonly #cancel: HTMLButtonElement;
	readonly #error: HTMLElement;
	readonly #provider: HTMLElement;

	constructor(
		section: HTMLElement,
		private readonly api: RoostApi,
		private readonly hub: LiveHub,
	) {
		this.#chatId = sessionStorage.getItem(CHAT_KEY) ?? newChatId();
		sessionStorage.setItem(CHAT_KEY, this.#chatId);
		this.#log = h("div", { class: "chat-log", id: "chat-log", "aria-live": "polite" });
		this.#input = h("textarea", {
			id: "chat-input",
			name: "text",
			rows: 2,
			maxlength: 8000,
			required: true,
			placeholder: "e.g. What did visitors do in the last hour?",
		});
		this.#send = h("button", { type: "submit", id: "chat-send" }, "Ask");
		this.#cancel = h(
			"button",
			{ type: "button", id: "chat-cancel", class: "quiet", disabled: true, onclick: () => void this.#cancelRunning() },
			"Cancel",
		);
		this.#error = h("p", { class: "form-error", role: "alert", hidden: true });
		this.#provider = h("span", { class: "caption", id: "chat-provider" });
		const form = h(
			"form",
			{ class: "chat-form", id: "chat-form" },
			h("label", { for: "chat-input", class: "visually-hidden" }, "Question"),
			this.#input,
			h("div", { class: "chat-actions" }, this.#send, this.#cancel),
		);
		form.addEventListener("submit", (event) => {
			event.preventDefault();
			void this.#ask();
		});
		this.#input.addEventListener("keydown", (event) => {
			if (event.key === "Enter" && !event.shiftKey) {
				event.preventDefault();
				form.requestSubmit();
			}
		});
		replace(
			section,
			h(
				"div",
				{ class: "chat-head" },
				h("h2", { id: "chat-title" }, "Ask"),
				h("button", { type: "button", class: "quiet", id: "chat-new", onclick: () => this.#newChat() }, "New chat"),
			),
			h(
				"p",
				{ class: "caption" },
				"Questions about this org's data. The answer streams as it is written; tool calls show as they happen. ",
				this.#provider,
			),
			this.#log,
			this.#error,
			form,
		);
		this.#open();
	}

	#open(): void {
		replace(this.#log, h("p", { class: "empty" }, "No question yet."));
		this.#answers.clear();
		this.#socket = this.hub.open({ kind: "chats", id: this.#chatId }, { onEvent: (event) => this.#onEvent(event) });
	}

	#newChat(): void {
		this.hub.close(this.#socket);
		this.#chatId = newChatId();
		sessionStorage.setItem(CHAT_KEY, this.#chatId);
		this.#updateButtons();
		this.#open();
	}

	async #ask(): Promise<void> {
		const text = this.#input.value.trim();
		if (!text) return;
		this.#error.hidden = true;
		this.#send.disabled = true;
		try {
			await this.api.post(this.api.actorPath({ kind: "chats", id: this.#chatId }, "/messages"), {
				text,
				clientActionId: crypto.randomUUID(),
			});
			this.#input.value = "";
		} catch (error) {
			this.#showError(`Could not ask: ${error instanceof ApiError ? error.message : String(error)}`);
		} finally {
			this.#send.disabled = false;
		}
	}

	async #cancelRunning(): Promise<void> {
		const running = [...this.#answers.values()].filter((answer) => answer.running);
		this.#cancel.disabled = true;
		for (const answer of running) {
			try {
				await this.api.post(this.api.actorPath({ kind: "chats", id: this.#chatId }, "/cancel"), { operationId: answer.operationId });
			} catch (error) {
				this.#showError(`Could not cancel: ${error instanceof ApiError ? error.message : String(error)}`);
			}
		}
		this.#updateButtons();
	}

	#onEvent(event: EventEnvelope): void {
		const d = event.data as Record<string, unknown>;
		const operationId = String(d.operationId ?? "");
		switch (event.type) {
			case "chat.user_message": {
				this.#log.querySelector(".empty")?.remove();
				this.#log.append(h("div", { class: "msg msg-user", "data-message": String(d.messageId) }, String(d.text)));
				this.#answerFor(operationId).status.textContent = "waiting…";
				break;
			}
			case "llm.started": {
				const answer = this.#answerFor(operationId);
				answer.running = true;
				answer.status.textContent = "answering…";
				const provider = String(d.provider);
				answer.bubble.dataset.provider = provider;
				this.#provider.textContent =
					provider === "offline" ? "Answers here come from the offline responder: no model is configured." : `Model: ${String(d.model)}.`;
				break;
			}
			case "llm.token": {
				const answer = this.#answerFor(operationId);
				answer.text.append(String(d.text));
				answer.tokens++;
				answer.bubble.dataset.tokens = String(answer.tokens);
				break;
			}
			case "llm.tool_called": {
				const answer = this.#answerFor(operationId);
				const call = h(
					"li",
					{ class: "tool running", "data-tool": String(d.toolName) },
					h("code", {}, `${String(d.toolName)}(${compact(d.input)})`),
					h("span", { class: "tool-result" }, " running…"),
				);
				answer.calls.set(String(d.toolCallId), call);
				answer.tools.append(call);
				break;
			}
			case "llm.tool_result": {
				const call = this.#answerFor(operationId).calls.get(String(d.toolCallId));
				if (call) {
					call.classList.remove("running");
					const result = call.querySelector(".tool-result");
					if (result) result.textContent = d.error ? ` failed: ${String(d.error)}` : ` → ${summarize(d.output)}`;
				}
				break;
			}
			case "chat.assistant_message": {
				const answer = this.#answerFor(operationId);
				answer.text.textContent = String(d.text);
				this.#finish(answer, "done", "");
				break;
			}
			case "llm.error": {
				const answer = this.#answerFor(operationId);
				if (d.retrying) {
					// The answer starts again: the text so far is dropped.
					answer.text.textContent = "";
					answer.status.textContent = `retrying after an error: ${String(d.message)}`;
				} else {
					this.#finish(answer, "failed", `failed: ${String(d.message)}`);
				}
				break;
			}
			case "chat.cancelled":
				this.#finish(this.#answerFor(operationId), "cancelled", "cancelled");
				break;
			default:
				return;
		}
		this.#log.scrollTop = this.#log.scrollHeight;
		this.#updateButtons();
	}

	#answerFor(operationId: string): Answer {
		const known = this.#answers.get(operationId);
		if (known) return known;
		const text = h("div", { class: "answer-text" });
		const tools = h("ul", { class: "tools", "aria-label": "Tool calls" });
		const status = h("p", { class: "answer-status caption" });
		// Busy while it streams, so a screen reader reads the answer once it is whole, not word by word.
		const bubble = h(
			"div",
			{ class: "msg msg-assistant", "data-operation": operationId, "data-state": "running", "aria-busy": "true" },
			tools,
			text,
			status,
		);
		this.#log.append(bubble);
		const answer: Answer = { operationId, bubble, text, tools, status, tokens: 0, running: true, calls: new Map() };
		this.#answers.set(operationId, answer);
		return answer;
	}

	#finish(answer: Answer, state: string, status: string): void {
		answer.running = false;
		answer.bubble.dataset.state = state;
		answer.bubble.setAttribute("aria-busy", "false");
		answer.status.textContent = status;
	}

	#updateButtons(): void {
		this.#cancel.disabled = ![...this.#answers.values()].some((answer) => answer.running);
	}

	#showError(message: string): void {
		this.#error.textContent = message;
		this.#error.hidden = false;
	}
}

const newChatId = () => `dash-${crypto.randomUUID()}`;

function compact(value: unknown): string {
	const text = JSON.stringify(value ?? {});
	return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** A tool's output in a few words: how many items it returned, or its size. */
function summarize(output: unknown): string {
	if (Array.isArray(output)) return `${output.length} items`;
	if (output && typeof output === "object") {
		for (const [key, value] of Object.entries(output)) if (Array.isArray(value)) return `${value.length} ${key}`;
		return `${Object.keys(output).length} fields`;
	}
	return compact(output);
}
