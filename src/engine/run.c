#include "engine/internal.h"
#include "engine/walk.h"
#include "core/deps.h"
#include "os/error.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run_plan(struct plan *p)
{
	size_t *order = NULL;
	size_t i;
	int ret = resolve_deps(p);

	for (i = 0; !ret && i < p->nextra; i++)
		add_node(p, &p->extra[i], 1);
	/* sized after the other tasks' dependencies joined the plan */
	order = xcalloc(p->nr + 1, sizeof(*order));
	if (!ret)
		ret = topo_order(p, order);
	for (i = 0; !ret && i < p->nr && !p->stats->interrupted; i++)
		if (!p->nodes[order[i]].done)
			ret = process(p, &p->nodes[order[i]]);
	free(order);
	return ret;
}

static int lock_task(struct plan *p, long long task_id)
{
	long long until = proc_now_ms() + p->o->lock_wait_ms;
	int r;
	if (p->o->flags & RUN_DRY)
		return 1;
	while ((r = store_lock_task(p->st, task_id)) == 0 &&
	       proc_now_ms() < until && !proc_was_interrupted())
		usleep(100 * 1000);
	if (r >= 0 && p->o->on_lock)
		p->o->on_lock(task_id, r > 0, p->o->on_lock_data);
	if (r == 0) {
		p->stats->busy++;
		error("task %lld is being run by another task-sync process; "
		      "try again when it finishes",
		      task_id);
	}
	return r;
}

/*
 * A step that ran could not record its result because it, or its task,
 * was deleted meanwhile (task delete refuses while the run lock is
 * held; a process that ignores the lock can still do it): say so.
 */
static int vanished(const struct engine_stats *s, long long task_id, int ret)
{
	if (!s->vanished)
		return ret;
	return error_code(TS_ENOTFOUND,
			  "task %lld, or the step that ran, was "
			  "deleted while it ran: its result is lost",
			  task_id);
}

static int outcome(const struct engine_stats *s, int ret)
{
	if (ret)
		return ret;
	if (s->interrupted || s->failed || s->blocked || s->busy || s->broken ||
	    s->unreadable)
		return TS_ESTEP;
	return 0;
}

/* run the task's steps; steps generated meanwhile are run afterwards */
static int seen_has(const long long *seen, size_t n, long long id)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (seen[i] == id)
			return 1;
	return 0;
}

static int run_task_steps(struct plan *p, long long task_id, struct step *steps,
			  size_t nsteps)
{
	size_t i, round, nseen = 0, alloc = 0;
	long long *seen = NULL;
	int ret, ran = p->stats->ran;

	for (i = 0; i < nsteps; i++) {
		add_node(p, &steps[i], 0);
		ALLOC_GROW(seen, nseen + 1, alloc);
		seen[nseen++] = steps[i].id;
	}
	ret = run_plan(p);
	for (round = 0; !ret && round < 8 && !p->stats->interrupted &&
			!(p->o->flags & RUN_DRY);
	     round++) {
		struct step *more = NULL;
		size_t nmore = 0, added = 0, known = nseen;
		struct plan q = *p;

		/*
		 * Only a step that ran can have generated steps: when none
		 * did, skip re-reading the task's steps (with every step
		 * fresh, that re-read was a fifth of a no-change run-steps).
		 */
		if (p->stats->ran == ran)
			break;
		ran = p->stats->ran;
		ret = q_step_list(p->st, task_id, &more, &nmore);
		if (ret)
			break;
		q.nodes = NULL;
		q.nr = q.alloc = 0;
		q.extra = NULL;
		q.nextra = 0;
		for (i = 0; i < nmore; i++) {
			add_node(&q, &more[i], 0);
			if (seen_has(seen, known, more[i].id)) {
				q.nodes[q.nr - 1].done = 1;
				continue;
			}
			/* generated during this run: run it in this run */
			ALLOC_GROW(seen, nseen + 1, alloc);
			seen[nseen++] = more[i].id;
			added++;
		}
		if (added)
			ret = run_plan(&q);
		plan_release(&q);
		step_list_free(more, nmore);
		if (!added)
			break;
	}
	free(seen);
	return ret;
}

int plan_load_active(struct store *st, long long task_id, struct task *t)
{
	int ret = store_task_get(st, task_id, t);

	if (ret || !strcmp(t->status, "active"))
		return ret;
	return error_code(TS_ESTEP,
			  "task %lld is %s: only active tasks run (task-sync "
			  "task edit %lld --set status=active)",
			  task_id, t->status, task_id);
}

