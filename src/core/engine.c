#include "core/engine.h"
#include "core/deps.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"
#include "steps/step.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

enum decision { D_RUN, D_FRESH, D_BLOCKED };

struct node {
	struct step *s;        /* borrowed from the plan's step array */
	long long *deps;
	size_t ndeps;
	const char *type;      /* NULL when the settings name none */
	int external;          /* a dependency from another task: not run */
	int done;              /* visited by this run */
	int would_run;         /* --dry-run: planned to run */
	int gone;              /* deleted by its generator during the run */
	char *digest;          /* outputs digest, computed on demand */
};

struct plan {
	struct store *st;
	const struct config *cfg;
	const struct engine_opts *o;
	struct engine_stats *stats;
	const struct task *task;
	struct node *nodes;
	size_t nr, alloc;
	struct step *extra;    /* dependencies loaded from other tasks */
	size_t nextra;
};

static int still_fresh(struct plan *p, struct node *n, char **why);

static struct node *plan_find(struct plan *p, long long id)
{
	size_t i;
	for (i = 0; i < p->nr; i++)
		if (p->nodes[i].s->id == id)
			return &p->nodes[i];
	return NULL;
}

static void plan_release(struct plan *p)
{
	size_t i;
	for (i = 0; i < p->nr; i++) {
		free(p->nodes[i].deps);
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

/* the node's type and dependencies, from its step's settings */
static void node_parse(struct node *n)
{
	char *err = NULL;
	if (step_type_of(n->s->settings, &n->type, &err))
		n->type = NULL;
	free(err);
	err = NULL;
	if (step_depends_on(n->s->settings, &n->deps, &n->ndeps, &err))
		n->deps = NULL, n->ndeps = 0;
	free(err);
}

static void add_node(struct plan *p, struct step *s, int external)
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
static int reload_children(struct plan *p, const struct node *gen)
{
	struct step *now = NULL;
	size_t nnow = 0, i, j;
	int any = 0, ret;

	for (i = 0; i < p->nr && !any; i++)
		any = !p->nodes[i].done && !p->nodes[i].external &&
		      p->nodes[i].s->generated_by == gen->s->id;
	if (!any)
		return 0;
	ret = store_step_list(p->st, gen->s->task_id, &now, &nnow);
	if (ret)
		return ret;
	for (i = 0; i < p->nr; i++) {
		struct node *n = &p->nodes[i];
		if (n->done || n->external ||
		    n->s->generated_by != gen->s->id)
			continue;
		for (j = 0; j < nnow && now[j].id != n->s->id; j++)
			;
		free(n->deps);
		n->deps = NULL;
		n->ndeps = 0;
		free(n->digest);
		n->digest = NULL;
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

/* load dependencies that live in other tasks; error if one is missing */
static int resolve_deps(struct plan *p)
{
	size_t i, j, nr = p->nr;
	for (i = 0; i < nr; i++) {
		struct node *n = &p->nodes[i];
		for (j = 0; j < n->ndeps; j++) {
			struct step s = { 0 };
			long long dep = n->deps[j];
			int ret;
			if (plan_find(p, dep))
				continue;
			ret = store_step_get(p->st, dep, &s);
			if (ret == TS_ENOTFOUND)
				return error_code(TS_EFAIL, "step %lld depends "
						  "on step %lld, which does "
						  "not exist", n->s->id, dep);
			if (ret)
				return ret;
			p->extra = xrealloc(p->extra, (p->nextra + 1) *
						      sizeof(*p->extra));
			p->extra[p->nextra++] = s;
		}
	}
	return 0;
}

/*
 * Order the nodes topologically, smallest id first among the ready
 * ones. order[] gets node indexes; a cycle is reported with its path.
 */
static int topo_order(struct plan *p, size_t *order)
{
	size_t *indeg = xcalloc(p->nr + 1, sizeof(*indeg));
	char *placed = xcalloc(p->nr + 1, 1);
	size_t i, j, k, count = 0;
	int ret = 0;

	for (i = 0; i < p->nr; i++)
		for (j = 0; j < p->nodes[i].ndeps; j++)
			if (plan_find(p, p->nodes[i].deps[j]))
				indeg[i]++;
	while (count < p->nr) {
		size_t best = p->nr;
		for (i = 0; i < p->nr; i++)
			if (!placed[i] && !indeg[i] &&
			    (best == p->nr ||
			     p->nodes[i].s->id < p->nodes[best].s->id))
				best = i;
		if (best == p->nr)
			break;
		placed[best] = 1;
		order[count++] = best;
		for (i = 0; i < p->nr; i++)
			for (k = 0; k < p->nodes[i].ndeps; k++)
				if (p->nodes[i].deps[k] ==
				    p->nodes[best].s->id)
					indeg[i]--;
	}
	if (count < p->nr) {
		/* walk from any unplaced node along unplaced deps */
		struct strbuf sb = STRBUF_INIT;
		size_t cur = 0, steps = 0;
		while (placed[cur])
			cur++;
		for (steps = 0; steps < p->nr; steps++) {
			struct node *n = &p->nodes[cur];
			for (k = 0; k < n->ndeps; k++) {
				struct node *d = plan_find(p, n->deps[k]);
				if (d && !placed[d - p->nodes]) {
					cur = (size_t)(d - p->nodes);
					break;
				}
			}
		}
		/* cur is now on the cycle: print it once around */
		i = cur;
		do {
			struct node *n = &p->nodes[i];
			strbuf_addf(&sb, "%lld -> ", n->s->id);
			for (k = 0; k < n->ndeps; k++) {
				struct node *d = plan_find(p, n->deps[k]);
				if (d && !placed[d - p->nodes]) {
					i = (size_t)(d - p->nodes);
					break;
				}
			}
		} while (i != cur && sb.len < 4096);
		strbuf_addf(&sb, "%lld", p->nodes[cur].s->id);
		ret = error_code(TS_EFAIL, "dependency cycle between steps: "
				 "%s (each waits for the next)", sb.buf);
		strbuf_release(&sb);
	}
	free(indeg);
	free(placed);
	return ret;
}

static const char *result_of(const struct step *s)
{
	const char *r = json_str(s->results, "result");
	return r ? r : "not run";
}

static const struct step *dep_step(struct plan *p, long long id)
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

/*
 * A new reference to v without the listed keys: a shallow copy when v is
 * an object (the digests below only dump it, so sharing the values is
 * safe and spares a deep copy per step), v itself otherwise.
 */
static json_t *shallow_without(json_t *v, const char *const *skip)
{
	json_t *copy, *val;
	const char *key;
	int i;

	if (!json_is_object(v))
		return json_incref(v);
	copy = json_object();
	json_object_foreach(v, key, val) {
		for (i = 0; skip && skip[i] && strcmp(skip[i], key); i++)
			;
		if (!skip || !skip[i])
			json_object_set(copy, key, val);
	}
	return copy;
}

/* the digest of a step's outputs: its results without volatile keys */
static char *outputs_digest(const struct step *s)
{
	static const char *const volatile_keys[] = {
		"message", "fingerprint", "run_id", "duration_ms", NULL };
	char hex[SHA256_HEX_LEN + 1];
	json_t *copy;
	char *text;

	if (!s->results)
		return xstrdup("none");
	copy = shallow_without(s->results, volatile_keys);
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS |
					JSON_ENCODE_ANY);
	hash_string(text, strlen(text), hex);
	free(text);
	json_decref(copy);
	return xstrdup(hex);
}

/* settings minus the keys a step writes back into itself */
static char *settings_digest(const struct step *s)
{
	static const char *const own_keys[] = { "hashes", "triggers", "force",
						"rerun", "hash_last_run",
						NULL };
	char hex[SHA256_HEX_LEN + 1];
	json_t *copy = shallow_without(s->settings, NULL), *v;
	const char *key;
	char *text;

	json_object_foreach(copy, key, v)
		if (json_is_object(v))
			json_object_set_new(copy, key,
					    shallow_without(v, own_keys));
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS |
					JSON_ENCODE_ANY);
	hash_string(text, strlen(text), hex);
	free(text);
	json_decref(copy);
	return xstrdup(hex);
}

/*
 * Fingerprint of a step's inputs now. cached is the last fingerprint
 * (may be NULL) whose stat entries spare unchanged files a re-read.
 * Returns NULL when an input cannot be read, with *missing set.
 */
static json_t *fingerprint(struct plan *p, struct node *n,
			   const struct step_type *t, const json_t *cached,
			   char **missing)
{
	json_t *fp = json_object(), *inputs = json_object();
	json_t *deps = json_object(), *files = json_array(), *v;
	char *sd = settings_digest(n->s), *err = NULL;
	const char *base = n->s->task_local_path ? n->s->task_local_path : "";
	const json_t *old_inputs = json_object_get(cached, "inputs");
	size_t i;

	*missing = NULL;
	json_object_set_new(fp, "settings", json_string(sd));
	free(sd);
	for (i = 0; i < n->ndeps; i++) {
		const struct step *d = dep_step(p, n->deps[i]);
		char *dg = d ? outputs_digest(d) : xstrdup("missing");
		char key[32];
		snprintf(key, sizeof(key), "%lld", n->deps[i]);
		json_object_set_new(deps, key, json_string(dg));
		free(dg);
	}
	json_object_set_new(fp, "deps", deps);
	if (t && t->inputs && !t->inputs(json_object_get(n->s->settings,
							 n->type),
					 files, &err)) {
		json_array_foreach(files, i, v) {
			const char *rel = json_string_value(v);
			char *path = hash_resolve_path(base, rel);
			int reread;
			char *why = NULL;
			/* errors are the step's to report: stay quiet */
			json_t *e = hash_file_cached(
				path, json_object_get(old_inputs, rel),
				&reread, &why);
			free(path);
			free(why);
			if (!e) {
				*missing = xstrdup(rel);
				break;
			}
			json_object_set_new(inputs, rel, e);
		}
	}
	free(err);
	json_decref(files);
	json_object_set_new(fp, "inputs", inputs);
	if (*missing) {
		json_decref(fp);
		return NULL;
	}
	return fp;
}

/* what changed between two fingerprints, or NULL when nothing did */
static char *fingerprint_change(const json_t *old, const json_t *now)
{
	const char *key;
	json_t *v;

	if (!json_equal(json_object_get(old, "settings"),
			json_object_get(now, "settings")))
		return xstrdup("settings changed");
	json_object_foreach(json_object_get(now, "deps"), key, v)
		if (!json_equal(v, json_object_get(json_object_get(old, "deps"),
						   key)))
			return xstrfmt("dependency %s changed", key);
	if (json_object_size(json_object_get(old, "deps")) !=
	    json_object_size(json_object_get(now, "deps")))
		return xstrdup("dependencies changed");
	json_object_foreach(json_object_get(now, "inputs"), key, v) {
		const json_t *o = json_object_get(
			json_object_get(old, "inputs"), key);
		if (!json_equal(json_object_get(v, "sha256"),
				json_object_get(o, "sha256")))
			return xstrfmt("input changed: %s", key);
	}
	if (json_object_size(json_object_get(old, "inputs")) !=
	    json_object_size(json_object_get(now, "inputs")))
		return xstrdup("input files changed");
	return NULL;
}

/*
 * Decide what to do with a node. *why gets the reason (owned); *fp the
 * fingerprint to store after a run (owned, may be NULL).
 */
static enum decision decide(struct plan *p, struct node *n, char **why,
			    json_t **fp)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;
	const json_t *old = json_object_get(n->s->results, "fingerprint");
	char *missing = NULL, *change;
	long long pending = 0;
	size_t i;

	*fp = NULL;
	for (i = 0; i < n->ndeps; i++) {
		const struct step *d = dep_step(p, n->deps[i]);
		const char *r = d ? result_of(d) : "missing";
		struct node *dn = plan_find(p, n->deps[i]);
		/* a dry run plans: a dependency that would run comes first */
		if ((p->o->flags & RUN_DRY) && dn && dn->would_run) {
			if (!pending)
				pending = n->deps[i];
			continue;
		}
		/* "skipped" means nothing needed doing: the state holds */
		if (strcmp(r, "success") && strcmp(r, "skipped")) {
			*why = xstrfmt("dependency %lld is not successful "
				       "(%s)", n->deps[i], r);
			return D_BLOCKED;
		}
	}
	if (pending) {
		*why = xstrfmt("after dependency %lld, which would run",
			       pending);
		return D_RUN;
	}
	*fp = fingerprint(p, n, t, old, &missing);
	if (missing) {
		*why = xstrfmt("input missing: %s", missing);
		free(missing);
		return D_RUN;
	}
	if (p->o->flags & RUN_FORCE) {
		*why = xstrdup("forced");
		return D_RUN;
	}
	if (!t || !t->inputs) {
		*why = xstrdup(n->s->results ? "this step type always runs"
					     : "never run");
		return D_RUN;
	}
	if (!n->s->results) {
		*why = xstrdup("never run");
		return D_RUN;
	}
	if (strcmp(result_of(n->s), "success")) {
		*why = xstrfmt("last result was %s", result_of(n->s));
		return D_RUN;
	}
	if (!old) {
		*why = xstrdup("no record of its inputs");
		return D_RUN;
	}
	change = fingerprint_change(old, *fp);
	if (change) {
		*why = change;
		return D_RUN;
	}
	if (!still_fresh(p, n, &change)) {
		*why = change;
		return D_RUN;
	}
	*why = xstrdup("inputs, settings and dependencies unchanged");
	return D_FRESH;
}

struct replace_results {
	json_t *results;
};

static int set_results(struct step *s, void *data)
{
	struct replace_results *r = data;
	json_decref(s->results);
	s->results = r->results ? json_incref(r->results) : NULL;
	return 0;
}

static long long wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* write results (and a run row when run_status is set) in one tx */
static int record(struct plan *p, struct node *n, json_t *results,
		  const char *run_status, long long started_ms,
		  long long duration_ms, int exit_code, const char *log,
		  json_t *detail)
{
	struct replace_results r = { results };
	long long run_id = 0;
	int ret;

	if (store_begin(p->st))
		return TS_EFAIL;
	ret = 0;
	if (run_status) {
		ret = store_run_add(p->st, n->s->id, started_ms, duration_ms,
				    run_status, exit_code, log, detail,
				    &run_id);
		if (!ret)
			json_object_set_new(results, "run_id",
					    json_integer(run_id));
	}
	if (!ret)
		ret = store_step_edit(p->st, n->s->id, set_results, &r);
	if (!ret)
		ret = store_commit(p->st);
	else
		store_rollback(p->st);
	if (!ret) {
		/* keep the in-memory copy current for dependents */
		json_decref(n->s->results);
		n->s->results = json_incref(results);
		free(n->digest);
		n->digest = NULL;
	}
	return ret;
}

static void print_line(struct plan *p, struct node *n, const char *what,
		       const char *msg)
{
	fprintf(p->o->out, "Processing step ID %lld (%s)... %s%s%s\n",
		n->s->id, n->s->title, what, msg && *msg ? ": " : "",
		msg ? msg : "");
	fflush(p->o->out);
}

static void exec_init(struct plan *p, struct node *n, struct step_exec *x)
{
	memset(x, 0, sizeof(*x));
	x->st = p->st;
	x->cfg = p->cfg;
	x->step = n->s;
	x->type = n->type;
	x->conf = n->type ? json_object_get(n->s->settings, n->type) : NULL;
	x->base = n->s->task_local_path ? n->s->task_local_path : "";
	x->flags = p->o->flags;
	x->out = p->o->out;
	x->exit_code = -1;
	strbuf_init(&x->log, 0);
}

/* fresh by its inputs: does the type agree that its products exist? */
static int still_fresh(struct plan *p, struct node *n, char **why)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;
	struct step_exec x;
	int ok;

	if (!t || !t->still_fresh)
		return 1;
	exec_init(p, n, &x);
	ok = t->still_fresh(&x, why);
	strbuf_release(&x.log);
	return ok;
}

