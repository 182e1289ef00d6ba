/*
 * task-sync task report ID: the criterion x candidate grid of a task's
 * rubric_shell steps (engine/grid.h), drawn in the step tree, with
 * per-candidate totals and a check of the rubric itself. A cell graded
 * under other conditions than today's (steps/grade_basis.h) is marked
 * stale.
 * task-sync task regrade ID: re-decide stored rubric_shell results
 * under the current markers (engine/regrade.h), running nothing; the
 * cells re-decided record today's markers in their basis.
 */
#include "cmd/cmd.h"
#include "cmd/forest.h"
#include "engine/grid.h"
#include "engine/regrade.h"
#include "os/strbuf.h"

#include <stdio.h>

#define GRID_HEADER "1  2  3  4  O  G"

/* indexed by enum grade_status; then "not run" */
static const char *const icons[] = { "✅", "❌", "⌛", "💀", "❔" };
/* after the icon of a cell graded under other conditions than today's */
#define STALE_MARK "*"

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
			fprintf(out, "%s%s", icons[st == GRID_NOT_RUN ? 4 : st],
				c->stale[col] ? STALE_MARK : " ");
		}
		if (g->nstale)
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

static void print_text(FILE *out, const struct grid *g)
{
	int col, mode;

	if (!g->nr) {
		fprintf(out, "\nno rubric criteria\n");
		return;
	}
	if (g->nstale)
		fprintf(out,
			"\n" STALE_MARK " stale: graded under other "
			"conditions than today's (%d cell%s; --json says "
			"why); task run grades %s again\n",
			g->nstale, g->nstale == 1 ? "" : "s",
			g->nstale == 1 ? "it" : "them");
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
}

int cmd_task_report(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, ret;
	long long id = 0;
	struct forest f = { NULL, 0 };
	struct grid g = GRID_INIT;
	struct store *st;
	const struct option opts[] = OPT_JSON_ONLY(&as_json);
	const struct cmd_usage u = {
		"task report ID [--json]",
		"Show the task's steps as a tree, each rubric_shell step with "
		"its results for solution1..4, the original and golden "
		"(✅ PASS, ❌ FAIL, ⌛ TIMEOUT, 💀 ERROR, ❔ not run); then "
		"each candidate's totals and the criteria that golden fails "
		"or the original passes. A cell graded under other "
		"conditions than today's (image, container, timeout, "
		"markers, command, patches) is marked " STALE_MARK " as stale.",
		1,
		1,
		"  task-sync task report 1\n"
		"  task-sync task report 1 --json\n",
	};

	ret = parse_one_id(argc, argv, &u, opts, "task report", "task", &id);
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = grid_load(&g, st, &ctx->cfg, id);
	if (ret)
		goto out;
	if (as_json) {
		cmd_print_json(ctx->out, grid_json(&g));
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
