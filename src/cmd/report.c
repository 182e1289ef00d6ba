/*
 * task-sync task report ID: the criterion x candidate grid of a task's
 * rubric_shell steps, drawn in the step tree, with per-candidate totals
 * and a check of the rubric itself. A cell graded under other conditions
 * than today's (steps/grade_basis.h) is marked stale.
 * task-sync task regrade ID: re-decide stored rubric_shell results
 * under the current markers, running nothing; the cells re-decided
 * record today's markers in their basis.
 */
#include "cmd/cmd.h"
#include "cmd/forest.h"
#include "os/error.h"
#include "core/grade.h"
#include "core/jsonutil.h"
#include "core/truth.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/grade_basis.h"
#include "steps/registry.h"

#include <stdlib.h>
#include <string.h>

/* the grid's columns, in order */
#define NCAND 6
static const char *const cand_keys[NCAND] = {
	"solution1.patch", "solution2.patch", "solution3.patch",
	"solution4.patch", "original", "golden",
};
#define COL_ORIGINAL 4
#define COL_GOLDEN 5
#define GRID_HEADER "1  2  3  4  O  G"
#define NOT_RUN (-1)

/* indexed by enum grade_status; then "not run" */
static const char *const icons[] = { "✅", "❌", "⌛", "💀", "❔" };
/* after the icon of a cell graded under other conditions than today's */
#define STALE_MARK "*"

struct criterion {
	const struct step *s;
	const char *criterion_id;  /* NULL when the settings have none */
	double score;
	int required;
	int status[NCAND];         /* enum grade_status or NOT_RUN */
	char *stale[NCAND];        /* why the cell is stale, or NULL */
};

struct report {
	struct criterion *c;
	size_t nr;
	const char *pass, *fail;   /* markers, for legacy string results */
	const struct config *cfg;
	const json_t *task_settings;
	int nstale;
};

static int is_rubric_shell(const struct step *s)
{
	const char *type = NULL;
	char *err = NULL;
	int ok = !step_type_of(s->settings, &type, &err) &&
		 !strcmp(type, "rubric_shell");
	free(err);
	return ok;
}

static const json_t *shell_conf(const struct step *s)
{
	return json_object_get(s->settings, "rubric_shell");
}

/*
 * One cell. An object carries its status; the original stored strings
 * ("Pass\nOutput: ..."), read by the markers they contain.
 */
static int cell_status(const struct report *r, const json_t *results,
		       int col)
{
	const json_t *v = json_object_get(results, cand_keys[col]);
	const char *text;

	if (!v && col == COL_GOLDEN)
		v = json_object_get(results, "golden.patch");
	if (json_is_object(v))
		return grade_status_parse(json_str(v, "status"));
	text = json_string_value(v);
	if (!text || !*text)
		return NOT_RUN;
	if (*r->pass && strstr(text, r->pass))
		return GRADE_PASS;
	if (*r->fail && strstr(text, r->fail))
		return GRADE_FAIL;
	return NOT_RUN;
}

static double number_of(const json_t *v)
{
	const char *s = json_string_value(v);
	if (json_is_number(v))
		return json_number_value(v);
	return s ? strtod(s, NULL) : 0;
}

/* which graded cells of step s no longer hold (grade_basis.h) */
static void find_stale(struct report *r, struct criterion *c)
{
	struct grade_basis_env env;
	int col, any = 0;

	for (col = 0; col < NCAND; col++)
		any |= json_is_object(json_object_get(c->s->results,
						      cand_keys[col]));
	if (!any)
		return;
	grade_basis_env_init(&env, r->cfg, r->task_settings, shell_conf(c->s),
			     c->s->task_local_path);
	for (col = 0; col < NCAND; col++) {
		const json_t *e = json_object_get(c->s->results,
						  cand_keys[col]);
		if (!json_is_object(e) || c->status[col] == NOT_RUN)
			continue;
		c->stale[col] = grade_basis_stale(&env, cand_keys[col], e);
		r->nstale += c->stale[col] != NULL;
	}
	grade_basis_env_release(&env);
}

static void report_release(struct report *r)
{
	size_t i;
	int col;
	for (i = 0; i < r->nr; i++)
		for (col = 0; col < NCAND; col++)
			free(r->c[i].stale[col]);
	free(r->c);
}