/* run one node's type and record the outcome */
static int execute(struct plan *p, struct node *n, json_t *fp)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;
	struct step_exec x;
	long long started = wall_ms(), t0 = proc_now_ms();
	const char *result;
	int ret;

	exec_init(p, n, &x);
	if ((p->o->flags & RUN_FORCE) && n->s->results) {
		struct replace_results none = { NULL };
		if (store_step_edit(p->st, n->s->id, set_results, &none))
			return TS_EFAIL;
	}
	if (!n->type) {
		char *err = NULL;
		const char *type;
		step_type_of(n->s->settings, &type, &err);
		step_set_result(&x, "error", "%s", err);
		free(err);
	} else if (!t) {
		step_set_result(&x, "error", "step type '%s' cannot run in "
				"this version of task-sync", n->type);
	} else if (t->run(&x) < 0 || !json_str(x.results, "result")) {
		if (!json_str(x.results, "result"))
			step_set_result(&x, "error", "step type '%s' recorded "
					"no result", n->type);
	}
	if (proc_was_interrupted()) {
		step_set_result(&x, "error", "interrupted");
		p->stats->interrupted = 1;
	}
	result = json_str(x.results, "result");
	if (fp && !strcmp(result, "success"))
		json_object_set(x.results, "fingerprint", fp);
	ret = record(p, n, x.results, result, started, proc_now_ms() - t0,
		     x.exit_code, x.log.len ? x.log.buf : NULL, x.detail);
	p->stats->ran++;
	if (!strcmp(result, "success") || !strcmp(result, "skipped"))
		p->stats->succeeded++;
	else
		p->stats->failed++;
	print_line(p, n, result, json_str(x.results, "message"));
	json_decref(x.results);
	json_decref(x.detail);
	strbuf_release(&x.log);
	return ret;
}

