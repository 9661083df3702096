// Loopback servers for the browser tests, in plain JavaScript so the Worker-typed project needs no Node
// typings (static-site.d.mts declares them): a tiny site, and a proxy to the API that can be cut.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";

const bundle = new URL("../../dist/sdk/index.js", import.meta.url);

async function listen(server) {
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** Serves `/sdk/index.js` from dist/sdk, and every other URL with `page(url)` as HTML. */
export async function startStaticSite(page) {
	const server = createServer(async (req, res) => {
		const url = new URL(req.url ?? "/", "http://site");
		if (url.pathname === "/sdk/index.js") {
			res.writeHead(200, { "content-type": "text/javascript", "cache-control": "no-store" });
			res.end(await readFile(bundle));
			return;
		}
		res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
		res.end(page(url));
	});
	return listen(server);
}

/** Forwards every request to `target`; while `down`, drops connections as an unreachable server would. */
export async function startCuttableProxy(target) {
	const proxy = { down: false };
	const server = createServer(async (req, res) => {
		if (proxy.down) {
			req.socket.destroy();
			return;
		}
		const chunks = [];
		for await (const chunk of req) chunks.push(chunk);
		const headers = new Headers();
		for (const [name, value] of Object.entries(req.headers)) {
			if (typeof value === "string" && name !== "host" && name !== "connection") headers.set(name, value);
		}
		const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
		const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
		const out = {};
		answer.headers.forEach((value, name) => {
			if (name !== "content-encoding" && name !== "content-length" && name !== "transfer-encoding") out[name] = value;
		});
		res.writeHead(answer.status, out);
		res.end(Buffer.from(await answer.arrayBuffer()));
	});
	return Object.assign(proxy, await listen(server));
}
