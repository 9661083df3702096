/** A small element builder: enough DOM for the pages without a framework. Text is always set as text, never as HTML. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
	const element = document.createElement(tag);
	for (const [name, value] of Object.entries(attrs)) {
		if (value === null || value === undefined || value === false) continue;
		if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
		else if (value === true) element.setAttribute(name, "");
		else element.setAttribute(name, String(value));
	}
	append(element, ...children);
	return element;
}

export function append(parent: Node, ...children: Child[]): void {
	for (const child of children) {
		if (child === null || child === undefined || child === false) continue;
		parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
	}
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
	while (parent.firstChild) parent.removeChild(parent.firstChild);
	append(parent, ...children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
	const element = document.getElementById(id);
	if (!element) throw new Error(`#${id} is missing from the page`);
	return element as T;
}

/** Runs `fn` at most once per animation frame, however often it is asked for. */
export function perFrame(fn: () => void): () => void {
	let queued = false;
	return () => {
		if (queued) return;
		queued = true;
		requestAnimationFrame(() => {
			queued = false;
			fn();
		});
	};
}
