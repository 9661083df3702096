/**
 * Launches the Chromium the browser tests drive: Debian's /usr/bin/chromium, or the one CHROMIUM_PATH names.
 * When that file is missing the tests fail with one line saying what to install, not playwright's launch trace.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export function chromiumPath(): string {
	const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
	if (!existsSync(path)) {
		const message = `No Chromium at ${path}: install it (\`apt install chromium\`) or set CHROMIUM_PATH to another Chromium's executable.`;
		const error = new Error(message);
		error.stack = message; // one line: where it was thrown from says nothing useful here
		throw error;
	}
	return path;
}

export function launchChromium(): Promise<Browser> {
	return chromium.launch({
		executablePath: chromiumPath(),
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
	});
}
