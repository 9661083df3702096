/**
 * The pattern analyzer's container app: a plain Node HTTP server (Node 24 runs this TypeScript
 * directly). GET /health, POST /analyze. It runs the same detection code as the Worker.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { analyze, checkAnalyzeRequest } from "../../src/patterns/analyzer.ts";

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const started = Date.now();
let analysed = 0;

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
	res.writeHead(status, { "content-type": type });
	res.end(JSON.stringify(body));
}

function problem(res: ServerResponse, status: number, title: string, detail: string, errors?: { path: string; message: string }[]): void {
	send(res, status, { type: "about:blank", title, status, detail, ...(errors ? { errors } : {}) }, "application/problem+json");
}

async function readBody(req: IncomingMessage): Promise<string | null> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES) return null;
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks).toString("utf8");
}

export const server = createServer(async (req, res) => {
	const url = new URL(req.url ?? "/", "http://analyzer");
	if (req.method === "GET" && url.pathname === "/health") {
		send(res, 200, { ok: true, uptimeMs: Date.now() - started, analysed });
		return;
	}
	if (req.method === "POST" && url.pathname === "/analyze") {
		const text = await readBody(req);
		if (text === null) return problem(res, 413, "Too large", `The body may be at most ${MAX_BODY_BYTES} bytes.`);
		let body: unknown;
		try {
			body = JSON.parse(text);
		} catch {
			return problem(res, 400, "Invalid input", "The body is not valid JSON.", [{ path: "(body)", message: "not JSON" }]);
		}
		const checked = checkAnalyzeRequest(body);
		if (!checked.ok) return problem(res, 400, "Invalid input", checked.message, [{ path: checked.path, message: checked.message }]);
		analysed++;
		send(res, 200, analyze(checked.request, "pattern-analyzer-container"));
		return;
	}
	problem(res, 404, "Not found", `No route for ${req.method} ${url.pathname}.`);
});

const port = Number(process.env.PORT ?? 8080);
server.listen(port, process.env.HOST ?? "0.0.0.0", () => {
	console.log(`pattern analyzer listening on ${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
