/*
 * task-sync task report ID: the criterion x candidate grid of a task's
 * rubric_shell steps (engine/grid.h), drawn in the step tree, with
 * per-candidate totals and a check of the rubric itself. A cell graded
 * under other conditions than today's (steps/grade_basis.h) is marked
 * stale. --junit and --csv write it for other tools (engine/export.h).
 * task-sync task check ID: the criterion health alone (engine/health.h),
 * exit 1 when the task is not valid.
 * task-sync task regrade ID: re-decide stored rubric_shell results
 * under the current markers (engine/regrade.h), running nothing; the
 * cells re-decided record today's markers in their basis.
 */
#include "cmd/cmd.h"
#include "cmd/forest.h"
#include "core/grade.h"
#include "engine/export.h"
#include "engine/grid.h"
#include "engine/health.h"
#include "engine/regrade.h"
#include "os/strbuf.h"

#include <stdio.h>

#define GRID_HEADER "1  2  3  4  O  G"

/* indexed by enum grade_status; then "not run" */
static const char *const icons[GRADE_NSTATUS + 1] = { "✅", "❌", "⌛",
						      "💀", "🎲", "❔" };
/* an ERROR that is the machinery's (a daemon gone, ...): not a verdict */
#define INFRA_ICON "🔧"
/* after the icon of a cell graded under other conditions than today's */
#define STALE_MARK "*"
/* after the icon of a cell whose patch has tamper warnings (first) */
#define TAMPER_MARK "!"

/* ---- the tree ---- */

static void draw_header(FILE *out, const char *gap, const struct step *s,
			int *level, void *data)
{
	if (*level || !grid_criterion_of(data, s))
		return;
	fprintf(out, "%s" GRID_HEADER "\n", gap);
	*level = 1;
}

/*
 * A stale cell's mark takes the space after its icon, so the columns
 * stay under the header; with any stale cell in the report, one more
 * space keeps a mark off the step ID.
 */
static void draw_row(FILE *out, const struct step *s, int id_width, void *data)
{
	const struct grid *g = data;
	const struct grid_criterion *c = grid_criterion_of(g, s);
	int col;

	if (c) {
		for (col = 0; col < GRID_NCAND; col++) {
			int st = c->status[col];
			fprintf(out, "%s%s",
				c->infra[col]        ? INFRA_ICON
				: st == GRID_NOT_RUN ? icons[GRADE_NSTATUS]
						     : icons[st],
				c->tamper[col]  ? TAMPER_MARK
				: c->stale[col] ? STALE_MARK
						: " ");
		}
		if (g->nstale || g->ntamper)
			fputc(' ', out);
	}
	fprintf(out, "%*lld %s", id_width, s->id, s->title);
}

/* ---- the totals ---- */

static void fmt_score(struct strbuf *sb, double x)
{
	strbuf_addf(sb, "%.10g", grid_tidy(x));
}

/* step IDs as a list: "3, 7" */
static void fmt_ids(struct strbuf *sb, const json_t *ids)
{
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) strbuf_addf(
		sb, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
}

/* the cells whose attempts disagree, with how many passed */
static void print_flaky(FILE *out, const struct grid *g)
{
	size_t i;
	int col, n = 0;

	for (i = 0; i < g->nr; i++)
		for (col = 0; col < GRID_NCAND; col++) {
			const struct grid_criterion *c = &g->c[i];
			if (c->status[col] != GRADE_FLAKY)
				continue;
			if (!n++)
				fprintf(out,
					"\n%s flaky: the attempts "
					"disagree\n",
					icons[GRADE_FLAKY]);
			fprintf(out, "  step %lld %s: %d of %d passed\n",
				c->s->id, grid_cand_keys[col], c->passes[col],
				c->attempts[col]);
		}
}

/* the cells whose patch did what a fair candidate has no reason to */
static void print_tamper(FILE *out, const struct grid *g)
{
	size_t i, k;
	int col;
	json_t *v;

	if (!g->ntamper)
		return;
	fprintf(out,
		"\n" TAMPER_MARK " tamper warnings (%d cell%s): "
		"the patch\n",
		g->ntamper, g->ntamper == 1 ? "" : "s");
	for (i = 0; i < g->nr; i++)
		for (col = 0; col < GRID_NCAND; col++)
			json_array_foreach(g->c[i].tamper[col], k, v)
				fprintf(out, "  step %lld %s: %s\n",
					g->c[i].s->id, grid_cand_keys[col],
					json_string_value(v));
}

/*
 * Each criterion: ok, or its flags; then whether the task is valid,
 * which is returned.
 */