static void collect(struct report *r, const struct step *steps, size_t nr)
{
	size_t i;
	int col;

	r->c = xcalloc(nr + 1, sizeof(*r->c));
	for (i = 0; i < nr; i++) {
		struct criterion *c;
		const json_t *conf;
		if (!is_rubric_shell(&steps[i]))
			continue;
		c = &r->c[r->nr++];
		conf = shell_conf(&steps[i]);
		c->s = &steps[i];
		c->criterion_id = json_str(conf, "criterion_id");
		if (c->criterion_id && !*c->criterion_id)
			c->criterion_id = NULL;
		c->score = number_of(json_object_get(conf, "score"));
		c->required = truth_json(json_object_get(conf, "required")) == 1;
		for (col = 0; col < NCAND; col++)
			c->status[col] = json_is_object(steps[i].results)
				? cell_status(r, steps[i].results, col)
				: NOT_RUN;
		find_stale(r, c);
	}
}

static const struct criterion *criterion_of(const struct report *r,
					    const struct step *s)
{
	size_t i;
	for (i = 0; i < r->nr; i++)
		if (r->c[i].s == s)
			return &r->c[i];
	return NULL;
}

/* ---- the tree ---- */

static void grid_before(FILE *out, const char *gap, const struct step *s,
			int *level, void *data)
{
	if (*level || !criterion_of(data, s))
		return;
	fprintf(out, "%s" GRID_HEADER "\n", gap);
	*level = 1;
}

/*
 * A stale cell's mark takes the space after its icon, so the columns
 * stay under the header; with any stale cell in the report, one more
 * space keeps a mark off the step ID.
 */
static void grid_row(FILE *out, const struct step *s, int id_width,
		     void *data)
{
	const struct report *r = data;
	const struct criterion *c = criterion_of(r, s);
	int col;

	if (c) {
		for (col = 0; col < NCAND; col++)
			fprintf(out, "%s%s", icons[c->status[col] == NOT_RUN
						   ? 4 : c->status[col]],
				c->stale[col] ? STALE_MARK : " ");
		if (r->nstale)
			fputc(' ', out);
	}
	fprintf(out, "%*lld %s", id_width, s->id, s->title);
}

/* ---- the totals ---- */

struct totals {
	int passed, not_run;
	double score, max_score;
	struct strbuf required_failed;  /* "3, 7" */
	json_t *required_ids;
};

/* sums of scores shown as people write them: 3, 4.5, 0.3 */
static double tidy(double x)
{
	double m = x * 1e6;
	return (double)(long long)(m < 0 ? m - 0.5 : m + 0.5) / 1e6;
}

static void fmt_score(struct strbuf *sb, double x)
{
	strbuf_addf(sb, "%.10g", tidy(x));
}

static json_t *score_json(double x)
{
	x = tidy(x);
	if (x > -1e15 && x < 1e15 && x == (double)(long long)x)
		return json_integer((json_int_t)x);
	return json_real(x);
}

static void total_up(const struct report *r, int col, struct totals *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	strbuf_init(&t->required_failed, 0);
	t->required_ids = json_array();
	for (i = 0; i < r->nr; i++) {
		const struct criterion *c = &r->c[i];
		int st = c->status[col];
		t->max_score += c->score;
		if (st == GRADE_PASS) {
			t->passed++;
			t->score += c->score;
		} else if (st == NOT_RUN) {
			t->not_run++;
		} else if (c->required) {
			strbuf_addf(&t->required_failed, "%s%lld",
				    t->required_failed.len ? ", " : "",
				    c->s->id);
			json_array_append_new(t->required_ids,
					      json_integer(c->s->id));
		}
	}
}

static void totals_release(struct totals *t)
{
	strbuf_release(&t->required_failed);
	json_decref(t->required_ids);
}

/*
 * The rubric's own check: a criterion golden does not pass, or that
 * the untouched original already passes, does not tell good patches
 * from bad ones. mode: 0 golden not PASS (graded only), 1 original PASS.
 */
static json_t *check_list(const struct report *r, int mode,
			  struct strbuf *text, int *ungraded)
{
	json_t *a = json_array();
	int col = mode ? COL_ORIGINAL : COL_GOLDEN;
	size_t i;

