export interface TcpProxy {
	/** e.g. http://127.0.0.1:41234, no trailing slash. */
	url: string;
	readonly isCut: boolean;
	/** Drops every open connection (sockets included) and refuses new ones until restore(). */
	cut(): void;
	restore(): void;
	close(): Promise<void>;
}

/** A byte-for-byte TCP proxy to `targetUrl` (HTTP and WebSockets alike) that can be cut. */
export function startTcpProxy(targetUrl: string): Promise<TcpProxy>;
