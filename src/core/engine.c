#include "core/engine.h"
#include "core/deps.h"
#include "os/error.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"
#include "steps/step.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

enum decision { D_RUN, D_FRESH, D_BLOCKED };

struct node {
	struct step *s;        /* borrowed from the plan's step array */
	long long *deps;
	size_t ndeps;
	const char *type;      /* NULL when the settings name none */
	char *deps_err;        /* a malformed depends_on: why (owned) */
	int external;          /* a dependency from another task: not run */
	int done;              /* visited by this run */
	int would_run;         /* --dry-run: planned to run */
	int same_outputs;      /* --dry-run: runs, expected to make the same */
	int gone;              /* deleted by its generator during the run */
	long long missing;     /* a dependency that does not exist, or 0 */
	int skipped;           /* a dynamic_rubric left to step run */
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
	int single;            /* step run: the one step asked for */
};

static int still_fresh(struct plan *p, struct node *n, char **why);

/*
 * The engine's own reads of steps: a step whose stored JSON cannot be
 * read is reported once, by process(), in one line (not once per read
 * by the store, and again when its result cannot be written).
 */
static int q_step_list(struct store *st, long long task_id,
		       struct step **out, size_t *nr)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_list(st, task_id, out, nr);
	store_quiet_unreadable_steps(0);
	return ret;
}

static int q_step_find(struct store *st, long long id, struct step *out)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_find(st, id, out);
	store_quiet_unreadable_steps(0);
	return ret;
}

static int q_step_get(struct store *st, long long id, struct step *out)
{
	int ret;
	store_quiet_unreadable_steps(1);
	ret = store_step_get(st, id, out);
	store_quiet_unreadable_steps(0);
	return ret;
}

static int q_step_list_active(struct store *st, struct step **out,
			      size_t *nr)
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
static int step_run_only(const struct node *n)
{
	return n->type && !strcmp(n->type, "dynamic_rubric");
}

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
	char *err = NULL;
	if (step_type_of(n->s->settings, &n->type, &err))
		n->type = NULL;
	free(err);
	free(n->deps_err);
	n->deps_err = NULL;
	if (step_depends_on(n->s->settings, &n->deps, &n->ndeps,
			    &n->deps_err))
		n->deps = NULL, n->ndeps = 0;
}

static int deps_error(long long id, const char *why)
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
	ret = q_step_list(p->st, gen->s->task_id, &now, &nnow);
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
static int resolve_deps(struct plan *p)
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
				return error_code(TS_ESTEP, "step %lld depends "
						  "on step %lld, which does "
						  "not exist", n->s->id, dep);
			if (ret == TS_ENOTFOUND) {
				/* only it and its dependants are blocked */
				if (!n->missing)
					n->missing = dep;
				ret = 0;
				continue;
			}
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
	char hex[SHA256_HEX_LEN + 1];
	hash_outputs(s->results, hex);
	return xstrdup(hex);
}