	*ungraded = 0;
	for (i = 0; i < r->nr; i++) {
		int st = r->c[i].status[col];
		if (st == NOT_RUN) {
			(*ungraded)++;
			continue;
		}
		if (mode ? st != GRADE_PASS : st == GRADE_PASS)
			continue;
		json_array_append_new(a, json_integer(r->c[i].s->id));
		strbuf_addf(text, "%s%lld", text->len ? ", " : "",
			    r->c[i].s->id);
	}
	return a;
}

static void print_text(FILE *out, const struct report *r)
{
	int col, mode;

	if (!r->nr) {
		fprintf(out, "\nno rubric criteria\n");
		return;
	}
	if (r->nstale)
		fprintf(out, "\n" STALE_MARK " stale: graded under other "
			"conditions than today's (%d cell%s; --json says "
			"why); task run grades %s again\n", r->nstale,
			r->nstale == 1 ? "" : "s",
			r->nstale == 1 ? "it" : "them");
	fprintf(out, "\n%-16s %7s %7s %11s  %s\n", "Candidate", "Passed",
		"Not run", "Score", "Required failed");
	for (col = 0; col < NCAND; col++) {
		struct totals t;
		struct strbuf cell = STRBUF_INIT;
		char passed[48];

		total_up(r, col, &t);
		snprintf(passed, sizeof(passed), "%d/%zu", t.passed, r->nr);
		fmt_score(&cell, t.score);
		strbuf_addch(&cell, '/');
		fmt_score(&cell, t.max_score);
		fprintf(out, "%-16s %7s %7d %11s  %s\n", cand_keys[col],
			passed, t.not_run, cell.buf,
			t.required_failed.len ? t.required_failed.buf : "-");
		strbuf_release(&cell);
		totals_release(&t);
	}
	fprintf(out, "\nTask check\n");
	for (mode = 0; mode < 2; mode++) {
		struct strbuf list = STRBUF_INIT;
		int ungraded;
		json_decref(check_list(r, mode, &list, &ungraded));
		fprintf(out, "  %-17s %s", mode ? "pass on original:"
						: "fail on golden:",
			list.len ? list.buf : "none");
		if (ungraded)
			fprintf(out, " (%d not graded on %s)", ungraded,
				mode ? "original" : "golden");
		fputc('\n', out);
		strbuf_release(&list);
	}
}

static json_t *report_json(const struct task *t, const struct report *r)
{
	json_t *o = json_object(), *task = json_object();
	json_t *crit = json_array(), *cands = json_object();
	json_t *check = json_object();
	size_t i;
	int col, mode;

	json_object_set_new(task, "id", json_integer(t->id));
	json_object_set_new(task, "name", json_string(t->name));
	for (i = 0; i < r->nr; i++) {
		const struct criterion *c = &r->c[i];
		json_t *e = json_object(), *res = json_object();
		json_t *cells = json_object();
		json_object_set_new(e, "step_id", json_integer(c->s->id));
		json_object_set_new(e, "title", json_string(c->s->title));
		json_object_set_new(e, "criterion_id", c->criterion_id
				    ? json_string(c->criterion_id)
				    : json_null());
		json_object_set_new(e, "score", score_json(c->score));
		json_object_set_new(e, "required", json_boolean(c->required));
		for (col = 0; col < NCAND; col++)
			json_object_set_new(res, cand_keys[col],
					    c->status[col] == NOT_RUN
					    ? json_null()
					    : json_string(grade_status_name(
						      c->status[col])));
		for (col = 0; col < NCAND; col++) {
			json_t *cell = json_object();
			json_object_set(cell, "status", json_object_get(
						res, cand_keys[col]));
			json_object_set_new(cell, "stale",
					    json_boolean(c->stale[col]));
			json_object_set_new(cell, "stale_reason", c->stale[col]
					    ? json_string(c->stale[col])
					    : json_null());
			json_object_set_new(cells, cand_keys[col], cell);
		}
		json_object_set_new(e, "results", res);
		json_object_set_new(e, "cells", cells);
		json_array_append_new(crit, e);
	}
	for (col = 0; col < NCAND; col++) {
		struct totals tt;
		json_t *e = json_object();
		total_up(r, col, &tt);
		json_object_set_new(e, "passed", json_integer(tt.passed));
		json_object_set_new(e, "total", json_integer((json_int_t)r->nr));
		json_object_set_new(e, "not_run", json_integer(tt.not_run));
		json_object_set_new(e, "score", score_json(tt.score));
		json_object_set_new(e, "max_score", score_json(tt.max_score));
		json_object_set(e, "required_failed", tt.required_ids);
		json_object_set_new(cands, cand_keys[col], e);
		totals_release(&tt);
	}
	for (mode = 0; mode < 2; mode++) {
		struct strbuf unused = STRBUF_INIT;
		int ungraded;
		json_object_set_new(check, mode ? "pass_on_original"
						: "fail_on_golden",
				    check_list(r, mode, &unused, &ungraded));
		strbuf_release(&unused);
	}
	json_object_set_new(o, "task", task);
	json_object_set_new(o, "criteria", crit);
	json_object_set_new(o, "candidates", cands);
	json_object_set_new(o, "check", check);
	return o;
}

