/*
 * engine/grid on a real SQLite store: a task with one step that is not
 * a criterion and three rubric_shell steps whose results are written
 * with store_step_edit (objects graded under today's basis, under an
 * old PASS_MARKER and under no recorded basis, the original's legacy
 * strings, golden under its old "golden.patch" key, a step never run).
 * Checks the cells, their staleness, the totals, the rubric's check and
 * the whole document of `task report --json`.
 */
#include "core/config.h"
#include "core/grade.h"
#include "engine/grid.h"
#include "os/error.h"
#include "os/xalloc.h"
#include "steps/grade_basis.h"
#include "store/store.h"
#include "scratch.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct config cfg;
static const char *folder; /* the task's folder */

static int set_results(struct step *s, void *data)
{
	json_decref(s->results);
	s->results = json_incref(data);
	return 0;
}

static const json_t *shell(const struct step *s)
{
	return json_object_get(s->settings, "rubric_shell");
}

/* an entry of status graded under today's basis of candidate key */
static json_t *today(struct store *st, long long step, const char *key,
		     const char *status)
{
	struct grade_basis_env env;
	struct step s = { 0 };
	json_t *e = json_pack("{s:s}", "status", status);

	if (store_step_get(st, step, &s))
		return e;
	grade_basis_env_init(&env, &cfg, NULL, shell(&s), s.task_local_path);
	json_object_set_new(e, "basis", grade_basis_today(&env, key));
	grade_basis_env_release(&env);
	step_release(&s);
	return e;
}

/* an entry graded under today's basis but another PASS_MARKER */
static json_t *old_marker(struct store *st, long long step, const char *key,
			  const char *status)
{
	json_t *e = today(st, step, key, status);
	json_object_set_new(json_object_get(e, "basis"), "pass_marker",
			    json_string("OLD"));
	return e;
}

static long long add_step(struct store *st, long long task, const char *title,
			  const char *settings)
{
	json_t *j = json_loads(settings, 0, NULL);
	long long id = 0;
	if (!j || store_step_create(st, task, title, j, 0, &id))
		id = 0;
	json_decref(j);
	return id;
}

static int write_results(struct store *st, long long step, json_t *results)
{
	int ret = store_step_edit(st, step, set_results, results);
	json_decref(results);
	return ret;
}

static const struct grid_criterion *row(const struct grid *g, long long id)
{
	size_t i;
	for (i = 0; i < g->nr; i++)
		if (g->c[i].s->id == id)
			return &g->c[i];
	return NULL;
}

