/**
 * Browser autocapture, opt-in: a page view on load and on every history navigation (pushState,
 * replaceState, back/forward) that changes the path or query, and a click event for every click, named
 * by the CSS path of the element acted on. Elements marked `data-roost-ignore` (and everything inside
 * them), or matching the `exclude` selector, are never captured. Text of form fields is never read.
 *
 * The DOM is reached through the small structural types below, so the SDK type-checks and runs where
 * there is no DOM (Node, workers) and its declarations need no DOM lib.
 */
import { type ClickedData, clip, LIMITS } from "./events.ts";

export interface AutocaptureOptions {
	/** Page views on load and history navigation. Default true. */
	pageViews?: boolean;
	/** Clicks with a CSS-path target. Default true. */
	clicks?: boolean;
	/** A CSS selector: clicks on matching elements, or inside them, are not captured. */
	exclude?: string;
	/** Send the clicked element's visible text (at most 256 characters). Default true. */
	clickText?: boolean;
}

export interface DomElement {
	tagName: string;
	id: string;
	classList?: { length: number; [index: number]: string } | Iterable<string>;
	parentElement: DomElement | null;
	children: ArrayLike<DomElement>;
	textContent: string | null;
	closest(selector: string): DomElement | null;
	matches(selector: string): boolean;
	getAttribute(name: string): string | null;
}

interface DomEvent {
	target: unknown;
	pageX?: number;
	pageY?: number;
}

interface BrowserWindow {
	location: { href: string; pathname: string; search: string };
	document: {
		title: string;
		referrer: string;
		readyState: string;
		visibilityState?: string;
		addEventListener(type: string, listener: (event: DomEvent) => void, options?: boolean | { capture?: boolean; once?: boolean }): void;
		removeEventListener(type: string, listener: (event: DomEvent) => void, options?: boolean | { capture?: boolean }): void;
	};
	history: { pushState: (...args: unknown[]) => void; replaceState: (...args: unknown[]) => void };
	addEventListener(type: string, listener: () => void): void;
	removeEventListener(type: string, listener: () => void): void;
	CSS?: { escape(text: string): string };
}

export function browserWindow(): BrowserWindow | undefined {
	const g = globalThis as unknown as { window?: BrowserWindow; document?: unknown };
	return g.window && g.document ? g.window : undefined;
}

export interface CaptureSink {
	page(url: string, title: string | undefined, referrer: string | undefined): void;
	click(data: ClickedData): void;
}

/** Elements a click is about: a click on the icon inside a button is a click on the button. */
const ACTIONABLE = "a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=tab],[role=menuitem],[data-roost-name]";
const FORM_FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);
const IGNORED = "[data-roost-ignore]";

/** Starts autocapture; returns the function that stops it and restores history. */
export function startAutocapture(win: BrowserWindow, options: AutocaptureOptions, sink: CaptureSink): () => void {
	const stops: (() => void)[] = [];
	if (options.pageViews !== false) stops.push(capturePageViews(win, sink));
	if (options.clicks !== false) stops.push(captureClicks(win, options, sink));
	return () => {
		for (const stop of stops.splice(0)) stop();
	};
}

function capturePageViews(win: BrowserWindow, sink: CaptureSink): () => void {
	let last: string | undefined;
	let lastHref: string | undefined;
	const view = () => {
		// Hash-only changes (in-page anchors) are not page views.
		const key = win.location.pathname + win.location.search;
		if (key === last) return;
		const referrer = lastHref ?? (win.document.referrer || undefined);
		last = key;
		lastHref = win.location.href;
		sink.page(win.location.href, win.document.title || undefined, referrer);
	};
	// A router sets the title after it pushes the URL: read both once the current task is done.
	const viewSoon = () => setTimeout(view, 0);

	const { history } = win;
	const originalPush = history.pushState;
	const originalReplace = history.replaceState;
	history.pushState = function (this: unknown, ...args: unknown[]) {
		originalPush.apply(this, args);
		viewSoon();
	};
	history.replaceState = function (this: unknown, ...args: unknown[]) {
		originalReplace.apply(this, args);
		viewSoon();
	};
	win.addEventListener("popstate", viewSoon);

	let onReady: (() => void) | undefined;
	if (win.document.readyState === "loading") {
		onReady = () => view();
		win.document.addEventListener("DOMContentLoaded", onReady, { once: true });
	} else view();

	return () => {
		history.pushState = originalPush;
		history.replaceState = originalReplace;
		win.removeEventListener("popstate", viewSoon);
		if (onReady) win.document.removeEventListener("DOMContentLoaded", onReady);
	};
}