/* the task and its steps, both released by the caller; 0 or TS_E* */
static int load_task(struct store *st, long long id, struct task *t,
		     struct step **steps, size_t *nsteps)
{
	int ret = store_task_get(st, id, t);
	if (!ret)
		ret = store_step_list(st, id, steps, nsteps);
	return ret;
}

int cmd_task_report(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, ret;
	long long id = 0;
	struct task t = { 0 };
	struct step *steps = NULL;
	size_t nsteps = 0;
	struct forest f = { NULL, 0 };
	struct report r = { NULL, 0, NULL, NULL, NULL, NULL, 0 };
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
		1, 1,
		"  task-sync task report 1\n"
		"  task-sync task report 1 --json\n",
	};

	ret = parse_one_id(argc, argv, &u, opts, "task report", "task", &id);
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = load_task(st, id, &t, &steps, &nsteps);
	if (ret)
		goto out;
	r.pass = config_get(&ctx->cfg, CFG_PASS_MARKER);
	r.fail = config_get(&ctx->cfg, CFG_FAIL_MARKER);
	if (!r.pass)
		r.pass = "";
	if (!r.fail)
		r.fail = "";
	r.cfg = &ctx->cfg;
	r.task_settings = t.settings;
	collect(&r, steps, nsteps);
	if (as_json) {
		cmd_print_json(ctx->out, report_json(&t, &r));
	} else {
		struct forest_style style = { grid_row, grid_before, &r, 1 };
		forest_init(&f, steps, nsteps);
		forest_draw_task(ctx->out, &f, &t, &style);
		print_text(ctx->out, &r);
	}
out:
	forest_release(&f);
	report_release(&r);
	step_list_free(steps, nsteps);
	task_release(&t);
	return ts_exit_code(ret);
}

/* ---- regrade ---- */

/* ERROR < TIMEOUT < FAIL < PASS: a change towards PASS is "up" */
static int rank(int st)
{
	static const int ranks[] = { 3, 2, 1, 0 };
	return st >= 0 && st <= GRADE_ERROR ? ranks[st] : -1;
}

struct regrade {
	const struct config *cfg;
	const char *markers[3];
	struct strbuf lines;  /* one per changed cell, this step */
	int changed, up, down;
	int recorded;  /* cells whose basis now records today's markers */
	int dry_run;
	struct store *st;     /* where the outputs are (their runs) */
};

#define NO_CHANGE 1  /* from regrade_step: roll back, nothing to write */

static int key_rank(const char *key)
{
	int col;
	for (col = 0; col < NCAND; col++)
		if (!strcmp(key, cand_keys[col]))
			return col;
	return NCAND;
}

/* the grid's order, then the other keys by name (PostgreSQL reorders) */
static int key_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = key_rank(x), ry = key_rank(y);
	return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x, y);
}