/* settings minus the keys a step writes back into itself */
char *engine_settings_digest(const json_t *settings)
{
	static const char *const own_keys[] = { "hashes", "triggers", "force",
						"rerun", "hash_last_run",
						NULL };
	char hex[SHA256_HEX_LEN + 1];
	json_t *copy = shallow_without((json_t *)settings, NULL), *v;
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
	char *sd = engine_settings_digest(n->s->settings), *err = NULL;
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
 * The no-change key (steps.fresh_key). Deciding freshness in full needs
 * every step's results (the last fingerprint) parsed, its settings and
 * its dependencies' results re-serialised for their digests, and each
 * input checked against the stat cache. The key says the same in a few
 * hundred bytes that are compared without parsing any JSON:
 *
 *   v1|<S>|<len>:<folder>|<dep>=<digest>,...|<len>:<input>\t<size>\t
 *   <mtime_ns>\t<ctime_ns>\t<ino>\n...
 *
 * S is the SHA-256 of the step's settings text as stored, folder the
 * task's local_path the inputs were resolved in, each dependency's
 * digest the one the fingerprint holds (hash_outputs, what its
 * steps.output_digest holds while its results stay), and each input
 * the stat the fingerprint took (relative inputs are resolved in the
 * folder; a key needs one for them). Lengths make any path safe.
 *
 * It is written with each successful run that stores a fingerprint
 * (record), and when the full decision finds a step fresh whose key is
 * missing or out of date (refresh_fresh_key); every other write of the
 * step clears it (store.c). Only types with inputs and no still_fresh
 * hook get one: the others always need the full decision.
 *
 * Why a matching key means decide() says fresh: the key exists only
 * while the results are the successful ones recorded with its
 * fingerprint. The same settings text gives the same type, inputs,
 * dependencies and settings digest. Each dependency's outputs digest is
 * unchanged, so it is still successful (the digest covers "result") and
 * compares equal. Each input stats as the fingerprint recorded it, so
 * the stat cache gives its recorded SHA-256. A mismatch only sends the
 * step to decide(), which stays the reference.
 */
#define FRESH_KEY_VERSION "v1|"

static void key_add_path(struct strbuf *sb, const char *path)
{
	size_t len = strlen(path);
	strbuf_addf(sb, "%zu:", len);
	strbuf_add(sb, path, len);
}

static int json_ll(const json_t *o, const char *key, long long *v)
{
	const json_t *j = json_object_get(o, key);
	if (!json_is_integer(j))
		return -1;
	*v = (long long)json_integer_value(j);
	return 0;
}

/*
 * The key of node n for fingerprint fp, which was computed from the
 * settings whose stored text hashes to settings_sha, with inputs
 * resolved in the task folder of n->s. NULL when n cannot have one.
 */
static char *fresh_key_make(const struct node *n, const char *settings_sha,
			    const json_t *fp)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;
	const char *base = n->s->task_local_path ? n->s->task_local_path : "";
	const json_t *deps = json_object_get(fp, "deps");
	const json_t *inputs = json_object_get(fp, "inputs"), *e;
	struct strbuf sb = STRBUF_INIT;
	const char *rel;
	size_t i;

	if (!t || !t->inputs || t->still_fresh || !fp || step_run_only(n) ||
	    strlen(settings_sha) != SHA256_HEX_LEN || !json_is_object(inputs))
		return NULL;
	strbuf_addstr(&sb, FRESH_KEY_VERSION);
	strbuf_addstr(&sb, settings_sha);
	strbuf_addch(&sb, '|');
	key_add_path(&sb, base);
	strbuf_addch(&sb, '|');
	for (i = 0; i < n->ndeps; i++) {
		char id[32];
		const char *dg;
		snprintf(id, sizeof(id), "%lld", n->deps[i]);
		dg = json_string_value(json_object_get(deps, id));
		if (!dg || strpbrk(dg, ",|"))
			goto none;
		strbuf_addf(&sb, "%s%s=%s", i ? "," : "", id, dg);
	}
	strbuf_addch(&sb, '|');
	json_object_foreach((json_t *)inputs, rel, e) {
		long long size, mtime, ctime, ino;
		/* relative to the working directory: no key */
		if (rel[0] != '/' && !*base)
			goto none;
		if (json_ll(e, "size", &size) || json_ll(e, "mtime_ns", &mtime) ||
		    json_ll(e, "ctime_ns", &ctime) || json_ll(e, "ino", &ino))
			goto none;
		key_add_path(&sb, rel);
		strbuf_addf(&sb, "\t%lld\t%lld\t%lld\t%lld\n", size, mtime,
			    ctime, ino);
	}
	return strbuf_detach(&sb, NULL);
none:
	strbuf_release(&sb);
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
	if (n->missing) {
		*why = xstrfmt("depends on step %lld, which does not exist",
			       n->missing);
		return D_BLOCKED;
	}
	for (i = 0; i < n->ndeps; i++) {
		const struct step *d = dep_step(p, n->deps[i]);
		struct node *dn = plan_find(p, n->deps[i]);
		const char *r;
		if (!d) {
			*why = xstrfmt("depends on step %lld, which does not "
				       "exist", n->deps[i]);
			return D_BLOCKED;
		}
		if (d->unreadable) {
			*why = xstrfmt("dependency %lld cannot be read",
				       n->deps[i]);
			return D_BLOCKED;
		}
		r = result_of(d);
		/* a dry run plans: a dependency that would run comes first */
		if ((p->o->flags & RUN_DRY) && dn && dn->would_run) {
			if (!pending)
				pending = n->deps[i];
			continue;
		}
		/* "skipped" means nothing needed doing: the state holds */
		if (strcmp(r, "success") && strcmp(r, "skipped")) {
			*why = dn && dn->skipped
				? xstrfmt("dependency %lld is not successful "
					  "(%s; run it with 'task-sync step "
					  "run %lld')", n->deps[i], r,
					  n->deps[i])
				: xstrfmt("dependency %lld is not successful "
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
		/*
		 * A dry run expects such a step (a docker_pool) to make
		 * what it made last time, and judges its dependents on that.
		 */
		n->same_outputs = n->s->results &&
				  !strcmp(result_of(n->s), "success");
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
	const char *fresh_key;  /* NULL: the column is cleared */
};

static int set_results(struct step *s, void *data)
{
	struct replace_results *r = data;
	json_decref(s->results);
	s->results = r->results ? json_incref(r->results) : NULL;
	if (r->fresh_key)
		s->fresh_key = xstrdup(r->fresh_key);
	return 0;
}

static long long wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/*
 * Write results (and a run row when run_status is set) in one tx.
 * fresh_key (may be NULL) goes with successful results and their
 * fingerprint.
 */
static int record(struct plan *p, struct node *n, json_t *results,
		  const char *fresh_key, const char *run_status,
		  long long started_ms, long long duration_ms, int exit_code,
		  const char *log, json_t *detail)
{
	struct replace_results r = { results, fresh_key };
	long long run_id = 0;
	int ret;

	p->stats->writes++;
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
		free(n->s->fresh_key);
		n->s->fresh_key = fresh_key ? xstrdup(fresh_key) : NULL;
		free(n->s->output_digest);
		n->s->output_digest = NULL;
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

/* the step (or its task, which takes its steps along) was deleted */
static int step_gone(struct plan *p, long long id)
{
	struct step s = { 0 };
	int ret = q_step_find(p->st, id, &s);
	step_release(&s);
	return ret == TS_ENOTFOUND;
}

/* run one node's type and record the outcome */
static int execute(struct plan *p, struct node *n, json_t *fp)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;
	struct step_exec x;
	long long started = wall_ms(), t0 = proc_now_ms();
	const char *result;
	char *key = NULL;
	int ret;

	exec_init(p, n, &x);
	if ((p->o->flags & RUN_FORCE) && n->s->results) {
		struct replace_results none = { NULL, NULL };
		p->stats->writes++;
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
	if (fp && !strcmp(result, "success")) {
		json_object_set(x.results, "fingerprint", fp);
		/* the settings text fp was computed from, as loaded */
		key = fresh_key_make(n, n->s->settings_sha, fp);
	}
	ret = record(p, n, x.results, key, result, started,
		     proc_now_ms() - t0, x.exit_code,
		     x.log.len ? x.log.buf : NULL, x.detail);
	free(key);
	p->stats->ran++;
	p->stats->infra += x.infra_failures;
	if (ret) {
		/* what ran is lost: never report it as a success */
		p->stats->failed++;
		p->stats->unrecorded++;
		if (step_gone(p, n->s->id))
			p->stats->vanished++;
		print_line(p, n, "error", p->stats->vanished
			   ? "its task or step was deleted while it ran; "
			     "nothing was recorded"
			   : "the result could not be recorded (see the "
			     "error above)");
	} else if (!strcmp(result, "success") || !strcmp(result, "skipped")) {
		p->stats->succeeded++;
	} else {
		p->stats->failed++;
	}
	if (!ret)
		print_line(p, n, result, json_str(x.results, "message"));
	json_decref(x.results);
	json_decref(x.detail);
	strbuf_release(&x.log);
	return ret;
}

/*
 * n was decided fresh with fingerprint fp: store its no-change key when
 * the stored one is missing or out of date (a type that rewrote its own
 * keys after the run, a touched input, a database from before the key),
 * so that the next run decides it without decide(). Only while the row
 * still holds what was loaded (store_step_set_fresh compares).
 */
static int refresh_fresh_key(struct plan *p, struct node *n, const json_t *fp)
{
	char *key = fresh_key_make(n, n->s->settings_sha, fp);
	int changed = 0, ret;

	if (!key)
		return 0;
	if (!n->digest)
		n->digest = outputs_digest(n->s);
	if (n->s->fresh_key && !strcmp(n->s->fresh_key, key) &&
	    n->s->output_digest && !strcmp(n->s->output_digest, n->digest)) {
		free(key);
		return 0;
	}
	ret = store_step_set_fresh(p->st, n->s->id, key, n->digest,
				   n->s->fresh_key, n->s->output_digest,
				   &changed);
	if (!ret && changed) {
		p->stats->writes++;
		free(n->s->fresh_key);
		free(n->s->output_digest);
		n->s->fresh_key = key;
		n->s->output_digest = xstrdup(n->digest);
		key = NULL;
	}
	free(key);
	return ret;
}

/*
 * A step whose stored settings or results cannot be read is not run
 * (its result could not be written over them): one error line, and a
 * line in the run's progress. Its dependants are blocked (decide()).
 */
static void not_readable(struct plan *p, struct node *n)
{
	p->stats->unreadable++;
	error("step %lld: %s; nothing changed, the step was not run",
	      n->s->id, n->s->unreadable);
	if (p->o->flags & RUN_DRY)
		fprintf(p->o->out, "step %lld (%s): not run (it cannot be "
			"read)\n", n->s->id, n->s->title);
	else
		print_line(p, n, "not run", "it cannot be read (see the error "
			   "above)");
}

static void skip_step(struct plan *p, struct node *n)
{
	char why[96];

	n->skipped = 1;
	p->stats->skipped++;
	snprintf(why, sizeof(why), "run it with 'task-sync step run %lld'",
		 n->s->id);
	if (p->o->flags & RUN_DRY)
		fprintf(p->o->out, "step %lld (%s): skipped (%s)\n", n->s->id,
			n->s->title, why);
	else
		print_line(p, n, "skipped", why);
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
	if (n->s->unreadable) {
		not_readable(p, n);
		return 0;
	}
	if (n->deps_err) /* a generated step re-read during the run */
		return deps_error(n->s->id, n->deps_err);
	if (!p->single && step_run_only(n)) {
		skip_step(p, n);
		return 0;
	}
	d = decide(p, n, &why, &fp);
	if (p->o->flags & RUN_DRY) {
		n->would_run = d == D_RUN && !n->same_outputs;
		fprintf(p->o->out, "step %lld (%s): %s (%s)\n", n->s->id,
			n->s->title, d == D_RUN ? "would run"
				     : d == D_FRESH ? "fresh" : "blocked",
			why);
	} else if (d == D_FRESH) {
		p->stats->fresh++;
		ret = refresh_fresh_key(p, n, fp);
		if (!p->o->quiet_fresh)
			print_line(p, n, "fresh", why);
	} else if (d == D_BLOCKED) {
		p->stats->blocked++;
		/* write only when the record changes: reruns stay cheap */
		if (strcmp(result_of(n->s), "blocked") ||
		    strcmp(json_str(n->s->results, "message")
				   ? json_str(n->s->results, "message") : "",
			   why)) {
			/*
			 * Keep what the step recorded before (a rubric step's
			 * grades, say): only its state changes. Without the
			 * fingerprint it cannot pass for fresh afterwards.
			 */
			json_t *r = json_is_object(n->s->results)
				? json_copy(n->s->results) : json_object();
			json_object_del(r, "fingerprint");
			json_object_set_new(r, "result", json_string("blocked"));
			json_object_set_new(r, "message", json_string(why));
			ret = record(p, n, r, NULL, NULL, 0, 0, -1, NULL,
				     NULL);
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
	if (r == 0) {
		p->stats->busy++;
		error("task %lld is being run by another task-sync process; "
		      "try again when it finishes", task_id);
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
	return error_code(TS_ENOTFOUND, "task %lld, or the step that ran, was "
			  "deleted while it ran: its result is lost", task_id);
}

static int outcome(const struct engine_stats *s, int ret)
{
	if (ret)
		return ret;
	if (s->interrupted || s->failed || s->blocked || s->busy ||
	    s->broken || s->unreadable)
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

/* ---- the no-change check (see fresh_key_make) ---------------------------- */

struct fast {
	struct store *st;
	const struct engine_opts *o;
	struct engine_stats *stats;
	/* every active task's rows, while this run has written nothing */
	const struct fresh_rows *all;
	size_t *by_id;          /* indexes of all->v by step id, lazily */
	/* per row of all: what fast_local found in the pre-pass (1, 0) */
	signed char *local;
};

/* a task folder, opened on first use */
struct fast_dir {
	long long task_id;
	int fd;
};

static void fast_dir_close(struct fast_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->task_id = 0;
}

static int cmp_row_id(const void *a, const void *b, void *rows)
{
	const struct fresh_row *v = rows;
	long long x = v[*(const size_t *)a].id, y = v[*(const size_t *)b].id;
	return x < y ? -1 : x > y;
}

static const struct fresh_row *row_find(const struct fresh_row *v, size_t nr,
					long long id)
{
	size_t lo = 0, hi = nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].id == id)
			return &v[mid];
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* step id of another task in the snapshot of every active task */
static const struct fresh_row *all_find(struct fast *f, long long id)
{
	const struct fresh_row *v = f->all->v;
	size_t lo = 0, hi = f->all->nr, i;

	if (!f->by_id) {
		f->by_id = xcalloc(f->all->nr + 1, sizeof(*f->by_id));
		for (i = 0; i < f->all->nr; i++)
			f->by_id[i] = i;
		qsort_r(f->by_id, f->all->nr, sizeof(*f->by_id), cmp_row_id,
			(void *)v);
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[f->by_id[mid]].id == id)
			return &v[f->by_id[mid]];
		if (v[f->by_id[mid]].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* does dependency dep's output digest still read digest[0..len)? */
static int fast_dep(struct fast *f, const struct fresh_row *task, size_t nr,
		    long long dep, const char *digest, size_t len)
{
	const struct fresh_row *r = row_find(task, nr, dep);
	char *now = NULL;
	int found = 0, ok;

	if (!r && !f->o->quiet_fresh)
		return 0; /* printing needs decide()'s order: full path */
	if (!r && f->all)
		r = all_find(f, dep);
	if (r)
		return r->output_digest && strlen(r->output_digest) == len &&
		       !memcmp(r->output_digest, digest, len);
	if (store_step_output_digest(f->st, dep, &now, &found))
		return -1;
	ok = now && strlen(now) == len && !memcmp(now, digest, len);
	free(now);
	return ok;
}

/* a decimal number (strtoll without locale, errno or overflow past 18) */
static int key_num(const char **p, long long *v)
{
	const char *s = *p;
	int neg = *s == '-', n = 0;
	long long x = 0;

	s += neg;
	while (*s >= '0' && *s <= '9' && n < 19) {
		x = x * 10 + (*s++ - '0');
		n++;
	}
	if (!n || (*s >= '0' && *s <= '9'))
		return -1;
	*v = neg ? -x : x;
	*p = s;
	return 0;
}

/* "<len>:" then len bytes; *p moves past them */
static const char *key_path(const char **p, size_t *len)
{
	const char *s = *p, *path;
	long long n;

	if (*s == '-' || key_num(&s, &n) || *s != ':' || n > 1 << 20)
		return NULL;
	path = s + 1;
	if (strnlen(path, (size_t)n) != (size_t)n)
		return NULL;
	*len = (size_t)n;
	*p = path + n;
	return path;
}

static int key_field(const char **p, long long *v)
{
	if (**p != '\t')
		return -1;
	(*p)++;
	return key_num(p, v);
}

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/*
 * What the key of row r says about the step alone: the version, the
 * settings text, the task folder and every input's stat. 1 fresh so
 * far, 0 not. *deps gets the dependency list ("<id>=<digest>,...|").
 * Touches no shared state (the pre-pass runs it in threads).
 */
static int fast_local(const struct fresh_row *r, struct fast_dir *d,
		      const char **deps)
{
	const char *p = r->fresh_key, *base = r->local_path ? r->local_path
							      : "", *path;
	char sha[SHA256_HEX_LEN + 1], buf[4096];
	size_t len;

	if (!p || strncmp(p, FRESH_KEY_VERSION, strlen(FRESH_KEY_VERSION)) ||
	    !r->settings)
		return 0;
	/*
	 * A step left to step run (step_run_only) is never fresh here: a
	 * key it got before it was skipped does not count. Any settings
	 * text naming the type goes to the full decision, which is safe.
	 */
	if (strstr(r->settings, "\"dynamic_rubric\""))
		return 0;
	p += strlen(FRESH_KEY_VERSION);
	hash_string(r->settings, strlen(r->settings), sha);
	if (strncmp(p, sha, SHA256_HEX_LEN) || p[SHA256_HEX_LEN] != '|')
		return 0;
	p += SHA256_HEX_LEN + 1;
	path = key_path(&p, &len);
	if (!path || *p++ != '|' || len != strlen(base) ||
	    memcmp(path, base, len))
		return 0;
	*deps = p;
	p = strchr(p, '|');
	if (!p)
		return 0;
	p++;
	if (d->task_id != r->task_id) {
		fast_dir_close(d);
		d->task_id = r->task_id;
	}
	while (*p) {
		long long size, mtime, ctime, ino;
		struct stat st;
		int at = AT_FDCWD;
		path = key_path(&p, &len);
		if (!path || len >= sizeof(buf) || key_field(&p, &size) ||
		    key_field(&p, &mtime) || key_field(&p, &ctime) ||
		    key_field(&p, &ino) || *p++ != '\n')
			return 0;
		memcpy(buf, path, len);
		buf[len] = '\0';
		if (buf[0] != '/') {
			/* as hash_resolve_path(base, rel), in one lookup */
			if (!*base)
				return 0;
			if (d->fd < 0)
				d->fd = open(base, O_PATH | O_DIRECTORY |
						   O_CLOEXEC);
			if (d->fd < 0)
				return 0;
			at = d->fd;
		}
		if (fstatat(at, buf, &st, 0) < 0 ||
		    (long long)st.st_size != size ||
		    ts_ns(&st.st_mtim) != mtime ||
		    ts_ns(&st.st_ctim) != ctime ||
		    (long long)st.st_ino != ino)
			return 0;
	}
	return 1;
}

/* the dependencies of a key, from what fast_local returned in *deps */
static int fast_deps(struct fast *f, const struct fresh_row *task, size_t nr,
		     const char *p)
{
	while (*p != '|') {
		const char *dg;
		long long dep;
		size_t len;
		int ok;
		if (*p == '-' || key_num(&p, &dep) || *p != '=')
			return 0;
		dg = p + 1;
		len = strcspn(dg, ",|");
		ok = fast_dep(f, task, nr, dep, dg, len);
		if (ok <= 0)
			return ok;
		p = dg + len;
		if (*p == ',')
			p++;
		else if (*p != '|')
			return 0;
	}
	return 1;
}

/* where fast_local finds the dependency list of a key it accepted */
static const char *key_deps(const char *p)
{
	size_t len;
	p += strlen(FRESH_KEY_VERSION) + SHA256_HEX_LEN + 1;
	key_path(&p, &len);
	return p + 1;
}

/*
 * The steps of one task in decide()'s order (topo_order over the
 * dependencies the keys list, all in the task), for the "fresh" lines.
 */
static void fast_print(struct fast *f, const struct fresh_row *task, size_t nr)
{
	long long **deps = xcalloc(nr + 1, sizeof(*deps));
	size_t *ndeps = xcalloc(nr + 1, sizeof(*ndeps));
	size_t *indeg = xcalloc(nr + 1, sizeof(*indeg));
	char *placed = xcalloc(nr + 1, 1);
	size_t i, j, k, count;

	for (i = 0; i < nr; i++) {
		const char *p = key_deps(task[i].fresh_key);
		size_t alloc = 0;
		long long dep;
		/* checked by fast_deps */
		while (*p != '|' && !key_num(&p, &dep)) {
			ALLOC_GROW(deps[i], ndeps[i] + 1, alloc);
			deps[i][ndeps[i]++] = dep;
			p += 1 + strcspn(p + 1, ",|");
			if (*p == ',')
				p++;
		}
		for (j = 0; j < ndeps[i]; j++)
			if (row_find(task, nr, deps[i][j]))
				indeg[i]++;
	}
	for (count = 0; count < nr; count++) {
		size_t best = nr;
		for (i = 0; i < nr; i++)
			if (!placed[i] && !indeg[i] &&
			    (best == nr || task[i].id < task[best].id))
				best = i;
		if (best == nr)
			break; /* not reached: a cycle has no keys */
		placed[best] = 1;
		fprintf(f->o->out, "Processing step ID %lld (%s)... fresh: "
			"inputs, settings and dependencies unchanged\n",
			task[best].id, task[best].title);
		fflush(f->o->out);
		for (i = 0; i < nr; i++)
			for (k = 0; k < ndeps[i]; k++)
				if (deps[i][k] == task[best].id)
					indeg[i]--;
	}
	for (i = 0; i < nr; i++)
		free(deps[i]);
	free(deps);
	free(ndeps);
	free(indeg);
	free(placed);
}

/*
 * Are all the steps of one task (rows task[0..nr), one task's, by step
 * id) fresh by their keys? Then they are counted (and printed unless
 * quiet): returns 1. 0: the task needs the full decision. <0: error.
 * local: what the pre-pass found for these rows, or NULL.
 *
 * No lock is taken: a run of the task in progress elsewhere either has
 * not written yet (its steps read as they were, fresh) or has (a
 * written step has no key, or a new one that is checked like any).
 */
static int fast_task(struct fast *f, const struct fresh_row *task, size_t nr,
		     const signed char *local)
{
	struct fast_dir d = { 0, -1 };
	size_t i;
	int ret = 1;

	for (i = 0; ret > 0 && i < nr; i++) {
		const char *deps = NULL;
		if (local)
			ret = local[i] ? (deps = key_deps(task[i].fresh_key),
					  1) : 0;
		else
			ret = fast_local(&task[i], &d, &deps);
		if (ret > 0)
			ret = fast_deps(f, task, nr, deps);
	}
	fast_dir_close(&d);
	if (ret <= 0)
		return ret;
	if (!f->o->quiet_fresh)
		fast_print(f, task, nr);
	f->stats->fresh += (int)nr;
	return 1;
}

/*
 * The pre-pass: fast_local over every row, shared between threads in
 * chunks. Most of a no-change run is the inputs' stat calls (about
 * 1.4 us each here); they are independent, so with 2 CPUs they take
 * half the time. Used only while the run has written nothing
 * (fast_task calls fast_local itself otherwise).
 */
struct prepass {
	const struct fresh_row *v;
	size_t nr;
	signed char *local;
	atomic_size_t next;
};

#define PREPASS_CHUNK 64
#define PREPASS_MIN_ROWS 512
#define PREPASS_MAX_THREADS 4

static void *prepass_run(void *arg)
{
	struct prepass *pp = arg;
	struct fast_dir d = { 0, -1 };
	size_t i, end;

	for (;;) {
		i = atomic_fetch_add(&pp->next, PREPASS_CHUNK);
		if (i >= pp->nr)
			break;
		end = i + PREPASS_CHUNK < pp->nr ? i + PREPASS_CHUNK : pp->nr;
		for (; i < end; i++) {
			const char *deps;
			pp->local[i] = (signed char)fast_local(&pp->v[i], &d,
							       &deps);
		}
	}
	fast_dir_close(&d);
	return NULL;
}

static void prepass(struct fast *f)
{
	struct prepass pp;
	pthread_t th[PREPASS_MAX_THREADS];
	int started[PREPASS_MAX_THREADS] = { 0 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), i;

	if (cpus > PREPASS_MAX_THREADS)
		cpus = PREPASS_MAX_THREADS;
	if (cpus < 2 || f->all->nr < PREPASS_MIN_ROWS)
		return;
	f->local = xcalloc(f->all->nr + 1, 1);
	pp.v = f->all->v;
	pp.nr = f->all->nr;
	pp.local = f->local;
	atomic_init(&pp.next, 0);
	/* this thread works too; it alone does all when none starts */
	for (i = 1; i < cpus; i++)
		started[i] = !pthread_create(&th[i], NULL, prepass_run, &pp);
	prepass_run(&pp);
	for (i = 1; i < cpus; i++)
		if (started[i])
			pthread_join(th[i], NULL);
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
	if (!o->flags) {
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

	if (step_depends_on(w->steps[at].settings, &deps, &ndeps, &err)) {
		ret = deps_error(w->steps[at].id, err);
		free(err);
		return ret;
	}
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
	int ret = q_step_list(st, s->task_id, &w.steps, &w.nr);

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
	struct plan p = { st, cfg, o, stats, NULL, NULL, 0, 0, NULL, 0, 1 };
	struct step s = { 0 };
	int ret, locked = 0;

	ret = q_step_get(st, step_id, &s);
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
	ret = vanished(stats, s.task_id, ret);
	plan_release(&p);
	step_release(&s);
	return outcome(stats, ret);
}

/* run one task of run-steps in full, under its lock */
static int run_all_task(struct store *st, const struct config *cfg,
			const struct engine_opts *o,
			struct engine_stats *stats, long long task_id,
			struct step *steps, size_t nsteps)
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
			const struct engine_opts *o,
			struct engine_stats *stats)
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

	if (!o->flags)
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