function captureClicks(win: BrowserWindow, options: AutocaptureOptions, sink: CaptureSink): () => void {
	const exclude = options.exclude ? `${IGNORED},${options.exclude}` : IGNORED;
	const onClick = (event: DomEvent) => {
		const clicked = asElement(event.target);
		if (!clicked) return;
		try {
			if (clicked.closest(exclude)) return;
		} catch {
			// An invalid `exclude` selector: capture nothing rather than what the site meant to hide.
			return;
		}
		const element = clicked.closest(ACTIONABLE) ?? clicked;
		if (isPassword(element)) return;
		const data: ClickedData = { target: cssPath(element, win), url: clip(win.location.href, LIMITS.url) };
		if (options.clickText !== false && !FORM_FIELDS.has(element.tagName)) {
			const text = visibleText(element);
			if (text) data.text = text;
		}
		if (typeof event.pageX === "number" && typeof event.pageY === "number") {
			data.x = Math.round(event.pageX);
			data.y = Math.round(event.pageY);
		}
		sink.click(data);
	};
	win.document.addEventListener("click", onClick, { capture: true });
	return () => win.document.removeEventListener("click", onClick, { capture: true });
}

function asElement(target: unknown): DomElement | null {
	if (!target || typeof target !== "object") return null;
	const node = target as Partial<DomElement> & { nodeType?: number; parentElement?: DomElement | null };
	if (node.nodeType === 1 && typeof node.closest === "function") return node as DomElement;
	// A text node: its element.
	return node.parentElement ?? null;
}

function isPassword(element: DomElement): boolean {
	return element.tagName === "INPUT" && (element.getAttribute("type") ?? "").toLowerCase() === "password";
}

function visibleText(element: DomElement): string | undefined {
	const text = (element.getAttribute("aria-label") ?? element.textContent ?? "").replace(/\s+/g, " ").trim();
	return text ? clip(text, LIMITS.text) : undefined;
}

/**
 * A CSS selector path from the nearest ancestor with an id (or from below body) down to the element:
 * `tag#id`, else `tag.class1.class2`, plus `:nth-of-type(n)` when a sibling shares the tag.
 * Stable enough to group clicks on the same control across visits.
 */
export function cssPath(element: DomElement, win?: { CSS?: { escape(text: string): string } }): string {
	const cssEscape = (text: string) => (win?.CSS ? win.CSS.escape(text) : text.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`));
	const parts: string[] = [];
	for (let node: DomElement | null = element; node; node = node.parentElement) {
		const tag = node.tagName.toLowerCase();
		// Every element is inside body: saying so adds nothing (body itself is named when clicked).
		if ((tag === "body" || tag === "html") && parts.length > 0) break;
		if (node.id) {
			parts.unshift(`${tag}#${cssEscape(node.id)}`);
			break;
		}
		let part = tag;
		for (const name of Array.from(node.classList ?? []).slice(0, 2)) part += `.${cssEscape(name)}`;
		const siblings = node.parentElement ? Array.from(node.parentElement.children).filter((c) => c.tagName === node?.tagName) : [];
		if (siblings.length > 1) part += `:nth-of-type(${siblings.indexOf(node) + 1})`;
		parts.unshift(part);
	}
	return clipPath(parts);
}

/** Keeps the element end of a path that is too long for the server (1024 characters). */
function clipPath(parts: string[]): string {
	let path = parts.join(" > ");
	while (path.length > LIMITS.target && parts.length > 1) {
		parts.shift();
		path = parts.join(" > ");
	}
	return clip(path, LIMITS.target);
}
