// Headless Chromium for the browser tests: Debian's /usr/bin/chromium,
// driven by playwright-core, in a fresh profile that nothing else shares.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync"];

// withPage(fn): fn(page) in a new browser; the browser and its profile go after
export async function withPage(fn) {
	const dir = mkdtempSync(join(process.env.BATS_TEST_TMPDIR || tmpdir(),
		"chromium-"));
	// playwright-core gives the profile as --user-data-dir=dir
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: "/usr/bin/chromium", headless: true, args: ARGS,
		viewport: { width: 1366, height: 768 }, timeout: 15000,
	});
	try {
		const page = ctx.pages()[0] || await ctx.newPage();
		// waits, not measurements: a loaded machine may take a while
		page.setDefaultTimeout(15000);
		const errors = [];
		page.on("pageerror", e => errors.push(e.message));
		await fn(page);
		if (errors.length)
			throw new Error("errors on the page: " + errors.join("; "));
	} finally {
		await ctx.close();
		rmSync(dir, { recursive: true, force: true });
	}
}