static int regrade_step(struct step *s, void *data)
{
	struct regrade *g = data;
	const char **keys;
	const char *key;
	json_t *v;
	size_t nkeys = 0, i;
	int changed = 0, recorded = 0;
	/* the outputs, read from the runs; s->results is written back */
	json_t *with_out = json_deep_copy(s->results);

	if (store_results_add_output(g->st, s->id, with_out)) {
		json_decref(with_out);
		return TS_EFAIL;
	}
	keys = xcalloc(json_object_size(s->results) + 1, sizeof(*keys));
	json_object_foreach(s->results, key, v)
		keys[nkeys++] = key;
	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	for (i = 0; i < nkeys; i++) {
		json_t *e = json_object_get(s->results, keys[i]);
		const char *old = json_str(e, "status");
		const char *reason = json_str(e, "reason");
		const json_t *out = json_object_get(
			json_object_get(with_out, keys[i]), "output");
		const json_t *ec = json_object_get(e, "exit_code");
		char *why = NULL;
		int from, to;

		if (!json_is_object(e) || !old || !json_is_string(out) ||
		    !grade_from_markers(old, reason))
			continue;
		/* decided under today's markers: the basis says so */
		if (json_is_object(json_object_get(e, "basis")) &&
		    !g->dry_run) {
			json_t *b = json_object_get(e, "basis");
			json_t *was = json_deep_copy(b);
			grade_basis_set_markers(b, g->cfg);
			recorded += !json_equal(was, b);
			json_decref(was);
		}
		from = grade_status_parse(old);
		to = grade_reclassify(json_string_value(out),
				      json_string_length(out),
				      json_is_integer(ec)
				      ? (int)json_integer_value(ec) : -1,
				      g->markers[0], g->markers[1],
				      g->markers[2], &why);
		if (to != from) {
			const char *name = grade_status_name(
				(enum grade_status)to);
			strbuf_addf(&g->lines, "step %lld %s: %s -> %s\n",
				    s->id, keys[i], old, name);
			/* old and reason point into e: print before setting */
			json_object_set_new(e, "status", json_string(name));
			json_object_set_new(e, "reason", why ? json_string(why)
							     : json_null());
			changed++;
			if (rank(to) > rank(from))
				g->up++;
			else
				g->down++;
		}
		free(why);
	}
	free(keys);
	json_decref(with_out);
	g->changed += changed;
	g->recorded += recorded;
	return (!changed && !recorded) || g->dry_run ? NO_CHANGE : 0;
}

int cmd_task_regrade(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int dry_run = 0, ret;
	long long id = 0;
	struct task t = { 0 };
	struct step *steps = NULL;
	size_t nsteps = 0, i;
	struct regrade g = { NULL, { NULL, NULL, NULL }, STRBUF_INIT, 0, 0, 0,
			     0, 0, NULL };
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
		"in the cut middle is not seen.", 1, 1,
		"  task-sync task regrade 1 --dry-run\n",
	};

	ret = parse_one_id(argc, argv, &u, opts, "task regrade", "task", &id);
	st = cmd_store_after(ctx, ret, 0, &ret);
	if (!st)
		return ret;
	ret = load_task(st, id, &t, &steps, &nsteps);
	if (ret)
		goto out;
	g.markers[0] = config_get(&ctx->cfg, CFG_PASS_MARKER);
	g.markers[1] = config_get(&ctx->cfg, CFG_FAIL_MARKER);
	g.markers[2] = config_get(&ctx->cfg, CFG_TIMEOUT_MARKER);
	g.cfg = &ctx->cfg;
	g.dry_run = dry_run;
	g.st = st;
	for (i = 0; i < nsteps && !ret; i++) {
		int r;
		if (!is_rubric_shell(&steps[i]) ||
		    !json_is_object(steps[i].results))
			continue;
		/* each step in its own transaction, its row locked */
		r = store_step_edit(st, steps[i].id, regrade_step, &g);
		if (r && r != NO_CHANGE)
			ret = r;
		else
			fputs(g.lines.buf, ctx->out);
		strbuf_reset(&g.lines);
	}
	if (ret)
		goto out;
	if (g.changed)
		fprintf(ctx->out, "%d changed: %d up, %d down%s\n", g.changed,
			g.up, g.down, dry_run ? " (dry run, nothing written)"
					      : "");
	else
		fprintf(ctx->out, "nothing changed\n");
	if (g.recorded)
		fprintf(ctx->out, "%d cell%s now record%s today's markers\n",
			g.recorded, g.recorded == 1 ? "" : "s",
			g.recorded == 1 ? "s" : "");
out:
	strbuf_release(&g.lines);
	step_list_free(steps, nsteps);
	task_release(&t);
	return ts_exit_code(ret);
}
