/*
 * The criterion x candidate grid of a task's rubric_shell steps
 * (engine/grid.h): cells, staleness, totals, the rubric's check and the
 * JSON document of `task report --json`.
 */
#include "engine/grid.h"
#include "engine/health.h"
#include "core/grade.h"
#include "core/hash_memo.h"
#include "core/jsonutil.h"
#include "core/truth.h"
#include "os/xalloc.h"
#include "steps/grade_basis.h"
#include "steps/registry.h"
#include "steps/rubric_shell.h"

#include <stdlib.h>
#include <string.h>

const char *const grid_cand_keys[GRID_NCAND] = {
	"solution1.patch", "solution2.patch", "solution3.patch",
	"solution4.patch", "original",        "golden",
};

int grid_is_criterion(const struct step *s)
{
	const char *type = NULL;
	return !step_type_of(s->settings, &type, NULL) &&
	       !strcmp(type, "rubric_shell");
}

static const json_t *shell_conf(const struct step *s)
{
	return json_object_get(s->settings, "rubric_shell");
}

/*
 * One cell. An object carries its status; the original stored strings
 * ("Pass\nOutput: ..."), read by the markers they contain.
 */
static int cell_status(const char *pass, const char *fail,
		       const json_t *results, int col)
{
	const json_t *v = json_object_get(results, grid_cand_keys[col]);
	const char *text;

	if (!v && col == GRID_COL_GOLDEN)
		v = json_object_get(results, "golden.patch");
	if (json_is_object(v))
		return grade_status_parse(json_str(v, "status"));
	text = json_string_value(v);
	if (!text || !*text)
		return GRID_NOT_RUN;
	if (*pass && strstr(text, pass))
		return GRADE_PASS;
	if (*fail && strstr(text, fail))
		return GRADE_FAIL;
	return GRID_NOT_RUN;
}

/* whether the cell's ERROR is the machinery's: no verdict on the candidate */
static int cell_infra(const json_t *results, int col)
{
	const json_t *e = json_object_get(results, grid_cand_keys[col]);
	return json_is_object(e) && !rubric_shell_is_verdict(e);
}

/* how many attempts made the cell, and how many passed */
static void cell_attempts(struct grid_criterion *c, const json_t *results,
			  int col)
{
	const json_t *e = json_object_get(results, grid_cand_keys[col]);
	const json_t *a = json_object_get(e, "attempts");
	size_t i;
	json_t *v;

	c->tamper[col] = json_array_size(json_object_get(e, "tamper"))
				 ? json_object_get(e, "tamper")
				 : NULL;
	c->attempts[col] = c->status[col] != GRID_NOT_RUN;
	c->passes[col] = c->status[col] == GRADE_PASS;
	if (!json_is_array(a) || !json_array_size(a))
		return;
	c->attempts[col] = (int)json_array_size(a);
	c->passes[col] = 0;
	json_array_foreach(a, i, v) c->passes[col] +=
		grade_status_parse(json_str(v, "status")) == GRADE_PASS;
}

static double number_of(const json_t *v)
{
	const char *s = json_string_value(v);
	if (json_is_number(v))
		return json_number_value(v);
	return s ? strtod(s, NULL) : 0;
}

/* which graded cells of criterion c no longer hold (grade_basis.h) */
static void find_stale(struct grid *g, const struct config *cfg,
		       struct hash_memo *files, json_t *seen,
		       struct grid_criterion *c)
{
	struct grade_basis_env env;
	int col, any = 0;

	for (col = 0; col < GRID_NCAND; col++)
		any |= json_is_object(
			json_object_get(c->s->results, grid_cand_keys[col]));
	if (!any)
		return;
	grade_basis_env_init_seen(&env, cfg, g->task->settings,
				  shell_conf(c->s), c->s->task_local_path,
				  seen);
	env.files = files;
	for (col = 0; col < GRID_NCAND; col++) {
		const json_t *e =
			json_object_get(c->s->results, grid_cand_keys[col]);
		if (!json_is_object(e) || c->status[col] == GRID_NOT_RUN)
			continue;
		c->stale[col] = grade_basis_stale(&env, grid_cand_keys[col], e);
		g->nstale += c->stale[col] != NULL;
	}
	grade_basis_env_release(&env);
}

