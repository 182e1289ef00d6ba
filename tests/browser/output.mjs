// usage: node output.mjs URL TASK STEP CANDIDATE
// Opens the page on task TASK, clicks cell (STEP, CANDIDATE), and reads its
// run's output a piece at a time with "Load more" until it is all there.
// Prints each piece's running byte count, then the output's first and last
// lines and its length.
import { withPage } from "./chromium.mjs";

const [url, task, step, cand] = process.argv.slice(2);
if (!cand) {
	console.error("usage: node output.mjs URL TASK STEP CANDIDATE");
	process.exit(2);
}
await withPage(async page => {
	await page.goto(new URL("/#/tasks/" + task, url).href);
	await page.click(`button.cell[data-step="${step}"][data-cand="${cand}"]`);
	await page.waitForSelector("#output[data-bytes]");
	for (;;) {
		console.log("bytes shown: " + await page.getAttribute("#output", "data-bytes"));
		const more = await page.$("#more");
		if (!more)
			break;
		const before = await page.getAttribute("#output", "data-bytes");
		await more.click();
		await page.waitForSelector(`#output:not([data-bytes="${before}"])`);
	}
	const text = await page.textContent("#output");
	const lines = text.split("\n").filter(l => l);
	console.log(`first: ${lines[0]}\nlast: ${lines[lines.length - 1]}\nlength: ${text.length}`);
});