static int process(struct plan *p, struct node *n)
{
	char *why = NULL;
	json_t *fp = NULL;
	enum decision d;
	int ret = 0;

	n->done = 1;
	if (n->external || n->gone)
		return 0;
	d = decide(p, n, &why, &fp);
	if (p->o->flags & RUN_DRY) {
		n->would_run = d == D_RUN;
		fprintf(p->o->out, "step %lld (%s): %s (%s)\n", n->s->id,
			n->s->title, d == D_RUN ? "would run"
				     : d == D_FRESH ? "fresh" : "blocked",
			why);
	} else if (d == D_FRESH) {
		p->stats->fresh++;
		if (!p->o->quiet_fresh)
			print_line(p, n, "fresh", why);
	} else if (d == D_BLOCKED) {
		p->stats->blocked++;
		/* write only when the record changes: reruns stay cheap */
		if (strcmp(result_of(n->s), "blocked") ||
		    strcmp(json_str(n->s->results, "message")
				   ? json_str(n->s->results, "message") : "",
			   why)) {
			json_t *r = json_object();
			json_object_set_new(r, "result", json_string("blocked"));
			json_object_set_new(r, "message", json_string(why));
			ret = record(p, n, r, NULL, 0, 0, -1, NULL, NULL);
			json_decref(r);
		}
		print_line(p, n, "blocked", why);
	} else {
		ret = execute(p, n, fp);
		if (!ret)
			ret = reload_children(p, n);
	}
	free(why);
	json_decref(fp);
	return ret;
}