void grid_build(struct grid *g, const struct config *cfg, const struct task *t,
		const struct step *steps, size_t nr)
{
	const char *pass = config_get(cfg, CFG_PASS_MARKER);
	const char *fail = config_get(cfg, CFG_FAIL_MARKER);
	/* the task folder's patches, read once for all the criteria, and
	 * the containers docker was asked about, asked once */
	struct hash_memo *files = hash_memo_new();
	json_t *seen = json_object();
	size_t i;
	int col;

	if (!pass)
		pass = "";
	if (!fail)
		fail = "";
	g->task = t;
	g->steps = steps;
	g->nsteps = nr;
	g->nr = 0;
	g->nstale = 0;
	g->ntamper = 0;
	g->ninfra = 0;
	g->c = xcalloc(nr + 1, sizeof(*g->c));
	for (i = 0; i < nr; i++) {
		struct grid_criterion *c;
		const json_t *conf;
		if (!grid_is_criterion(&steps[i]))
			continue;
		c = &g->c[g->nr++];
		conf = shell_conf(&steps[i]);
		c->s = &steps[i];
		c->criterion_id = json_str(conf, "criterion_id");
		if (c->criterion_id && !*c->criterion_id)
			c->criterion_id = NULL;
		c->score = number_of(json_object_get(conf, "score"));
		c->required = truth_json(json_object_get(conf, "required")) ==
			      1;
		for (col = 0; col < GRID_NCAND; col++) {
			c->status[col] = json_is_object(steps[i].results)
						 ? cell_status(pass, fail,
							       steps[i].results,
							       col)
						 : GRID_NOT_RUN;
			c->infra[col] = c->status[col] == GRADE_ERROR &&
					cell_infra(steps[i].results, col);
			g->ninfra += c->infra[col];
			cell_attempts(c, steps[i].results, col);
			g->ntamper += c->tamper[col] != NULL;
		}
		find_stale(g, cfg, files, seen, c);
	}
	hash_memo_free(files);
	json_decref(seen);
}

int grid_load(struct grid *g, struct store *st, const struct config *cfg,
	      long long id)
{
	int ret = store_task_get(st, id, &g->loaded_task);
	if (!ret)
		ret = store_step_list(st, id, &g->loaded_steps, &g->nsteps);
	if (!ret)
		grid_build(g, cfg, &g->loaded_task, g->loaded_steps, g->nsteps);
	return ret;
}

void grid_release(struct grid *g)
{
	size_t i;
	int col;
	for (i = 0; i < g->nr; i++)
		for (col = 0; col < GRID_NCAND; col++)
			free(g->c[i].stale[col]);
	free(g->c);
	if (g->loaded_steps)
		step_list_free(g->loaded_steps, g->nsteps);
	task_release(&g->loaded_task);
	memset(g, 0, sizeof(*g));
}

int grid_verdict(const struct grid_criterion *c, int col)
{
	return c->infra[col] ? GRID_NOT_RUN : c->status[col];
}

const struct grid_criterion *grid_criterion_of(const struct grid *g,
					       const struct step *s)
{
	size_t i;
	for (i = 0; i < g->nr; i++)
		if (g->c[i].s == s)
			return &g->c[i];
	return NULL;
}

/* ---- the totals ---- */

double grid_tidy(double x)
{
	double m = x * 1e6;
	return (double)(long long)(m < 0 ? m - 0.5 : m + 0.5) / 1e6;
}

static json_t *score_json(double x)
{
	x = grid_tidy(x);
	if (x > -1e15 && x < 1e15 && x == (double)(long long)x)
		return json_integer((json_int_t)x);
	return json_real(x);
}

void grid_total(const struct grid *g, int col, struct grid_totals *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->required_failed = json_array();
	for (i = 0; i < g->nr; i++) {
		const struct grid_criterion *c = &g->c[i];
		int st = grid_verdict(c, col);
		t->max_score += c->score;
		if (st == GRADE_PASS) {
			t->passed++;
			t->score += c->score;
		} else if (st == GRID_NOT_RUN) {
			t->not_run++;
		} else if (c->required) {
			json_array_append_new(t->required_failed,
					      json_integer(c->s->id));
		}
	}
}

void grid_totals_release(struct grid_totals *t)
{
	json_decref(t->required_failed);
	t->required_failed = NULL;
}

/*
 * A criterion golden does not pass, or that the untouched original
 * already passes, does not tell good patches from bad ones.
 */
