#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include <jansson.h>

#include "engine/engine.h"
#include "steps/step.h"

/*
 * What the parts of the engine share (not for callers: engine/engine.h).
 *
 *   plan.c     loading steps, the plan and its nodes, dependencies,
 *              the topological order
 *   walk.c     the graph walks (walk.h)
 *   decide.c   fingerprints of a node, the fresh key, decide()
 *   execute.c  running a node's type, recording, process()
 *   fast.c     the no-change check by the fresh keys, threaded pre-pass
 *   run.c      task run, step run, run-steps
 */

enum decision { D_RUN, D_FRESH, D_BLOCKED };

struct node {
	struct step *s; /* borrowed from the plan's step array */
	long long *deps;
	size_t ndeps;
	const char *type;  /* NULL when the settings name none */
	char *deps_err;    /* a malformed depends_on: why (owned) */
	int external;      /* a dependency from another task: not run */
	int done;          /* visited by this run */
	int would_run;     /* --dry-run: planned to run */
	int same_outputs;  /* --dry-run: runs, expected to make the same */
	int gone;          /* deleted by its generator during the run */
	long long missing; /* a dependency that does not exist, or 0 */
	int skipped;       /* a dynamic_rubric left to step run */
	char *digest;      /* outputs digest, computed on demand */
};

struct plan {
	struct store *st;
	const struct config *cfg;
	const struct engine_opts *o;
	struct engine_stats *stats;
	const struct task *task;
	struct node *nodes;
	size_t nr, alloc;
	struct step *extra; /* dependencies loaded from other tasks */
	size_t nextra;
	int single; /* step run: the one step asked for */
};

/* plan.c: the engine's reads of steps, quiet about unreadable ones */
int q_step_list(struct store *st, long long task_id, struct step **out,
		size_t *nr);
int q_step_find(struct store *st, long long id, struct step *out);
int q_step_get(struct store *st, long long id, struct step *out);
int q_step_list_active(struct store *st, struct step **out, size_t *nr);

/*
 * run.c: read task_id into *t (released by the caller, also on error);
 * a task that is not active is an error saying how to make it so
 */
int plan_load_active(struct store *st, long long task_id, struct task *t);

/* plan.c: the plan */
int step_run_only(const struct node *n);
struct node *plan_find(struct plan *p, long long id);
void plan_release(struct plan *p);
void add_node(struct plan *p, struct step *s, int external);
int deps_error(long long id, const char *why);
int reload_children(struct plan *p, const struct node *gen);
int resolve_deps(struct plan *p);
int topo_order(struct plan *p, size_t *order);
const char *result_of(const struct step *s);
const struct step *dep_step(struct plan *p, long long id);

/* decide.c */
char *fresh_key_make(const struct node *n, const char *settings_sha,
		     const json_t *fp);
enum decision decide(struct plan *p, struct node *n, struct strbuf *why,
		     json_t **fp);

/* execute.c */
void exec_init(struct plan *p, struct node *n, struct step_exec *x);
int process(struct plan *p, struct node *n);

/* fast.c: the no-change check (see fresh_key_make) */
struct fast {
	struct store *st;
	const struct engine_opts *o;
	struct engine_stats *stats;
	/* every active task's rows, while this run has written nothing */
	const struct fresh_rows *all;
	size_t *by_id; /* indexes of all->v by step id, lazily */
	/* per row of all: what fast_local found in the pre-pass (1, 0) */
	signed char *local;
};

int fast_task(struct fast *f, const struct fresh_row *task, size_t nr,
	      const signed char *local);
void prepass(struct fast *f);

#endif