static int run_plan(struct plan *p)
{
	size_t *order = xcalloc(p->nr + 1, sizeof(*order));
	size_t i;
	int ret = resolve_deps(p);

	for (i = 0; !ret && i < p->nextra; i++)
		add_node(p, &p->extra[i], 1);
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
	if (r == 0) {
		p->stats->busy++;
		error("task %lld is being run by another task-sync process; "
		      "try again when it finishes", task_id);
	}
	return r;
}

static int outcome(const struct engine_stats *s, int ret)
{
	if (ret)
		return ret;
	if (s->interrupted || s->failed || s->blocked || s->busy)
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

static int run_task_steps(struct plan *p, long long task_id,
			  struct step *steps, size_t nsteps)
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
			!(p->o->flags & RUN_DRY); round++) {
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
		ret = store_step_list(p->st, task_id, &more, &nmore);
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

int engine_run_task(struct store *st, const struct config *cfg,
		    long long task_id, const struct engine_opts *o,
		    struct engine_stats *stats)
{
	struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL, 0 };
	struct task t = { 0 };
	struct step *steps = NULL;
	size_t nsteps = 0;
	int ret, locked = 0;

	ret = store_task_get(st, task_id, &t);
	if (ret)
		return ret;
	p.task = &t;
	if (strcmp(t.status, "active")) {
		ret = error_code(TS_ESTEP, "task %lld is %s: only active tasks "
				 "run (task-sync task edit %lld --set "
				 "status=active)", task_id, t.status, task_id);
		goto out;
	}
	locked = lock_task(&p, task_id);
	if (locked <= 0) {
		ret = locked < 0 ? TS_EFAIL : TS_ESTEP;
		locked = 0;
		goto out;
	}
	ret = store_step_list(st, task_id, &steps, &nsteps);
	if (!ret && !nsteps)
		ret = error_code(TS_ESTEP, "no steps found for task %lld",
				 task_id);
	if (!ret) {
		ret = run_task_steps(&p, task_id, steps, nsteps);
	}
out:
	if (locked && !(o->flags & RUN_DRY))
		store_unlock_task(st, task_id);
	plan_release(&p);
	step_list_free(steps, nsteps);
	task_release(&t);
	return outcome(stats, ret);
}

