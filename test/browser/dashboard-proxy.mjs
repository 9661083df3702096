// A TCP proxy in front of the Worker for the dashboard tests, in plain JavaScript so the Worker-typed project
// needs no Node typings (dashboard-proxy.d.mts declares it). It passes bytes through untouched, so HTTP and
// WebSockets both work; cut() drops every open connection and refuses new ones, as a network that went away
// would, until restore().
import { connect, createServer } from "node:net";

export async function startTcpProxy(targetUrl) {
	const target = new URL(targetUrl);
	const open = new Set();
	let cut = false;
	const server = createServer((client) => {
		if (cut) {
			client.destroy();
			return;
		}
		const upstream = connect(Number(target.port), target.hostname);
		const pair = { client, upstream };
		open.add(pair);
		const end = () => {
			open.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		client.on("error", end).on("close", end);
		upstream.on("error", end).on("close", end);
		client.pipe(upstream);
		upstream.pipe(client);
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		get isCut() {
			return cut;
		},
		cut() {
			cut = true;
			for (const { client, upstream } of open) {
				client.destroy();
				upstream.destroy();
			}
			open.clear();
		},
		restore() {
			cut = false;
		},
		close: () =>
			new Promise((resolve) => {
				for (const { client, upstream } of open) {
					client.destroy();
					upstream.destroy();
				}
				server.close(() => resolve());
			}),
	};
}
