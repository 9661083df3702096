#!/usr/bin/env node
// Builds the web pages (web/src/<page>/) into web/dist, which the Worker serves as static assets
// (wrangler.jsonc "assets"). Each page is one HTML file and one script bundle (plus the CSS its script
// imports); pages share code through web/src/shared/. To add a page, add an entry to PAGES.
//   node web/build.mjs            build once (npm run build:web; npm start and npm test run it first)
//   node web/build.mjs --watch    rebuild on change
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { context } from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here("./dist/");

/** Each page: its entry script, its HTML, and the paths it is served at (`x.html` is served at `/x`). */
const PAGES = [
	{ name: "dashboard", script: "src/dashboard/main.ts", html: "src/dashboard/index.html", servedAs: ["index.html", "dashboard.html"] },
	{ name: "console", script: "src/console/main.ts", html: "src/console/index.html", servedAs: ["console.html"] },
];

const watch = process.argv.includes("--watch");

await rm(out, { recursive: true, force: true });
await mkdir(`${out}assets`, { recursive: true });

const ctx = await context({
	entryPoints: Object.fromEntries(PAGES.map((page) => [page.name, here(page.script)])),
	outdir: `${out}assets`,
	bundle: true,
	format: "esm",
	platform: "browser",
	target: "es2022",
	minify: !watch,
	sourcemap: true,
	logLevel: "warning",
	legalComments: "linked",
});

async function writePages() {
	for (const page of PAGES) {
		const html = await readFile(here(page.html), "utf8");
		for (const name of page.servedAs) await writeFile(`${out}${name}`, html);
	}
	await cp(here("./static/"), out, { recursive: true });
}

if (watch) {
	await ctx.watch();
	await writePages();
	console.log("web: watching web/src; pages rebuild into web/dist");
} else {
	await ctx.rebuild();
	await ctx.dispose();
	await writePages();
}