/* the expected document, step IDs filled in */
static json_t *expected(long long task, long long s2, long long s3,
			long long s4)
{
	char *text = xstrfmt(
		"{\"task\": {\"id\": %lld, \"name\": \"grid\"},"
		"\"criteria\": ["
		"{\"step_id\": %lld, \"title\": \"Rubric 1 builds\","
		"\"criterion_id\": \"c1\", \"score\": 2, \"required\": true,"
		"\"results\": {\"solution1.patch\": \"PASS\","
		"\"solution2.patch\": \"FAIL\", \"solution3.patch\": null,"
		"\"solution4.patch\": null, \"original\": \"FAIL\","
		"\"golden\": \"PASS\"},"
		"\"cells\": {"
		"\"solution1.patch\": {\"status\": \"PASS\", \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 1, \"passes\": 1, \"tamper\": []},"
		"\"solution2.patch\": {\"status\": \"FAIL\", \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 1, \"passes\": 0, \"tamper\": []},"
		"\"solution3.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"solution4.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"original\": {\"status\": \"FAIL\", \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 1, \"passes\": 0, \"tamper\": []},"
		"\"golden\": {\"status\": \"PASS\", \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 1, \"passes\": 1, \"tamper\": []}}},"
		"{\"step_id\": %lld, \"title\": \"Rubric 2 tests\","
		"\"criterion_id\": null, \"score\": 1.5, \"required\": false,"
		"\"results\": {\"solution1.patch\": \"FAIL\","
		"\"solution2.patch\": \"PASS\", \"solution3.patch\": null,"
		"\"solution4.patch\": null, \"original\": \"PASS\","
		"\"golden\": \"TIMEOUT\"},"
		"\"cells\": {"
		"\"solution1.patch\": {\"status\": \"FAIL\", \"infrastructure\": false, \"stale\": true,"
		"\"stale_reason\": \"PASS_MARKER 'OLD' → '#__PASS__#'\", \"attempts\": 1, \"passes\": 0, \"tamper\": []},"
		"\"solution2.patch\": {\"status\": \"PASS\", \"infrastructure\": false, \"stale\": true,"
		"\"stale_reason\": \"no record of what decided it\", \"attempts\": 1, \"passes\": 1, \"tamper\": []},"
		"\"solution3.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"solution4.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"original\": {\"status\": \"PASS\", \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 1, \"passes\": 1, \"tamper\": []},"
		"\"golden\": {\"status\": \"TIMEOUT\", \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 1, \"passes\": 0, \"tamper\": []}}},"
		"{\"step_id\": %lld, \"title\": \"Rubric 3 never run\","
		"\"criterion_id\": \"c3\", \"score\": 0.3, \"required\": true,"
		"\"results\": {\"solution1.patch\": null,"
		"\"solution2.patch\": null, \"solution3.patch\": null,"
		"\"solution4.patch\": null, \"original\": null,"
		"\"golden\": null},"
		"\"cells\": {"
		"\"solution1.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"solution2.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"solution3.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"solution4.patch\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"original\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []},"
		"\"golden\": {\"status\": null, \"infrastructure\": false, \"stale\": false,"
		"\"stale_reason\": null, \"attempts\": 0, \"passes\": 0, \"tamper\": []}}}],"
		"\"candidates\": {"
		"\"solution1.patch\": {\"passed\": 1, \"total\": 3,"
		"\"not_run\": 1, \"score\": 2, \"max_score\": 3.8,"
		"\"required_failed\": []},"
		"\"solution2.patch\": {\"passed\": 1, \"total\": 3,"
		"\"not_run\": 1, \"score\": 1.5, \"max_score\": 3.8,"
		"\"required_failed\": [%lld]},"
		"\"solution3.patch\": {\"passed\": 0, \"total\": 3,"
		"\"not_run\": 3, \"score\": 0, \"max_score\": 3.8,"
		"\"required_failed\": []},"
		"\"solution4.patch\": {\"passed\": 0, \"total\": 3,"
		"\"not_run\": 3, \"score\": 0, \"max_score\": 3.8,"
		"\"required_failed\": []},"
		"\"original\": {\"passed\": 1, \"total\": 3,"
		"\"not_run\": 1, \"score\": 1.5, \"max_score\": 3.8,"
		"\"required_failed\": [%lld]},"
		"\"golden\": {\"passed\": 1, \"total\": 3,"
		"\"not_run\": 1, \"score\": 2, \"max_score\": 3.8,"
		"\"required_failed\": []}},"
		"\"check\": {\"fail_on_golden\": [%lld],"
		"\"pass_on_original\": [%lld]},"
		"\"health\": {\"valid\": false, \"criteria\": ["
		"{\"step_id\": %lld, \"criterion_id\": \"c1\", \"ok\": true,"
		"\"flags\": [], \"golden\": {\"status\": \"PASS\","
		"\"attempts\": 1, \"passes\": 1, \"duration_ms\": null,"
		"\"timeout_s\": 120}, \"original\": {\"status\": \"FAIL\"},"
		"\"separates\": {\"pass\": [\"solution1.patch\", \"golden\"],"
		"\"fail\": [\"solution2.patch\", \"original\"]},"
		"\"flip_rate\": null, \"suggested_timeout_s\": null},"
		"{\"step_id\": %lld, \"criterion_id\": null, \"ok\": false,"
		"\"flags\": [\"golden does not pass: TIMEOUT (0 of 1 attempt "
		"passed)\", \"the original passes: the criterion needs no "
		"change\"], \"golden\": {\"status\": \"TIMEOUT\","
		"\"attempts\": 1, \"passes\": 0, \"duration_ms\": null,"
		"\"timeout_s\": null}, \"original\": {\"status\": \"PASS\"},"
		"\"separates\": {\"pass\": [\"solution2.patch\", \"original\"],"
		"\"fail\": [\"solution1.patch\", \"golden\"]},"
		"\"flip_rate\": null, \"suggested_timeout_s\": null},"
		"{\"step_id\": %lld, \"criterion_id\": \"c3\", \"ok\": false,"
		"\"flags\": [\"golden and the original not graded (task run "
		"%lld --golden)\"],"
		"\"golden\": {\"status\": null, \"attempts\": 0, \"passes\": 0,"
		"\"duration_ms\": null, \"timeout_s\": null},"
		"\"original\": {\"status\": null},"
		"\"separates\": {\"pass\": [], \"fail\": []},"
		"\"flip_rate\": null, \"suggested_timeout_s\": null}]}}",
		task, s2, s3, s4, s2, s2, s3, s3, s2, s3, s4, task);
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	if (!j)
		fprintf(stderr, "# expected document: %s\n", err.text);
	free(text);
	return j;
}