int engine_run_task(struct store *st, const struct config *cfg,
		    long long task_id, const struct engine_opts *o,
		    struct engine_stats *stats)
{
	struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL, 0, 0 };
	struct task t = { 0 };
	struct step *steps = NULL;
	size_t nsteps = 0;
	int ret, locked = 0;

	p.task = &t;
	ret = plan_load_active(st, task_id, &t);
	if (ret)
		goto out;
	if (!o->flags && !o->repeat) {
		struct fast f = { st, o, stats, NULL, NULL, NULL };
		struct fresh_rows rows;
		int fresh = 0;
		ret = store_fresh_rows(st, task_id, !o->quiet_fresh, &rows);
		if (!ret && rows.nr)
			fresh = fast_task(&f, rows.v, rows.nr, NULL);
		store_fresh_rows_free(&rows);
		if (fresh < 0)
			ret = TS_EFAIL;
		if (ret || fresh)
			goto out; /* fresh: nothing to lock or run */
	}
	locked = lock_task(&p, task_id);
	if (locked <= 0) {
		ret = locked < 0 ? TS_EFAIL : TS_ESTEP;
		locked = 0;
		goto out;
	}
	ret = q_step_list(st, task_id, &steps, &nsteps);
	if (!ret && !nsteps)
		note("task %lld has no steps", task_id); /* nothing to do */
	else if (!ret)
		ret = run_task_steps(&p, task_id, steps, nsteps);
out:
	if (locked && !(o->flags & RUN_DRY))
		store_unlock_task(st, task_id);
	plan_release(&p);
	step_list_free(steps, nsteps);
	task_release(&t);
	return outcome(stats, vanished(stats, task_id, ret));
}

/*
 * step run: a task's steps as a graph for walk_from, each depends_on
 * read when the walk reaches its step (a malformed one is an error
 * only there).
 */
struct steps_graph {
	struct step *steps;
	size_t nr;
	long long **deps;
	size_t *ndeps;
};

static long long steps_id(void *data, size_t i)
{
	struct steps_graph *g = data;
	return g->steps[i].id;
}

static int steps_deps(void *data, size_t i, const long long **deps, size_t *nr)
{
	struct steps_graph *g = data;
	struct strbuf err = STRBUF_INIT;
	int ret;

	free(g->deps[i]);
	g->deps[i] = NULL;
	g->ndeps[i] = 0;
	if (step_depends_on(g->steps[i].settings, &g->deps[i], &g->ndeps[i],
			    &err)) {
		ret = deps_error(g->steps[i].id, err.buf);
		strbuf_release(&err);
		return ret;
	}
	*deps = g->deps[i];
	*nr = g->ndeps[i];
	return 0;
}

static size_t steps_index(void *data, long long id)
{
	struct steps_graph *g = data;
	size_t j;
	for (j = 0; j < g->nr && g->steps[j].id != id; j++)
		;
	return j;
}

/* step run: is the step on (or behind) a dependency cycle in its task? */
static int check_cycle(struct store *st, const struct step *s)
{
	struct steps_graph sg = { NULL, 0, NULL, NULL };
	struct walk_graph g = { 0, &sg, steps_id, steps_deps, steps_index };
	struct strbuf cycle = STRBUF_INIT;
	size_t i;
	int ret = q_step_list(st, s->task_id, &sg.steps, &sg.nr);

	if (ret)
		return ret;
	g.nr = sg.nr;
	sg.deps = xcalloc(sg.nr + 1, sizeof(*sg.deps));
	sg.ndeps = xcalloc(sg.nr + 1, sizeof(*sg.ndeps));
	i = steps_index(&sg, s->id);
	if (i < sg.nr)
		ret = walk_from(&g, i, &cycle);
	if (ret && cycle.len)
		ret = error_code(TS_EFAIL,
				 "dependency cycle between steps: "
				 "%s (each waits for the next)",
				 cycle.buf);
	strbuf_release(&cycle);
	for (i = 0; i < sg.nr; i++)
		free(sg.deps[i]);
	free(sg.deps);
	free(sg.ndeps);
	step_list_free(sg.steps, sg.nr);
	return ret;
}

int engine_run_step(struct store *st, const struct config *cfg,
		    long long step_id, const struct engine_opts *o,
		    struct engine_stats *stats)
{
	struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL, 0, 1 };
	struct step s = { 0 };
	int ret, locked = 0;

	ret = q_step_get(st, step_id, &s);
	if (ret)
		return ret;
	if (strcmp(s.task_status, "active")) {
		ret = error_code(TS_ESTEP,
				 "step %lld not run: its task %lld "
				 "is %s, and only active tasks run",
				 step_id, s.task_id, s.task_status);
		goto out;
	}
	locked = o->no_task_lock ? 0 : lock_task(&p, s.task_id);
	if (!o->no_task_lock && locked <= 0) {
		ret = locked < 0 ? TS_EFAIL : TS_ESTEP;
		locked = 0;
		goto out;
	}
	add_node(&p, &s, 0);
	ret = resolve_deps(&p);
	if (!ret)
		ret = check_cycle(st, &s);
	if (!ret)
		ret = process(&p, &p.nodes[0]);
