// usage: node live.mjs URL TASK STEP CANDIDATE STATUS
// Opens the page on task TASK, waits for its /events stream, prints
// "ready", then waits (at most 15 s: the bound is for a loaded machine, the
// time is printed) for cell (STEP, CANDIDATE) to show STATUS, as a result
// written meanwhile must make it without a reload; prints how long it took.
import { withPage } from "./chromium.mjs";

const [url, task, step, cand, want] = process.argv.slice(2);
if (!want) {
	console.error("usage: node live.mjs URL TASK STEP CANDIDATE STATUS");
	process.exit(2);
}
const cell = `button.cell[data-step="${step}"][data-cand="${cand}"]`;
await withPage(async page => {
	await page.goto(new URL("/#/tasks/" + task, url).href);
	await page.waitForSelector(cell);
	await page.waitForSelector("body[data-live=open]");
	console.log("before: " + (await page.getAttribute(cell, "data-status") || "not run"));
	console.log("ready");
	const t0 = Date.now();
	await page.waitForSelector(`${cell}[data-status="${want}"]`, { timeout: 15000 });
	console.log(`after: ${want} in ${Date.now() - t0} ms`);
	console.log("icon: " + await page.textContent(cell));
});
