// usage: node grid.mjs URL TASK REPORT_JSON SCREENSHOT STEP CANDIDATE
// Opens the page at URL on task TASK and compares its grid, cell by cell,
// with REPORT_JSON (what `task report TASK --json` printed): each cell's
// status and icon, the candidates' totals and the task check. Then opens
// cell (STEP, CANDIDATE) from the keyboard (focus, Enter), prints its
// details and output, and saves a screenshot to SCREENSHOT. Exit 1 on the
// first difference, naming it.
import { readFileSync } from "node:fs";
import { withPage } from "./chromium.mjs";

const [url, task, reportFile, shot, step, cand] = process.argv.slice(2);
if (!cand) {
	console.error("usage: node grid.mjs URL TASK REPORT_JSON SCREENSHOT STEP CANDIDATE");
	process.exit(2);
}
const report = JSON.parse(readFileSync(reportFile, "utf8"));
const ICONS = { PASS: "✅", FAIL: "❌", TIMEOUT: "⌛", ERROR: "💀" };
const diffs = [];
const same = (what, got, want) => {
	if (JSON.stringify(got) !== JSON.stringify(want))
		diffs.push(`${what}: page ${JSON.stringify(got)}, report ${JSON.stringify(want)}`);
};

await withPage(async page => {
	await page.goto(new URL("/#/tasks/" + task, url).href);
	await page.waitForSelector("#grid button.cell");
	// the page's grid as data: {step: {candidate: [status, icon, stale]}}
	const grid = await page.$$eval("#grid button.cell", bs => bs.map(b => [
		+b.dataset.step, b.dataset.cand, b.dataset.status || null,
		b.firstChild.textContent, !!b.querySelector(".stale")]));
	const rows = await page.$$eval("#grid tbody tr", trs => trs.map(t => +t.dataset.step));
	same("criteria (rows)", rows, report.criteria.map(c => c.step_id));
	const cands = Object.keys(report.candidates);
	let n = 0;
	for (const c of report.criteria)
		for (const k of cands) {
			const cell = c.cells[k], got = grid.find(g => g[0] === c.step_id && g[1] === k);
			if (!got) { diffs.push(`no cell for step ${c.step_id}, ${k}`); continue; }
			n++;
			same(`step ${c.step_id} ${k} status`, got[2], cell.status);
			same(`step ${c.step_id} ${k} icon`, got[3], ICONS[cell.status] || "❔");
			same(`step ${c.step_id} ${k} stale`, got[4], cell.stale);
		}
	same("cells", grid.length, n);
	const total = key => page.$$eval(`#grid tfoot tr[data-total=${key}] td`,
		tds => Object.fromEntries(tds.map(t => [t.dataset.cand, t.textContent])));
	const passed = await total("passed"), score = await total("score");
	const req = await total("required_failed"), notRun = await total("not_run");
	for (const k of cands) {
		const t = report.candidates[k];
		same(`${k} passed`, passed[k], `${t.passed}/${t.total}`);
		same(`${k} not run`, notRun[k], String(t.not_run));
		same(`${k} score`, score[k], `${t.score ?? "-"}/${t.max_score ?? "-"}`);
		same(`${k} required failed`, req[k],
			t.required_failed.length ? t.required_failed.join(", ") : "-");
	}
	for (const key of ["fail_on_golden", "pass_on_original"])
		same(`check ${key}`, await page.textContent(`[data-check=${key}]`),
			report.check[key].length ? report.check[key].join(", ") : "none");
	console.log(`cells compared: ${n}`);

	// the keyboard: focus the cell, Enter
	await page.focus(`button.cell[data-step="${step}"][data-cand="${cand}"]`);
	await page.keyboard.press("Enter");
	// (the page's CSP forbids eval, so no waitForFunction)
	await page.waitForSelector("#output:not(:empty)");
	const details = await page.$$eval("#detail dt", dts => dts.map(dt =>
		dt.textContent + ": " + dt.nextElementSibling.textContent));
	console.log(details.join("\n"));
	console.log("output:\n" + await page.textContent("#output"));
	await page.screenshot({ path: shot, fullPage: true });
});
if (diffs.length) {
	console.error("the page's grid differs from task report --json:\n" + diffs.join("\n"));
	process.exit(1);
}