out:
	if (locked && !(o->flags & RUN_DRY))
		store_unlock_task(st, s.task_id);
	ret = vanished(stats, s.task_id, ret);
	plan_release(&p);
	step_release(&s);
	return outcome(stats, ret);
}

/* run one task of run-steps in full, under its lock */
static int run_all_task(struct store *st, const struct config *cfg,
			const struct engine_opts *o, struct engine_stats *stats,
			long long task_id, struct step *steps, size_t nsteps)
{
	struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL, 0, 0 };
	struct step *own = NULL;
	size_t nown = 0;
	int locked, ret = 0;

	locked = lock_task(&p, task_id);
	if (locked < 0)
		return TS_EFAIL;
	if (!locked)
		return 0;
	/* without a snapshot (the no-change check ran first): read now */
	if (!steps) {
		ret = q_step_list(st, task_id, &own, &nown);
		steps = own;
		nsteps = nown;
	}
	/*
	 * A broken task (a cycle, say; the error is printed) does not stop
	 * the rest. Counted apart: no step of it failed.
	 */
	if (!ret && nsteps && run_task_steps(&p, task_id, steps, nsteps))
		stats->broken++;
	if (!(o->flags & RUN_DRY))
		store_unlock_task(st, task_id);
	plan_release(&p);
	step_list_free(own, nown);
	return ret;
}

/*
 * run-steps without flags: the no-change check over every active task
 * from one query, then the full decision (under the lock) for the tasks
 * it cannot clear. Once this run has written a step, what the query
 * read of the later tasks may be out of date: each is read again.
 */
static int run_all_fast(struct store *st, const struct config *cfg,
			const struct engine_opts *o, struct engine_stats *stats)
{
	struct fresh_rows all, one = { NULL, 0, NULL };
	struct fast f = { st, o, stats, NULL, NULL, NULL };
	size_t i = 0;
	int ret;

	ret = store_fresh_rows(st, 0, !o->quiet_fresh, &all);
	f.all = &all;
	if (!ret && !all.nr)
		note("no active task has steps: nothing to run");
	if (!ret)
		prepass(&f);
	while (!ret && i < all.nr && !stats->interrupted) {
		long long task_id = all.v[i].task_id;
		const struct fresh_row *task = &all.v[i];
		const signed char *local = f.local ? f.local + i : NULL;
		size_t j = i, nr;
		int r;

		while (j < all.nr && all.v[j].task_id == task_id)
			j++;
		nr = j - i;
		i = j;
		if (stats->writes) {
			/* this run wrote: read the task again */
			f.all = NULL;
			local = NULL;
			store_fresh_rows_free(&one);
			ret = store_fresh_rows(st, task_id, !o->quiet_fresh,
					       &one);
			if (ret)
				break;
			task = one.v;
			nr = one.nr;
			if (!nr)
				continue; /* its steps are gone */
		}
		r = fast_task(&f, task, nr, local);
		if (r < 0)
			ret = TS_EFAIL;
		else if (!r)
			ret = run_all_task(st, cfg, o, stats, task_id, NULL, 0);
	}
	store_fresh_rows_free(&one);
	store_fresh_rows_free(&all);
	free(f.by_id);
	free(f.local);
	return outcome(stats, ret);
}

int engine_run_all(struct store *st, const struct config *cfg,
		   const struct engine_opts *o, struct engine_stats *stats)
{
	struct step *steps = NULL;
	size_t nsteps = 0, i = 0;
	int ret;

	if (!o->flags && !o->repeat)
		return run_all_fast(st, cfg, o, stats);
	ret = q_step_list_active(st, &steps, &nsteps);
	if (!ret && !nsteps)
		note("no active task has steps: nothing to run");
	while (!ret && i < nsteps && !stats->interrupted) {
		long long task_id = steps[i].task_id;
		size_t j = i;

		while (j < nsteps && steps[j].task_id == task_id)
			j++;
		ret = run_all_task(st, cfg, o, stats, task_id, steps + i,
				   j - i);
		i = j;
	}
	step_list_free(steps, nsteps);
	return outcome(stats, ret);
}