static int print_health(FILE *out, const struct grid *g)
{
	struct health *h = health_of(g);
	size_t i, flagged = 0;
	int valid = health_valid(h, g->nr);

	for (i = 0; i < g->nr; i++) {
		size_t k;
		json_t *v;
		fprintf(out, "  %lld %s: ", g->c[i].s->id, g->c[i].s->title);
		if (!json_array_size(h[i].flags))
			fputs("ok", out);
		json_array_foreach(h[i].flags, k, v) fprintf(
			out, "%s%s", k ? "; " : "", json_string_value(v));
		fputc('\n', out);
		flagged += json_array_size(h[i].flags) != 0;
	}
	if (valid)
		fprintf(out, "valid: every criterion separates golden from "
			     "the original\n");
	else if (!g->nr)
		fprintf(out, "not valid: no rubric criteria\n");
	else
		fprintf(out, "not valid: %zu of %zu criteri%s flagged\n",
			flagged, g->nr, g->nr == 1 ? "on" : "a");
	health_free(h, g->nr);
	return valid;
}

/* a legend line after the tree, for the n cells (none: no line) that
 * task run grades again; where says why */
static void legend(FILE *out, const char *what, int n, const char *where)
{
	if (n)
		fprintf(out,
			"\n%s (%d cell%s; %s says why); task run grades %s "
			"again\n",
			what, n, n == 1 ? "" : "s", where,
			n == 1 ? "it" : "them");
}

static void print_text(FILE *out, const struct grid *g)
{
	int col, mode;

	if (!g->nr) {
		fprintf(out, "\nno rubric criteria\n");
		return;
	}
	legend(out,
	       STALE_MARK " stale: graded under other conditions than "
			  "today's",
	       g->nstale, "--json");
	legend(out,
	       INFRA_ICON " not graded: the machinery failed, not the "
			  "candidate",
	       g->ninfra, "step log");
	fprintf(out, "\n%-16s %7s %7s %11s  %s\n", "Candidate", "Passed",
		"Not run", "Score", "Required failed");
	for (col = 0; col < GRID_NCAND; col++) {
		struct grid_totals t;
		struct strbuf cell = STRBUF_INIT, req = STRBUF_INIT;
		char passed[48];

		grid_total(g, col, &t);
		snprintf(passed, sizeof(passed), "%d/%zu", t.passed, g->nr);
		fmt_score(&cell, t.score);
		strbuf_addch(&cell, '/');
		fmt_score(&cell, t.max_score);
		fmt_ids(&req, t.required_failed);
		fprintf(out, "%-16s %7s %7d %11s  %s\n", grid_cand_keys[col],
			passed, t.not_run, cell.buf, req.len ? req.buf : "-");
		strbuf_release(&cell);
		strbuf_release(&req);
		grid_totals_release(&t);
	}
	fprintf(out, "\nTask check\n");
	for (mode = 0; mode < 2; mode++) {
		struct strbuf list = STRBUF_INIT;
		int ungraded;
		json_t *ids = grid_check(
			g, mode ? GRID_PASS_ON_ORIGINAL : GRID_FAIL_ON_GOLDEN,
			&ungraded);
		fmt_ids(&list, ids);
		json_decref(ids);
		fprintf(out, "  %-17s %s",
			mode ? "pass on original:" : "fail on golden:",
			list.len ? list.buf : "none");
		if (ungraded)
			fprintf(out, " (%d not graded on %s)", ungraded,
				mode ? "original" : "golden");
		fputc('\n', out);
		strbuf_release(&list);
	}
	print_flaky(out, g);
	print_tamper(out, g);
	fprintf(out, "\nCriterion health\n");
	print_health(out, g);
}

