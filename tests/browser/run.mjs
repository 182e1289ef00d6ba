// usage: node run.mjs URL TASK STEP CANDIDATE TOKEN
// Opens the page on task TASK and prints its step tree; with the keyboard
// only, presses "Run task", leaves the token empty and prints what the page
// says; then runs again with TOKEN and waits (at most 30 s) for the job to
// finish and cell (STEP, CANDIDATE) to be graded.
import { withPage } from "./chromium.mjs";

const [url, task, step, cand, token] = process.argv.slice(2);
if (!token) {
	console.error("usage: node run.mjs URL TASK STEP CANDIDATE TOKEN");
	process.exit(2);
}
const cell = `button.cell[data-step="${step}"][data-cand="${cand}"]`;
const status = "#run-status";

// Tab from the page's start to the Run button, as a keyboard user would
async function tabTo(page, selector) {
	await page.evaluate(() => document.activeElement && document.activeElement.blur());
	for (let i = 0; i < 60; i++) {
		await page.keyboard.press("Tab");
		if (await page.evaluate(s => document.activeElement ===
			document.querySelector(s), selector))
			return;
	}
	throw new Error("Tab never reached " + selector);
}

await withPage(async page => {
	await page.goto(new URL("/#/tasks/" + task, url).href);
	await page.waitForSelector(cell);
	await page.waitForSelector("body[data-live=open]");
	await page.waitForSelector("#steps li");
	for (const li of await page.$$("#steps li"))
		console.log("step: " + (await li.evaluate(e => e.firstChild.textContent +
			[...e.children].filter(c => c.tagName === "SPAN")
				.map(c => c.textContent).join(" "))).replace(/\s+/g, " ").trim());
	console.log("before: " + (await page.getAttribute(cell, "data-status") || "not run"));
	// without the token: the form, left empty
	await tabTo(page, "#run-task");
	await page.keyboard.press("Enter");
	await page.waitForSelector("#token-form:not([hidden])");
	if (!await page.evaluate(() => document.activeElement.id === "token"))
		throw new Error("the token field has no focus");
	await page.keyboard.press("Enter");
	await page.waitForSelector(`${status}.error`);
	console.log("without the token: " + await page.textContent(status));
	console.log("cell: " + (await page.getAttribute(cell, "data-status") || "not run"));
	// with it
	await tabTo(page, "#run-task");
	await page.keyboard.press("Enter");
	await page.waitForSelector("#token-form:not([hidden])");
	await page.keyboard.type(token);
	await page.keyboard.press("Enter");
	await page.waitForSelector(`${status}[data-state=succeeded], ${status}[data-state=failed], ${status}.error`,
		{ timeout: 30000 });
	console.log("with the token: " + await page.textContent(status));
	await page.waitForSelector(`${cell}:not([data-status=""])`, { timeout: 5000 });
	console.log("cell: " + await page.getAttribute(cell, "data-status"));
	console.log("kept: " + (await page.evaluate(() =>
		sessionStorage.getItem("task-sync-token")) === token));
	console.log("form asked: " + await page.evaluate(() =>
		!document.getElementById("token-form").hidden));
});