/*
 * step run: the dependency walk over the task's steps. path holds the
 * indexes on the current path, state[i] is 1 on the path, 2 when done.
 */
struct walk {
	struct step *steps;
	size_t nr;
	char *state;
	size_t *path;
	size_t npath;
};

static int walk_deps(struct walk *w, size_t at)
{
	long long *deps = NULL;
	size_t ndeps = 0, i, j;
	char *err = NULL;
	int ret = 0;

	if (step_depends_on(w->steps[at].settings, &deps, &ndeps, &err))
		ndeps = 0;
	free(err);
	w->state[at] = 1;
	w->path[w->npath++] = at;
	for (i = 0; !ret && i < ndeps; i++) {
		for (j = 0; j < w->nr && w->steps[j].id != deps[i]; j++)
			;
		if (j == w->nr || w->state[j] == 2)
			continue; /* another task's step, or already seen */
		if (w->state[j] == 1) {
			struct strbuf sb = STRBUF_INIT;
			size_t k = 0;
			while (w->path[k] != j)
				k++;
			for (; k < w->npath; k++)
				strbuf_addf(&sb, "%lld -> ",
					    w->steps[w->path[k]].id);
			strbuf_addf(&sb, "%lld", deps[i]);
			ret = error_code(TS_EFAIL, "dependency cycle between "
					 "steps: %s (each waits for the next)",
					 sb.buf);
			strbuf_release(&sb);
		} else {
			ret = walk_deps(w, j);
		}
	}
	w->npath--;
	w->state[at] = 2;
	free(deps);
	return ret;
}