int cmd_task_report(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, junit = 0, csv = 0, ret;
	long long id = 0;
	struct forest f = { NULL, 0 };
	struct grid g = GRID_INIT;
	struct store *st;
	const struct option opts[] = {
		OPT_JSON(&as_json),
		OPT_BOOL(0, "junit", &junit,
			 "JUnit XML: a testcase per cell, for CI systems"),
		OPT_BOOL(0, "csv", &csv, "CSV: a row per cell"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"task report ID [--json | --junit | --csv]",
		"Show the task's steps as a tree, each rubric_shell step with "
		"its results for solution1..4, the original and golden "
		"(✅ PASS, ❌ FAIL, ⌛ TIMEOUT, 💀 ERROR, ❔ not run, " INFRA_ICON
		" not graded: the machinery failed); then "
		"each candidate's totals and the criteria that golden fails "
		"or the original passes. A cell graded under other "
		"conditions than today's (image, container, timeout, "
		"markers, command, patches) is marked " STALE_MARK " as stale; "
		"a cell whose repeated attempts disagree is 🎲 FLAKY. Then "
		"each criterion's health (see 'task check').",
		1,
		1,
		"  task-sync task report 1\n"
		"  task-sync task report 1 --json\n"
		"  task-sync task report 1 --junit > grades.xml\n",
	};

	ret = parse_one_id(argc, argv, &u, opts, "task report", "task", &id);
	if (ret >= 0 && as_json + junit + csv > 1)
		return usage_error("task report",
				   "--json, --junit and --csv are one each");
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = grid_load(&g, st, &ctx->cfg, id);
	if (ret)
		goto out;
	if (as_json) {
		cmd_print_json(ctx->out, grid_json(&g));
	} else if (junit || csv) {
		(junit ? export_junit : export_csv)(ctx->out, &g);
	} else {
		struct forest_style style = { draw_row, draw_header, &g, 1 };
		forest_init(&f, g.steps, g.nsteps);
		forest_draw_task(ctx->out, &f, g.task, &style);
		print_text(ctx->out, &g);
	}
out:
	forest_release(&f);
	grid_release(&g);
	return ts_exit_code(ret);
}

/* ---- check ---- */

int cmd_task_check(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, ret;
	long long id = 0;
	struct grid g = GRID_INIT;
	struct store *st;
	const struct option opts[] = OPT_JSON_ONLY(&as_json);
	const struct cmd_usage u = {
		"task check ID [--json]",
		"Check the rubric against its graded cells: golden passes "
		"every criterion on every attempt, the original fails it, it "
		"separates some candidates, its attempts agree and golden "
		"uses at most half its time limit. Exits 1 when the task is "
		"not valid (for a task author's own CI). Grade golden and "
		"the original first: task run ID --golden.",
		1,
		1,
		"  task-sync task check 1\n",
	};

	ret = parse_one_id(argc, argv, &u, opts, "task check", "task", &id);
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = grid_load(&g, st, &ctx->cfg, id);
	if (!ret && as_json) {
		struct health *h = health_of(&g);
		json_t *doc = health_json(&g, h);
		json_object_set_new(doc, "task",
				    json_pack("{sIss}", "id", (json_int_t)id,
					      "name", g.task->name));
		cmd_print_json(ctx->out, doc);
		ret = health_valid(h, g.nr) ? 0 : TS_ESTEP;
		health_free(h, g.nr);
	} else if (!ret) {
		fprintf(ctx->out, "%lld-%s\n", g.task->id, g.task->name);
		ret = print_health(ctx->out, &g) ? 0 : TS_ESTEP;
	}
	grid_release(&g);
	return ts_exit_code(ret);
}

/* ---- regrade ---- */

/* one line per changed cell */
static void print_change(const struct regrade_change *c, void *data)
{
	fprintf(data, "step %lld %s: %s -> %s\n", c->step_id, c->key, c->from,
		c->to);
}

int cmd_task_regrade(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int dry_run = 0, ret;
	long long id = 0;
	struct regrade_counts n = { 0, 0, 0, 0 };
	struct store *st;
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &dry_run,
			 "show what would change; write nothing"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"task regrade ID [--dry-run]",
		"Decide the stored rubric_shell results again under the "
		"current PASS_MARKER, FAIL_MARKER and TIMEOUT_MARKER, running "
		"nothing, and list what changed. Harness errors and timeouts "
		"at the deadline are kept. Only the stored output is read: it "
		"keeps the head and tail of long output, so a marker printed "
		"in the cut middle is not seen.",
		1,
		1,
		"  task-sync task regrade 1 --dry-run\n",
	};

	ret = parse_one_id(argc, argv, &u, opts, "task regrade", "task", &id);
	st = cmd_store_after(ctx, ret, 0, &ret);
	if (!st)
		return ret;
	ret = regrade_task(st, &ctx->cfg, id, dry_run, print_change, ctx->out,
			   &n);
	if (ret)
		goto out;
	if (n.changed)
		fprintf(ctx->out, "%d changed: %d up, %d down%s\n", n.changed,
			n.up, n.down,
			dry_run ? " (dry run, nothing written)" : "");
	else
		fprintf(ctx->out, "nothing changed\n");
	if (n.recorded)
		fprintf(ctx->out, "%d cell%s now record%s today's markers\n",
			n.recorded, n.recorded == 1 ? "" : "s",
			n.recorded == 1 ? "s" : "");
out:
	return ts_exit_code(ret);
}
