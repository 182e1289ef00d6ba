#include "engine/internal.h"
#include "engine/walk.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "os/xalloc.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The no-change check: a task whose steps all match their fresh keys
 * (core/fingerprint.h; why that is enough: engine/decide.c) is counted
 * fresh without the full decision.
 */

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
	const char *base = r->local_path ? r->local_path : "", *p;
	char sha[SHA256_HEX_LEN + 1], buf[4096];
	struct fresh_key k;
	struct fresh_key_input in;
	int more;

	if (fresh_key_parse(r->fresh_key, &k) || !r->settings)
		return 0;
	/*
	 * A step left to step run (step_run_only) is never fresh here: a
	 * key it got before it was skipped does not count. Any settings
	 * text naming the type goes to the full decision, which is safe.
	 */
	if (strstr(r->settings, "\"dynamic_rubric\""))
		return 0;
	hash_string(r->settings, strlen(r->settings), sha);
	if (strncmp(k.settings_sha, sha, SHA256_HEX_LEN) ||
	    k.base_len != strlen(base) || memcmp(k.base, base, k.base_len))
		return 0;
	*deps = k.deps;
	if (d->task_id != r->task_id) {
		fast_dir_close(d);
		d->task_id = r->task_id;
	}
	p = k.inputs;
	while ((more = fresh_key_next_input(&p, &in)) > 0) {
		struct stat st;
		int at = AT_FDCWD;
		if (in.len >= sizeof(buf))
			return 0;
		memcpy(buf, in.path, in.len);
		buf[in.len] = '\0';
		if (buf[0] != '/') {
			/* as hash_resolve_path(base, rel), in one lookup */
			if (!*base)
				return 0;
			if (d->fd < 0)
				d->fd = open(base,
					     O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (d->fd < 0)
				return 0;
			at = d->fd;
		}
		if (fstatat(at, buf, &st, 0) < 0 ||
		    (long long)st.st_size != in.size ||
		    ts_ns(&st.st_mtim) != in.mtime_ns ||
		    ts_ns(&st.st_ctim) != in.ctime_ns ||
		    (long long)st.st_ino != in.ino)
			return 0;
	}
	return more == 0;
}

/* the dependencies of a key, from what fast_local returned in *deps */
static int fast_deps(struct fast *f, const struct fresh_row *task, size_t nr,
		     const char *p)
{
	const char *dg;
	long long dep;
	size_t len;
	int more, ok;

	while ((more = fresh_key_next_dep(&p, &dep, &dg, &len)) > 0) {
		ok = fast_dep(f, task, nr, dep, dg, len);
		if (ok <= 0)
			return ok;
	}
	return more == 0;
}

/* where fast_local finds the dependency list of a key it accepted */
static const char *key_deps(const char *key)
{
	struct fresh_key k;
	fresh_key_parse(key, &k);
	return k.deps;
}

/* one task's rows as a graph for walk_topo, by the keys' dependencies */
struct rows_graph {
	struct fast *f;
	const struct fresh_row *task;
	size_t nr;
	long long **deps;
	size_t *ndeps;
};

static long long rows_id(void *data, size_t i)
{
	struct rows_graph *g = data;
	return g->task[i].id;
}

static int rows_deps(void *data, size_t i, const long long **deps, size_t *nr)
{
	struct rows_graph *g = data;
	*deps = g->deps[i];
	*nr = g->ndeps[i];
	return 0;
}

static size_t rows_index(void *data, long long id)
{
	struct rows_graph *g = data;
	const struct fresh_row *r = row_find(g->task, g->nr, id);
	return r ? (size_t)(r - g->task) : g->nr;
}

static void print_fresh(void *arg, size_t i)
{
	struct rows_graph *g = arg;

	fprintf(g->f->o->out,
		"Processing step ID %lld (%s)... fresh: "
		"inputs, settings and dependencies unchanged\n",
		g->task[i].id, g->task[i].title);
	fflush(g->f->o->out);
}

/*
 * The steps of one task in decide()'s order (walk_topo over the
 * dependencies the keys list, all in the task), for the "fresh" lines.
 */
static void fast_print(struct fast *f, const struct fresh_row *task, size_t nr)
{
	struct rows_graph rg = { f, task, nr, NULL, NULL };
	struct walk_graph g = { nr, &rg, rows_id, rows_deps, rows_index };
	size_t i;

	rg.deps = xcalloc(nr + 1, sizeof(*rg.deps));
	rg.ndeps = xcalloc(nr + 1, sizeof(*rg.ndeps));
	for (i = 0; i < nr; i++) {
		const char *p = key_deps(task[i].fresh_key), *dg;
		size_t alloc = 0, len;
		long long dep;
		/* checked by fast_deps */
		while (fresh_key_next_dep(&p, &dep, &dg, &len) > 0) {
			ALLOC_GROW(rg.deps[i], rg.ndeps[i] + 1, alloc);
			rg.deps[i][rg.ndeps[i]++] = dep;
		}
	}
	/* a cycle is not reached: a cycle has no keys */
	walk_topo(&g, print_fresh, &rg, NULL);
	for (i = 0; i < nr; i++)
		free(rg.deps[i]);
	free(rg.deps);
	free(rg.ndeps);
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
int fast_task(struct fast *f, const struct fresh_row *task, size_t nr,
	      const signed char *local)
{
	struct fast_dir d = { 0, -1 };
	size_t i;
	int ret = 1;

	for (i = 0; ret > 0 && i < nr; i++) {
		const char *deps = NULL;
		if (local)
			ret = local[i] ? (deps = key_deps(task[i].fresh_key), 1)
				       : 0;
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
			pp->local[i] =
				(signed char)fast_local(&pp->v[i], &d, &deps);
		}
	}
	fast_dir_close(&d);
	return NULL;
}

void prepass(struct fast *f)
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
