#include "engine/internal.h"
#include "engine/walk.h"
#include "core/deps.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"

#include <stdlib.h>
#include <string.h>

/*
 * The engine's own reads of steps: a step whose stored JSON cannot be
 * read is reported once, by process(), in one line (not once per read
 * by the store, and again when its result cannot be written).
 */
int q_step_list(struct store *st, long long task_id, struct step **out,
		size_t *nr)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_list(st, task_id, out, nr);
	store_quiet_unreadable_steps(0);
	return ret;
}

int q_step_find(struct store *st, long long id, struct step *out)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_find(st, id, out);
	store_quiet_unreadable_steps(0);
	return ret;
}

int q_step_get(struct store *st, long long id, struct step *out)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_get(st, id, out);
	store_quiet_unreadable_steps(0);
	return ret;
}

int q_step_list_active(struct store *st, struct step **out, size_t *nr)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_list_active(st, out, nr);
	store_quiet_unreadable_steps(0);
	return ret;
}

/*
 * dynamic_rubric is "run by specific step only" (the seed's quick
 * reference): task run and run-steps leave it to step run.
 */
int step_run_only(const struct node *n)
{
	return n->type && !strcmp(n->type, "dynamic_rubric");
}

struct node *plan_find(struct plan *p, long long id)
{
	size_t i;
	for (i = 0; i < p->nr; i++)
		if (p->nodes[i].s->id == id)
			return &p->nodes[i];
	return NULL;
}

void plan_release(struct plan *p)
{
	size_t i;
	for (i = 0; i < p->nr; i++) {
		free(p->nodes[i].deps);
		free(p->nodes[i].deps_err);
		free(p->nodes[i].digest);
	}
	free(p->nodes);
	for (i = 0; i < p->nextra; i++)
		step_release(&p->extra[i]);
	free(p->extra);
	p->nodes = NULL;
	p->extra = NULL;
	p->nr = p->alloc = p->nextra = 0;
}

/*
 * The node's type and dependencies, from its step's settings. A
 * malformed depends_on is kept in deps_err: check_deps() reports it
 * before anything runs (never read as "no dependencies").
 */
static void node_parse(struct node *n)
{
	struct strbuf why = STRBUF_INIT;
	if (step_type_of(n->s->settings, &n->type, NULL))
		n->type = NULL;
	free(n->deps_err);
	n->deps_err = NULL;
	if (step_depends_on(n->s->settings, &n->deps, &n->ndeps, &why)) {
		n->deps = NULL, n->ndeps = 0;
		n->deps_err = strbuf_detach(&why, NULL);
	}
	strbuf_release(&why);
}

int deps_error(long long id, const char *why)
{
	return error_code(TS_EFAIL, "step %lld: %s", id, why);
}

/* a step of this run whose depends_on cannot be read: an error */
static int check_deps(struct plan *p)
{
	size_t i;
	for (i = 0; i < p->nr; i++)
		if (!p->nodes[i].external && !p->nodes[i].done &&
		    p->nodes[i].deps_err)
			return deps_error(p->nodes[i].s->id,
					  p->nodes[i].deps_err);
	return 0;
}

void add_node(struct plan *p, struct step *s, int external)
{
	struct node *n;
	ALLOC_GROW(p->nodes, p->nr + 1, p->alloc);
	n = &p->nodes[p->nr++];
	memset(n, 0, sizeof(*n));
	n->s = s;
	n->external = external;
	node_parse(n);
}

/*
 * A generator (rubric_set, dynamic_rubric) that just ran may have
 * changed or deleted the children this plan read before it ran: read
 * them again, so a changed child runs with its new settings (and its
 * cleared results) and a deleted one does not run at all.
 */
