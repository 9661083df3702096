export interface LoopbackServer {
	/** e.g. http://127.0.0.1:41234, no trailing slash. */
	url: string;
	close(): Promise<void>;
}

/** Serves `/sdk/index.js` from dist/sdk, and every other URL with `page(url)` as HTML. */
export function startStaticSite(page: (url: URL) => string): Promise<LoopbackServer>;

/** Forwards every request to `target`; while `down`, drops connections as an unreachable server would. */
export function startCuttableProxy(target: string): Promise<LoopbackServer & { down: boolean }>;
