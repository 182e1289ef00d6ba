/*
 * task run --queue: the task's runnable steps as items of the work queue
 * (store.h), in the order a run would take them; worker/ runs them.
 */
#include "engine/internal.h"
#include "os/error.h"
#include "os/strvec.h"
#include "os/xalloc.h"
#include "steps/rubric_shell.h"

#include <stdlib.h>
#include <string.h>

/* the node's dependencies that are steps of this task */
static size_t own_deps(struct plan *p, const struct node *n, long long *out)
{
	size_t i, k = 0;
	for (i = 0; i < n->ndeps; i++) {
		const struct node *d = plan_find(p, n->deps[i]);
		if (d && !d->external)
			out[k++] = n->deps[i];
	}
	return k;
}

static int enqueue_node(struct plan *p, struct node *n, long long batch,
			long long *items)
{
	long long *deps = xcalloc(n->ndeps + 1, sizeof(*deps));
	size_t nd = own_deps(p, n, deps), i;
	struct strvec keys = STRVEC_INIT;
	int ret = 0;

	if (n->type && !strcmp(n->type, "rubric_shell") && !n->s->unreadable) {
		struct step_exec x;
		exec_init(p, n, &x);
		rubric_shell_candidates(&x, &keys);
		strbuf_release(&x.log);
	}
	for (i = 0; !ret && i < keys.nr; i++, (*items)++)
		ret = store_queue_add(p->st, batch, n->s->task_id, n->s->id,
				      keys.v[i], p->o->flags, deps, nd);
	/* a whole step; also a rubric step with no candidate (it says why) */
	if (!ret && !keys.nr) {
		ret = store_queue_add(p->st, batch, n->s->task_id, n->s->id,
				      NULL, p->o->flags, deps, nd);
		(*items)++;
	}
	strvec_clear(&keys);
	free(deps);
	return ret;
}

/*
 * The steps as a plan, in the order a run takes them, queued in one
 * transaction: with generator 0 every step, in a new batch (*batch);
 * else the steps generator made that *batch lacks. *items counts.
 */
static int enqueue_steps(struct plan *p, struct step *steps, size_t nsteps,
			 long long generator, long long *batch,
			 long long *items)
{
	size_t i, *order = NULL;
	int ret;

	for (i = 0; i < nsteps; i++)
		add_node(p, &steps[i], 0);
	ret = resolve_deps(p);
	for (i = 0; !ret && i < p->nextra; i++)
		add_node(p, &p->extra[i], 1);
	order = xcalloc(p->nr + 1, sizeof(*order));
	if (!ret)
		ret = topo_order(p, order);
	if (!ret && !generator)
		ret = store_queue_batch(p->st, batch);
	if (!ret)
		ret = store_begin(p->st);
	for (i = 0; !ret && i < p->nr; i++) {
		struct node *n = &p->nodes[order[i]];
		int has = 0;
		if (n->external || step_run_only(n) ||
		    (generator && n->s->generated_by != generator))
			continue;
		if (generator)
			ret = store_queue_has_step(p->st, *batch, n->s->id,
						   &has);
		if (!ret && !has)
			ret = enqueue_node(p, n, *batch, items);
	}
	if (!ret)
		ret = store_commit(p->st);
	else
		store_rollback(p->st);
	free(order);
	return ret;
}

int engine_enqueue_task(struct store *st, const struct config *cfg,
			long long task_id, unsigned flags, long long *items,
			long long *batch)
{
	struct engine_opts o = { 0 };
	struct engine_stats stats = { 0 };
	struct plan p = { st, cfg, &o, &stats, NULL, NULL, 0, 0, NULL, 0, 0 };
	struct task t = { 0 };
	struct step *steps = NULL;
	size_t nsteps = 0;
	long long open = 0;
	int ret, locked = 0;

	*items = 0;
	*batch = 0;
	o.flags = flags;
	o.out = stderr;
	if (!store_queue_supported(st))
		return error_code(TS_EFAIL, "the work queue needs PostgreSQL "
					    "(DATABASE_URL); this database is "
					    "SQLite");
	p.task = &t;
	ret = plan_load_active(st, task_id, &t);
	if (ret)
		goto out;
	/* one enqueuer at a time per task */
	locked = store_lock_task(st, task_id);
	if (locked <= 0) {
		ret = locked < 0 ? TS_EFAIL
				 : error_code(TS_ESTEP,
					      "task %lld is being run by "
					      "another task-sync process; try "
					      "again when it finishes",
					      task_id);
		locked = 0;
		goto out;
	}
	ret = store_queue_open_items(st, task_id, &open);
	if (!ret && open) {
		ret = error_code(TS_ESTEP,
				 "task %lld already has %lld item%s queued or "
				 "running ('task-sync task status %lld'; "
				 "'task-sync task cancel %lld' withdraws them)",
				 task_id, open, open == 1 ? "" : "s", task_id,
				 task_id);
		goto out;
	}
	if (!ret)
		ret = q_step_list(st, task_id, &steps, &nsteps);
	if (!ret)
		ret = enqueue_steps(&p, steps, nsteps, 0, batch, items);
out:
	if (locked)
		store_unlock_task(st, task_id);
	plan_release(&p);
	step_list_free(steps, nsteps);
	task_release(&t);
	return ret;
}

int engine_enqueue_generated(struct store *st, const struct config *cfg,
			     long long batch, long long task_id,
			     long long generator, unsigned flags,
			     long long *added)
{
	struct engine_opts o = { 0 };
	struct engine_stats stats = { 0 };
	struct plan p = { st, cfg, &o, &stats, NULL, NULL, 0, 0, NULL, 0, 0 };
	struct step *steps = NULL;
	size_t nsteps = 0;
	long long missing = 0;
	int ret;

	*added = 0;
	o.flags = flags;
	o.out = stderr;
	/* most steps generate nothing: one count, not the task's plan */
	ret = store_queue_unqueued_children(st, batch, generator, &missing);
	if (ret || !missing)
		return ret;
	ret = q_step_list(st, task_id, &steps, &nsteps);
	if (!ret)
		ret = enqueue_steps(&p, steps, nsteps, generator, &batch,
				    added);
	plan_release(&p);
	step_list_free(steps, nsteps);
	return ret;
}