static void test_grid(struct store *st)
{
	long long task, s1, s2, s3, s4;
	struct grid g = GRID_INIT;
	const struct grid_criterion *c;
	struct grid_totals t;
	json_t *doc = NULL, *want, *ids;
	char *got;
	int ungraded, ret;

	ok(!store_task_create(st, "grid", "active", folder, &task), "a task");
	s1 = add_step(st, task, "setup", "{\"file_exists\": \"a\"}");
	s2 = add_step(st, task, "Rubric 1 builds",
		      "{\"rubric_shell\": {\"command\": \"make\","
		      " \"score\": 2, \"required\": true,"
		      " \"criterion_id\": \"c1\"}}");
	s3 = add_step(st, task, "Rubric 2 tests",
		      "{\"rubric_shell\": {\"command\": \"make test\","
		      " \"score\": \"1.5\", \"criterion_id\": \"\"}}");
	s4 = add_step(st, task, "Rubric 3 never run",
		      "{\"rubric_shell\": {\"command\": \"make check\","
		      " \"score\": 0.3, \"required\": \"yes\","
		      " \"criterion_id\": \"c3\"}}");
	ok(s1 && s2 && s3 && s4, "four steps");

	ok(!write_results(st, s2,
			  json_pack("{s:o, s:o, s:o, s:o}", "solution1.patch",
				    today(st, s2, "solution1.patch", "PASS"),
				    "solution2.patch",
				    today(st, s2, "solution2.patch", "FAIL"),
				    "original",
				    today(st, s2, "original", "FAIL"), "golden",
				    today(st, s2, "golden", "PASS"))) &&
		   !write_results(
			   st, s3,
			   json_pack("{s:o, s:{s:s}, s:s, s:{s:s}}",
				     "solution1.patch",
				     old_marker(st, s3, "solution1.patch",
						"FAIL"),
				     "solution2.patch", "status", "PASS",
				     "original", "#__PASS__#\nOutput: ok",
				     "golden.patch", "status", "TIMEOUT")),
	   "results written with store_step_edit");

	ret = grid_load(&g, st, &cfg, task);
	ok(!ret && g.task && g.task->id == task && g.nsteps == 4,
	   "grid_load reads the task and its four steps");
	ok(g.nr == 3, "three criteria: the rubric_shell steps (%zu)", g.nr);
	ok(!grid_criterion_of(&g, &g.steps[0]) &&
		   grid_criterion_of(&g, &g.steps[1]) == &g.c[0],
	   "a step of another type has no row");
	ok(!grid_is_criterion(&g.steps[0]) && grid_is_criterion(&g.steps[3]),
	   "only rubric_shell steps are criteria");

	c = row(&g, s2);
	ok(c && c->score == 2 && c->required && c->criterion_id &&
		   !strcmp(c->criterion_id, "c1"),
	   "score, required and criterion_id");
	ok(c && c->status[0] == GRADE_PASS && c->status[1] == GRADE_FAIL &&
		   c->status[2] == GRID_NOT_RUN &&
		   c->status[3] == GRID_NOT_RUN &&
		   c->status[GRID_COL_ORIGINAL] == GRADE_FAIL &&
		   c->status[GRID_COL_GOLDEN] == GRADE_PASS,
	   "cells from result objects; absent candidates are not run");
	ok(c && !c->stale[0] && !c->stale[1] && !c->stale[4] && !c->stale[5],
	   "cells graded under today's basis are not stale");

	c = row(&g, s3);
	ok(c && c->score == 1.5 && !c->required && !c->criterion_id,
	   "a score as a string, an empty criterion_id, required unset");
	ok(c && c->status[GRID_COL_ORIGINAL] == GRADE_PASS,
	   "a legacy string result is read by the PASS marker in it");
	ok(c && c->status[GRID_COL_GOLDEN] == GRADE_TIMEOUT,
	   "golden is read from golden.patch when golden is absent");
	is_str(c ? c->stale[0] : NULL, "PASS_MARKER 'OLD' → '#__PASS__#'",
	       "graded under another PASS_MARKER: stale, and why");
	is_str(c ? c->stale[1] : NULL, "no record of what decided it",
	       "graded with no basis: stale");
	ok(c && !c->stale[GRID_COL_ORIGINAL],
	   "a legacy string cell is never stale");
	ok(g.nstale == 2, "two stale cells in all (%d)", g.nstale);

	c = row(&g, s4);
	ok(c && c->required && c->status[0] == GRID_NOT_RUN &&
		   c->status[GRID_COL_GOLDEN] == GRID_NOT_RUN,
	   "a step without results: every cell not run");

	grid_total(&g, 1, &t);
	ok(t.passed == 1 && t.not_run == 1 && t.score == 1.5 &&
		   grid_tidy(t.max_score) == 3.8,
	   "solution2's totals: 1 passed, 1 not run, 1.5 of 3.8");
	got = json_dumps(t.required_failed, JSON_COMPACT);
	want = json_pack("[I]", (json_int_t)s2);
	ok(json_equal(t.required_failed, want),
	   "solution2 fails the required criterion %lld (%s)", s2, got);
	free(got);
	json_decref(want);
	grid_totals_release(&t);

	grid_total(&g, 2, &t);
	ok(t.passed == 0 && t.not_run == 3 && t.score == 0 &&
		   !json_array_size(t.required_failed),
	   "solution3 graded nowhere: all not run, nothing failed");
	grid_totals_release(&t);

	ok(grid_tidy(0.1 + 0.2) == 0.3 && grid_tidy(-1.25) == -1.25,
	   "sums are tidied to what people write");

	ids = grid_check(&g, GRID_FAIL_ON_GOLDEN, &ungraded);
	ok(json_array_size(ids) == 1 &&
		   json_integer_value(json_array_get(ids, 0)) == s3 &&
		   ungraded == 1,
	   "check: golden does not pass step %lld; one not graded", s3);
	json_decref(ids);
	ids = grid_check(&g, GRID_PASS_ON_ORIGINAL, &ungraded);
	ok(json_array_size(ids) == 1 &&
		   json_integer_value(json_array_get(ids, 0)) == s3 &&
		   ungraded == 1,
	   "check: the original passes step %lld; one not graded", s3);
	json_decref(ids);

	doc = grid_json(&g);
	want = expected(task, s2, s3, s4);
	ok(want && json_equal(doc, want), "the JSON document, whole");
	if (want && !json_equal(doc, want)) {
		got = json_dumps(doc, JSON_INDENT(1));
		fprintf(stderr, "# got:\n%s\n", got);
		free(got);
	}
	json_decref(doc);
	grid_release(&g);

	ok(!grid_task_json(st, &cfg, task, &doc) && json_equal(doc, want),
	   "grid_task_json gives the same document");
	json_decref(doc);
	json_decref(want);
	ok(grid_task_json(st, &cfg, task + 100, &doc) == TS_ENOTFOUND && !doc,
	   "a missing task: TS_ENOTFOUND and no document");
}

int main(void)
{
	char *dir = scratch_home("test-grid");
	struct store *st = NULL;

	if (!dir)
		return 1;
	folder = dir;
	if (!ok(!config_load(&cfg) && !store_open(&cfg, 0, &st),
		"a SQLite store in %s", dir))
		return tap_done();
	test_grid(st);
	store_close(st);
	config_release(&cfg);
	scratch_remove(dir);
	return tap_done();
}