/* step run: is the step on (or behind) a dependency cycle in its task? */
static int check_cycle(struct store *st, const struct step *s)
{
	struct walk w = { NULL, 0, NULL, NULL, 0 };
	size_t i;
	int ret = store_step_list(st, s->task_id, &w.steps, &w.nr);

	if (ret)
		return ret;
	w.state = xcalloc(w.nr + 1, 1);
	w.path = xcalloc(w.nr + 1, sizeof(*w.path));
	for (i = 0; i < w.nr && w.steps[i].id != s->id; i++)
		;
	if (i < w.nr)
		ret = walk_deps(&w, i);
	free(w.state);
	free(w.path);
	step_list_free(w.steps, w.nr);
	return ret;
}

int engine_run_step(struct store *st, const struct config *cfg,
		    long long step_id, const struct engine_opts *o,
		    struct engine_stats *stats)
{
	struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL, 0 };
	struct step s = { 0 };
	int ret, locked = 0;

	ret = store_step_get(st, step_id, &s);
	if (ret)
		return ret;
	if (strcmp(s.task_status, "active")) {
		ret = error_code(TS_ESTEP, "step %lld not run: its task %lld "
				 "is %s, and only active tasks run", step_id,
				 s.task_id, s.task_status);
		goto out;
	}
	locked = lock_task(&p, s.task_id);
	if (locked <= 0) {
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
	plan_release(&p);
	step_release(&s);
	return outcome(stats, ret);
}

int engine_run_all(struct store *st, const struct config *cfg,
		   const struct engine_opts *o, struct engine_stats *stats)
{
	struct step *steps = NULL;
	size_t nsteps = 0, i = 0;
	int ret;

	ret = store_step_list_active(st, &steps, &nsteps);
	while (!ret && i < nsteps && !stats->interrupted) {
		int r = 0;
		struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL,
				  0 };
		long long task_id = steps[i].task_id;
		size_t j = i;
		int locked;

		while (j < nsteps && steps[j].task_id == task_id)
			j++;
		locked = lock_task(&p, task_id);
		if (locked < 0) {
			ret = TS_EFAIL;
		} else if (locked > 0) {
			/* a broken task (a cycle, say) does not stop the rest */
			r = run_task_steps(&p, task_id, steps + i, j - i);
			if (r)
				stats->failed++;
			if (!(o->flags & RUN_DRY))
				store_unlock_task(st, task_id);
		}
		plan_release(&p);
		i = j;
	}
	step_list_free(steps, nsteps);
	return outcome(stats, ret);
}
