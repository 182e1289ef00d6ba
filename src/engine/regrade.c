/*
 * Regrade (engine/regrade.h): the stored rubric_shell results decided
 * again under today's markers, one step per transaction.
 */
#include "engine/regrade.h"
#include "core/grade.h"
#include "core/jsonutil.h"
#include "engine/grid.h"
#include "os/error.h"
#include "os/xalloc.h"
#include "steps/grade_basis.h"

#include <stdlib.h>
#include <string.h>

/* ERROR < TIMEOUT < FAIL < PASS: a change towards PASS is "up" */
static int rank(int st)
{
	static const int ranks[] = { 3, 2, 1, 0 };
	return st >= 0 && st <= GRADE_ERROR ? ranks[st] : -1;
}

/* the changes of one step, held until its transaction is over */
struct held_change {
	char *key, *from;
	const char *to;
};

struct regrade {
	const struct config *cfg;
	const char *markers[3];
	struct store *st; /* where the outputs are (their runs) */
	int dry_run;
	struct regrade_counts *counts;
	struct held_change *held;
	size_t nheld, alloc;
};

#define NO_CHANGE 1 /* from regrade_step: roll back, nothing to write */

static int key_rank(const char *key)
{
	int col;
	for (col = 0; col < GRID_NCAND; col++)
		if (!strcmp(key, grid_cand_keys[col]))
			return col;
	return GRID_NCAND;
}

/* the grid's order, then the other keys by name (PostgreSQL reorders) */
static int key_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = key_rank(x), ry = key_rank(y);
	return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x, y);
}

static void hold(struct regrade *g, const char *key, const char *from,
		 const char *to)
{
	ALLOC_GROW(g->held, g->nheld + 1, g->alloc);
	g->held[g->nheld].key = xstrdup(key);
	g->held[g->nheld].from = xstrdup(from);
	g->held[g->nheld].to = to;
	g->nheld++;
}

/* hand the held changes of step id to fn (when given), then drop them */
static void flush(struct regrade *g, long long id, regrade_change_fn fn,
		  void *data)
{
	size_t i;
	for (i = 0; i < g->nheld; i++) {
		struct regrade_change c = { id, g->held[i].key, g->held[i].from,
					    g->held[i].to };
		if (fn)
			fn(&c, data);
		free(g->held[i].key);
		free(g->held[i].from);
	}
	g->nheld = 0;
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
	json_object_foreach(s->results, key, v) keys[nkeys++] = key;
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
		/*
		 * A cell of repeated attempts is decided by all of them;
		 * it stays as it is (its basis marks it stale when the
		 * markers changed, and task run grades it again).
		 */
		if (json_array_size(json_object_get(e, "attempts")) > 1)
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
		to = grade_reclassify(
			json_string_value(out), json_string_length(out),
			json_is_integer(ec) ? (int)json_integer_value(ec) : -1,
			g->markers[0], g->markers[1], g->markers[2], &why);
		if (to != from) {
			const char *name =
				grade_status_name((enum grade_status)to);
			/* old and reason point into e: hold before setting */
			hold(g, keys[i], old, name);
			json_object_set_new(e, "status", json_string(name));
			json_object_set_new(e, "reason",
					    why ? json_string(why)
						: json_null());
			changed++;
			if (rank(to) > rank(from))
				g->counts->up++;
			else
				g->counts->down++;
		}
		free(why);
	}
	free(keys);
	json_decref(with_out);
	g->counts->changed += changed;
	g->counts->recorded += recorded;
	return (!changed && !recorded) || g->dry_run ? NO_CHANGE : 0;
}

int regrade_steps(struct store *st, const struct config *cfg,
		  const struct step *steps, size_t nr, int dry_run,
		  regrade_change_fn fn, void *data,
		  struct regrade_counts *counts)
{
	struct regrade g = {
		cfg, { NULL, NULL, NULL }, st, dry_run, counts, NULL, 0, 0
	};
	size_t i;
	int ret = 0;

	memset(counts, 0, sizeof(*counts));
	g.markers[0] = config_get(cfg, CFG_PASS_MARKER);
	g.markers[1] = config_get(cfg, CFG_FAIL_MARKER);
	g.markers[2] = config_get(cfg, CFG_TIMEOUT_MARKER);
	for (i = 0; i < nr && !ret; i++) {
		int r;
		if (!grid_is_criterion(&steps[i]) ||
		    !json_is_object(steps[i].results))
			continue;
		/* each step in its own transaction, its row locked */
		r = store_step_edit(st, steps[i].id, regrade_step, &g);
		if (r && r != NO_CHANGE)
			ret = r;
		/* what a failed step would have changed is not reported */
		flush(&g, steps[i].id, ret ? NULL : fn, data);
	}
	free(g.held);
	return ret;
}

int regrade_task(struct store *st, const struct config *cfg, long long id,
		 int dry_run, regrade_change_fn fn, void *data,
		 struct regrade_counts *counts)
{
	struct task t = { 0 };
	struct step *steps = NULL;
	size_t nsteps = 0;
	int ret = store_task_get(st, id, &t);

	if (!ret)
		ret = store_step_list(st, id, &steps, &nsteps);
	if (!ret)
		ret = regrade_steps(st, cfg, steps, nsteps, dry_run, fn, data,
				    counts);
	step_list_free(steps, nsteps);
	task_release(&t);
	return ret;
}