json_t *grid_check(const struct grid *g, enum grid_check which, int *ungraded)
{
	json_t *a = json_array();
	int on_original = which == GRID_PASS_ON_ORIGINAL;
	int col = on_original ? GRID_COL_ORIGINAL : GRID_COL_GOLDEN;
	size_t i;

	*ungraded = 0;
	for (i = 0; i < g->nr; i++) {
		int st = grid_verdict(&g->c[i], col);
		if (st == GRID_NOT_RUN) {
			(*ungraded)++;
			continue;
		}
		if (on_original ? st != GRADE_PASS : st == GRADE_PASS)
			continue;
		json_array_append_new(a, json_integer(g->c[i].s->id));
	}
	return a;
}

/* ---- the document ---- */

static json_t *criterion_json(const struct grid_criterion *c)
{
	json_t *e = json_object(), *res = json_object(), *cells = json_object();
	int col;

	json_object_set_new(e, "step_id", json_integer(c->s->id));
	json_object_set_new(e, "title", json_string(c->s->title));
	json_object_set_new(e, "criterion_id",
			    c->criterion_id ? json_string(c->criterion_id)
					    : json_null());
	json_object_set_new(e, "score", score_json(c->score));
	json_object_set_new(e, "required", json_boolean(c->required));
	for (col = 0; col < GRID_NCAND; col++)
		json_object_set_new(res, grid_cand_keys[col],
				    c->status[col] == GRID_NOT_RUN
					    ? json_null()
					    : json_string(grade_status_name(
						      c->status[col])));
	for (col = 0; col < GRID_NCAND; col++) {
		json_t *cell = json_object();
		json_object_set(cell, "status",
				json_object_get(res, grid_cand_keys[col]));
		json_object_set_new(cell, "infrastructure",
				    json_boolean(c->infra[col]));
		json_object_set_new(cell, "stale", json_boolean(c->stale[col]));
		json_object_set_new(cell, "stale_reason",
				    c->stale[col] ? json_string(c->stale[col])
						  : json_null());
		json_object_set_new(cell, "attempts",
				    json_integer(c->attempts[col]));
		json_object_set_new(cell, "passes",
				    json_integer(c->passes[col]));
		json_object_set_new(cell, "tamper",
				    c->tamper[col]
					    ? json_deep_copy(c->tamper[col])
					    : json_array());
		json_object_set_new(cells, grid_cand_keys[col], cell);
	}
	json_object_set_new(e, "results", res);
	json_object_set_new(e, "cells", cells);
	return e;
}

static json_t *totals_json(const struct grid *g, int col)
{
	struct grid_totals t;
	json_t *e = json_object();

	grid_total(g, col, &t);
	json_object_set_new(e, "passed", json_integer(t.passed));
	json_object_set_new(e, "total", json_integer((json_int_t)g->nr));
	json_object_set_new(e, "not_run", json_integer(t.not_run));
	json_object_set_new(e, "score", score_json(t.score));
	json_object_set_new(e, "max_score", score_json(t.max_score));
	json_object_set(e, "required_failed", t.required_failed);
	grid_totals_release(&t);
	return e;
}

json_t *grid_json(const struct grid *g)
{
	json_t *o = json_object(), *task = json_object();
	json_t *crit = json_array(), *cands = json_object();
	json_t *check = json_object();
	struct health *h;
	size_t i;
	int col, ungraded;

	json_object_set_new(task, "id", json_integer(g->task->id));
	json_object_set_new(task, "name", json_string(g->task->name));
	for (i = 0; i < g->nr; i++)
		json_array_append_new(crit, criterion_json(&g->c[i]));
	for (col = 0; col < GRID_NCAND; col++)
		json_object_set_new(cands, grid_cand_keys[col],
				    totals_json(g, col));
	json_object_set_new(check, "fail_on_golden",
			    grid_check(g, GRID_FAIL_ON_GOLDEN, &ungraded));
	json_object_set_new(check, "pass_on_original",
			    grid_check(g, GRID_PASS_ON_ORIGINAL, &ungraded));
	json_object_set_new(o, "task", task);
	json_object_set_new(o, "criteria", crit);
	json_object_set_new(o, "candidates", cands);
	json_object_set_new(o, "check", check);
	h = health_of(g);
	json_object_set_new(o, "health", health_json(g, h));
	health_free(h, g->nr);
	return o;
}

int grid_task_json(struct store *st, const struct config *cfg, long long id,
		   json_t **out)
{
	struct grid g = GRID_INIT;
	int ret = grid_load(&g, st, cfg, id);

	*out = ret ? NULL : grid_json(&g);
	grid_release(&g);
	return ret;
}