int reload_children(struct plan *p, const struct node *gen)
{
	struct step *now = NULL;
	size_t nnow = 0, i, j;
	int any = 0, ret;

	for (i = 0; i < p->nr && !any; i++)
		any = !p->nodes[i].done && !p->nodes[i].external &&
		      p->nodes[i].s->generated_by == gen->s->id;
	if (!any)
		return 0;
	ret = q_step_list(p->st, gen->s->task_id, &now, &nnow);
	if (ret)
		return ret;
	for (i = 0; i < p->nr; i++) {
		struct node *n = &p->nodes[i];
		if (n->done || n->external || n->s->generated_by != gen->s->id)
			continue;
		for (j = 0; j < nnow && now[j].id != n->s->id; j++)
			;
		free(n->deps);
		n->deps = NULL;
		n->ndeps = 0;
		free(n->deps_err);
		n->deps_err = NULL;
		free(n->digest);
		n->digest = NULL;
		n->missing = 0; /* decide() sees a dependency now missing */
		if (j == nnow) {
			n->gone = 1;
			continue;
		}
		step_release(n->s);
		*n->s = now[j];
		memset(&now[j], 0, sizeof(now[j]));
		node_parse(n);
	}
	step_list_free(now, nnow);
	return 0;
}

/*
 * Check every depends_on can be read, and load dependencies that live in
 * other tasks. A dependency that does not exist is an error for step
 * run; for a task it is noted in the node (decide() blocks it).
 */
int resolve_deps(struct plan *p)
{
	size_t i, j, k, nr = p->nr;
	int ret = check_deps(p);

	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		struct node *n = &p->nodes[i];
		for (j = 0; j < n->ndeps; j++) {
			struct step s = { 0 };
			long long dep = n->deps[j];
			if (plan_find(p, dep))
				continue;
			/* once, however many steps depend on it */
			for (k = 0; k < p->nextra && p->extra[k].id != dep; k++)
				;
			if (k < p->nextra)
				continue;
			ret = q_step_find(p->st, dep, &s);
			if (ret == TS_ENOTFOUND && p->single)
				return error_code(TS_ESTEP,
						  "step %lld depends "
						  "on step %lld, which does "
						  "not exist",
						  n->s->id, dep);
			if (ret == TS_ENOTFOUND) {
				/* only it and its dependants are blocked */
				if (!n->missing)
					n->missing = dep;
				ret = 0;
				continue;
			}
			if (ret)
				return ret;
			p->extra = xrealloc(
				p->extra, (p->nextra + 1) * sizeof(*p->extra));
			p->extra[p->nextra++] = s;
		}
	}
	return 0;
}

/* the plan as a graph for the walks (engine/walk.h) */
static long long plan_id(void *data, size_t i)
{
	struct plan *p = data;
	return p->nodes[i].s->id;
}

static int plan_deps(void *data, size_t i, const long long **deps, size_t *nr)
{
	struct plan *p = data;
	*deps = p->nodes[i].deps;
	*nr = p->nodes[i].ndeps;
	return 0;
}

static size_t plan_index(void *data, long long id)
{
	struct plan *p = data;
	struct node *n = plan_find(p, id);
	return n ? (size_t)(n - p->nodes) : p->nr;
}

struct order {
	size_t *v;
	size_t nr;
};

static void add_to_order(void *arg, size_t i)
{
	struct order *o = arg;
	o->v[o->nr++] = i;
}

/*
 * Order the nodes topologically, smallest id first among the ready
 * ones. order[] gets node indexes; a cycle is reported with its path.
 */
int topo_order(struct plan *p, size_t *order)
{
	struct walk_graph g = { p->nr, p, plan_id, plan_deps, plan_index };
	struct order o = { order, 0 };
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	if (walk_topo(&g, add_to_order, &o, &sb))
		ret = error_code(TS_EFAIL,
				 "dependency cycle between steps: "
				 "%s (each waits for the next)",
				 sb.buf);
	strbuf_release(&sb);
	return ret;
}

const char *result_of(const struct step *s)
{
	const char *r = json_str(s->results, "result");
	return r ? r : "not run";
}

const struct step *dep_step(struct plan *p, long long id)
{
	struct node *n = plan_find(p, id);
	size_t i;
	if (n)
		return n->s;
	for (i = 0; i < p->nextra; i++)
		if (p->extra[i].id == id)
			return &p->extra[i];
	return NULL;
}
