/*
 * rubric_shell: grade one criterion against every assigned candidate.
 *
 * Candidates: assign_containers (patch file -> container) when set,
 * else the task's containers_map: solutionN.patch for every listed
 * solution patch that exists; with --golden also golden and original;
 * `step golden` golden only; `step original` original only.
 *
 * Each candidate is one grading item (core/grade.h): one `docker exec`
 * that resets the repository, applies pre_patch.patch (when listed),
 * the candidate's patch (none for original; golden.patch for golden)
 * and held_out_tests.patch, runs the command under the hard timeout and
 * sweeps what it left. Candidates are grouped by container: the groups
 * run in parallel, the items of one container one after the other.
 * When an item may have left something running (the sweep found
 * survivors, its trailers stop early, the deadline fired, Ctrl-C), the
 * container is restarted (`docker restart`; it runs with --init, so its
 * whole process tree goes) before anything else uses it. Each
 * candidate's result and a step_runs row are written the moment it
 * finishes, so an interrupted run keeps what finished.
 *
 * results: {"solution1.patch": {"status", "exit_code", "duration_ms",
 * "reason", "run_id", "container"[, "cleanup"]}, ..., "golden": ...,
 * "original": ...} plus result/message. "cleanup" says why and how the
 * container was restarted. The output is stored once, in the step_runs
 * row run_id names (store_results_add_output reads it back); only when
 * that row could not be written does the entry carry "output" itself.
 * Candidates not run this time keep their entry.
 */
#include "steps/rubric_shell.h"
#include "steps/grade_basis.h"
#include "steps/owner.h"
#include "steps/image_fetch.h"
#include "steps/worker_box.h"
#include "core/attempts.h"
#include "core/grade.h"
#include "core/hash.h"
#include "core/tamper.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/proc.h"
#include "os/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define OUTPUT_CAP (64 * 1024)

struct shell_run;

struct candidate {
	struct shell_run *run;
	char *own_patch; /* the candidate patch's content */
	char *key;       /* results key: solution1.patch, golden, original */
	char *container; /* what docker exec names: its ID when known */
	char *name;      /* the container as assigned, for people */
	struct grade_where where; /* borrowed from the run's basis env */
	json_t *basis;            /* what decided its outcome, once recorded */
	char *patch_path; /* host path of the candidate patch, or NULL */
	const char *base; /* the container's base commit, or NULL */
	struct candidate *next_same; /* the next item of its container */
	/* filled by the worker */
	struct grade_stream gs;
	struct proc p;
	enum grade_status status;
	char *reason;
	char *cleanup; /* "container restarted: why", or NULL */
	long long started_ms;
	long long run_id; /* its step_runs row (with the output), or 0 */
	/* the attempts so far (core/attempts.h): statuses, and when the
	 * run repeats, their entries */
	int att_status[ATTEMPTS_MAX];
	int nattempt;
	json_t *attempts;
	json_t *tamper; /* core/tamper.h's warnings on its patch, or NULL */
	pthread_t thread;
	int started;
	int box_held; /* a worker's box, held until the item ends */
};

struct shell_run {
	struct step_exec *x;
	struct grade_basis_env env;
	struct candidate *c;
	size_t nr;
	char *app;
	int timeout_s;
	int repeat; /* attempts per cell (core/attempts.h) */
	struct grade_patch patches[3];
	char *patch_bufs[3];
	size_t npatch_common; /* pre_patch, held_out (candidate is added) */
	pthread_mutex_t lock;
	int harness_errors;
	int unrecorded; /* candidates whose write failed */
};

static char *read_text(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	if (strbuf_read_file(&sb, path) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	*len = sb.len;
	return strbuf_detach(&sb, NULL);
}

static void add_candidate(struct shell_run *r, const char *key,
			  const char *patch)
{
	struct candidate *c;
	/* a worker's item: that candidate only */
	if (r->x->only_candidate && strcmp(r->x->only_candidate, key))
		return;
	r->c = xrealloc(r->c, (r->nr + 1) * sizeof(*r->c));
	c = &r->c[r->nr++];
	memset(c, 0, sizeof(*c));
	c->key = xstrdup(key);
	grade_basis_where(&r->env, key, &c->where);
	c->name = c->where.name ? xstrdup(c->where.name) : NULL;
	/* grade in the very container the basis names */
	c->container = c->where.id ? xstrdup(c->where.id)
		       : c->name   ? xstrdup(c->name)
				   : NULL;
	c->patch_path = patch ? hash_resolve_path(r->x->base, patch) : NULL;
}

static void candidate_release(struct candidate *c)
{
	free(c->key);
	free(c->container);
	free(c->name);
	free(c->patch_path);
	free(c->reason);
	free(c->cleanup);
	free(c->own_patch);
	json_decref(c->basis);
	json_decref(c->attempts);
	json_decref(c->tamper);
	proc_release(&c->p);
}

/*
 * Which candidates this invocation's mode covers (all of them, graded
 * or not). r->env must be set up.
 */
static void pick_candidates(struct shell_run *r)
{
	struct step_exec *x = r->x;
	const json_t *assign = json_object_get(x->conf, "assign_containers");
	int golden_only = x->flags & RUN_GOLDEN_ONLY;
	int original_only = x->flags & RUN_ORIGINAL_ONLY;
	int solutions = !golden_only && !original_only;
	int golden = golden_only || (x->flags & RUN_GOLDEN);
	int original = original_only ||
		       (x->flags & (RUN_GOLDEN | RUN_ORIGINAL));
	const char *key;
	json_t *v;
	int n;

	if (solutions && json_is_object(assign) && json_object_size(assign)) {
		json_object_foreach((json_t *)assign, key, v)
		{
			if (!strcmp(key, "golden") || !strcmp(key, "original"))
				continue;
			add_candidate(r, key, grade_basis_patch(x->conf, key));
		}
	} else if (solutions) {
		for (n = 1; n <= 16; n++) {
			char patch[48];
			struct grade_where w;
			snprintf(patch, sizeof(patch), "solution%d.patch", n);
			const char *rel = grade_basis_patch(x->conf, patch);
			const json_t *files = json_object_get(x->conf, "files");
			/* a child of rubric_set lists its patches in files */
			if (json_is_object(files) && json_object_size(files) &&
			    !json_object_get(files, patch))
				continue;
			/* a listed patch that is missing grades as ERROR,
			 * never as the unpatched original */
			grade_basis_where(&r->env, patch, &w);
			if (step_regular_file(x->base, rel) || w.name)
				add_candidate(r, patch, rel);
		}
	}
	/* a missing golden patch is an ERROR, never the original graded
	 * as golden */
	if (golden)
		add_candidate(r, "golden",
			      grade_basis_patch(x->conf, "golden"));
	if (original)
		add_candidate(r, "original", NULL);
}

/*
 * The harness's stdin stays open while the item runs (its watcher ends
 * the item when it closes: task-sync died); the last trailer lets it go.
 */
static void on_output(const char *buf, size_t n, void *data)
{
	struct candidate *c = data;
	grade_feed(&c->gs, buf, n);
	if (c->gs.have_swept || c->gs.failure)
		c->p.hold_input = 0;
}

static int infrastructure(const struct candidate *c);

/* the worker's {"worker", "host"} and the image the item ran on */
static json_t *graded_on(const struct candidate *c)
{
	json_t *o = json_deep_copy(c->run->x->origin);
	json_object_set_new(o, "image_id",
			    c->where.image_id ? json_string(c->where.image_id)
					      : json_null());
	return o;
}

/* one attempt's entry: what the cell's entry says of a single one */
static json_t *attempt_json(const struct candidate *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "status",
			    json_string(grade_status_name(c->status)));
	json_object_set_new(o, "exit_code",
			    c->gs.have_exit ? json_integer(c->gs.exit_code)
					    : json_null());
	json_object_set_new(o, "duration_ms",
			    json_integer(c->gs.have_exit ? c->gs.elapsed_ms
							 : c->p.duration_ms));
	json_object_set_new(o, "reason",
			    c->reason ? json_string(c->reason) : json_null());
	return o;
}

/*
 * The cell's entry: its last attempt's, under the verdict of all its
 * attempts; when the run repeats, every attempt too, and the PASS
 * count. An infrastructure failure ends the attempts and stays the
 * cell's ERROR (graded again on the next run).
 */
static enum grade_status cell_verdict(const struct candidate *c, int *passes)
{
	*passes = c->status == GRADE_PASS;
	if (!c->attempts || !c->nattempt || infrastructure(c))
		return c->status;
	return attempts_verdict(c->att_status, c->nattempt, passes);
}

static json_t *candidate_json(const struct candidate *c)
{
	json_t *o = attempt_json(c);
	int passes;
	enum grade_status v = cell_verdict(c, &passes);

	if (v != c->status) {
		json_object_set_new(o, "status",
				    json_string(grade_status_name(v)));
		if (v == GRADE_FLAKY)
			json_object_set_new(
				o, "reason",
				json_sprintf("attempts disagree: %d of %d "
					     "passed",
					     passes, c->nattempt));
	}
	if (json_array_size(c->tamper))
		json_object_set(o, "tamper", c->tamper);
	if (c->attempts) {
		json_object_set(o, "attempts", c->attempts);
		json_object_set_new(o, "passes", json_integer(passes));
	}
	/* the output is kept once: in the run row, when there is one */
	if (c->run_id)
		json_object_set_new(o, "run_id", json_integer(c->run_id));
	else
		json_object_set_new(o, "output",
				    json_stringn_nocheck(c->p.out.buf,
							 c->p.out.len));
	json_object_set_new(o, "container",
			    c->name ? json_string(c->name) : json_null());
	if (c->cleanup)
		json_object_set_new(o, "cleanup", json_string(c->cleanup));
	if (c->basis)
		json_object_set(o, "basis", c->basis);
	if (c->run->x->origin)
		json_object_set_new(o, "graded_on", graded_on(c));
	if (c->status == GRADE_ERROR)
		json_object_set_new(o, "infrastructure",
				    json_boolean(infrastructure(c)));
	return o;
}

/*
 * What decided c's outcome: where it ran, the settings in force and
 * the content of the patches it applied (grade_basis.h).
 */
static void candidate_basis(struct shell_run *r, struct candidate *c)
{
	char pre[SHA256_HEX_LEN + 1], own[SHA256_HEX_LEN + 1];
	char held[SHA256_HEX_LEN + 1];
	const struct grade_patch *p = r->patches;

	if (p[0].content)
		hash_string(p[0].content, p[0].len, pre);
	if (c->own_patch)
		hash_string(c->own_patch, strlen(c->own_patch), own);
	if (p[1].content)
		hash_string(p[1].content, p[1].len, held);
	json_decref(c->basis);
	c->basis = grade_basis_make(&r->env, &c->where,
				    p[0].content ? pre : NULL,
				    c->own_patch ? own : NULL,
				    p[1].content ? held : NULL);
}

struct merge_key {
	const char *key;
	json_t *value;
};

static int merge_result(struct step *s, void *data)
{
	struct merge_key *m = data;
	if (!json_is_object(s->results)) {
		json_decref(s->results);
		s->results = json_object();
	}
	json_object_set(s->results, m->key, m->value);
	return 0;
}

/*
 * When the run repeats: the attempt just graded, into c->attempts,
 * with the run row that holds its output. Always 0 (a step in the
 * chain of record_candidate).
 */
static int add_attempt(struct candidate *c)
{
	json_t *a;

	if (!c->attempts)
		return 0;
	a = attempt_json(c);
	json_object_set_new(a, "run_id", json_integer(c->run_id));
	json_array_append_new(c->attempts, a);
	return 0;
}

/* the attempt's run row was rolled back: its output goes in its entry */
static void attempt_output_inline(struct candidate *c)
{
	json_t *a = json_array_get(c->attempts, c->nattempt - 1);

	if (!a || json_array_size(c->attempts) != (size_t)c->nattempt)
		return;
	json_object_del(a, "run_id");
	json_object_set_new(a, "output",
			    json_stringn_nocheck(c->p.out.buf, c->p.out.len));
}

/* a warning line per tamper finding of c's patch */
static void print_tamper(FILE *out, const struct candidate *c)
{
	size_t i;
	json_t *v;
	json_array_foreach(c->tamper, i, v) fprintf(
		out, "  %-16s warning: %s\n", c->key, json_string_value(v));
}

/* write one candidate's outcome at once, in one transaction */
static void record_candidate(struct shell_run *r, struct candidate *c)
{
	struct step_exec *x = r->x;
	json_t *val = NULL, *detail = json_object();
	struct merge_key m = { c->key, NULL };
	const char *st = grade_status_name(c->status);

	candidate_basis(r, c);

	json_object_set_new(detail, "candidate", json_string(c->key));
	json_object_set_new(detail, "container",
			    c->name ? json_string(c->name) : json_null());
	json_object_set_new(detail, "reason",
			    c->reason ? json_string(c->reason) : json_null());
	if (c->cleanup)
		json_object_set_new(detail, "cleanup", json_string(c->cleanup));
	if (x->origin)
		json_object_set_new(detail, "graded_on", graded_on(c));
	if (c->attempts)
		json_object_set_new(detail, "attempt",
				    json_integer(c->nattempt));
	pthread_mutex_lock(&r->lock);
	if (store_begin(x->st) ||
	    (x->guard && x->guard(x->st, x->guard_data) != 1) ||
	    store_run_add(x->st, x->step->id, c->started_ms, c->p.duration_ms,
			  st, c->gs.have_exit ? c->gs.exit_code : -1,
			  c->p.out.buf, detail, &c->run_id) ||
	    add_attempt(c) || !(m.value = val = candidate_json(c)) ||
	    store_step_edit(x->st, x->step->id, merge_result, &m) ||
	    store_commit(x->st)) {
		store_rollback(x->st);
		/* the run row went with the rollback: the output goes inline */
		c->run_id = 0;
		attempt_output_inline(c);
		/*
		 * The step's results still get it when the step ends, but
		 * the step does not succeed: a write failed (engine.c
		 * reports it if the final one fails too).
		 */
		r->unrecorded++;
		fprintf(stderr,
			"warning: step %lld: could not record "
			"candidate %s now (%s %s); it is written with the "
			"step's results\n",
			x->step->id, c->key, st, c->name ? c->name : "-");
	}
	fprintf(x->out, "  %-16s %-7s %s%s%s%s%s", c->key, st,
		c->name ? c->name : "-", c->reason ? ": " : "",
		c->reason ? c->reason : "", c->cleanup ? "; " : "",
		c->cleanup ? c->cleanup : "");
	if (c->attempts)
		fprintf(x->out, " (attempt %d)", c->nattempt);
	fputc('\n', x->out);
	if (c->nattempt <= 1)
		print_tamper(x->out, c);
	fflush(x->out);
	pthread_mutex_unlock(&r->lock);
	json_decref(val);
	json_decref(detail);
}

/*
 * After an item that may have left something running: restart the
 * container, which kills its whole process tree (it runs with --init)
 * and starts its main command again. Returns the note for the results.
 */
static char *restart_container(const char *container, const char *why)
{
	struct proc p = PROC_INIT;
	struct strbuf fail = STRBUF_INIT;
	char *note;
	int rc;

	docker_proc_init(&p);
	strvec_pushl(&p.argv, "restart", "-t", "0", container, NULL);
	p.cleanup = 1; /* the point is to run after Ctrl-C too */
	p.capture_cap = 4096;
	rc = docker_call_proc(&p, 60000, &fail);
	if (rc) {
		char *t = text_tail(p.out.buf, 200);
		note = xstrfmt("%s; docker restart failed: %s", why,
			       rc < 0 ? fail.buf : t);
		free(t);
	} else {
		note = xstrfmt("container restarted: %s", why);
	}
	proc_release(&p);
	strbuf_release(&fail);
	return note;
}

/* why the container may not be clean after this item, or NULL */
static char *dirty_reason(const struct candidate *c)
{
	const struct grade_stream *g = &c->gs;
	if (c->p.interrupted)
		return xstrdup("the item was interrupted");
	if (c->p.timed_out)
		return xstrdup("the item passed the host deadline");
	if (!g->apply_ok)
		return NULL; /* the command never ran */
	if (!g->have_swept)
		return xstrdup("the harness stopped before its sweep");
	if (g->left_behind > 0)
		return xstrfmt("%d process%s survived the sweep",
			       g->left_behind, g->left_behind == 1 ? "" : "es");
	if (c->p.exit_code)
		return xstrfmt("the harness exited %d", c->p.exit_code);
	return NULL;
}

/* "empty patch" or a reason starting with it: the candidate's own */
#define REASON_EMPTY "empty patch"

/* what a candidate's patch does that it has no reason to (tamper.h) */
static json_t *check_tamper(struct shell_run *r, const char *patch, size_t len)
{
	const struct config *cfg = r->x->cfg;
	struct tamper_markers m = { config_get(cfg, CFG_PASS_MARKER),
				    config_get(cfg, CFG_FAIL_MARKER),
				    config_get(cfg, CFG_TIMEOUT_MARKER) };
	return tamper_check(patch, len, r->patches[1].content,
			    r->patches[1].len, &m);
}

/* one attempt of candidate c, its outcome in c (recorded by the caller) */
static void grade_attempt(struct candidate *c)
{
	struct shell_run *r = c->run;
	char nonce[33];
	char *script;
	struct grade_patch patches[3];
	size_t np = 0;
	struct grade_spec spec;
	int rc;

	c->started_ms = proc_wall_ms();
	if (r->patches[0].content)
		patches[np++] = r->patches[0]; /* pre_patch */
	if (c->patch_path) {
		size_t len = 0;
		char *buf = read_text(c->patch_path, &len);
		if (!buf) {
			c->status = GRADE_ERROR;
			c->reason = xstrfmt("cannot read '%s': %s",
					    c->patch_path, strerror(errno));
			goto done;
		}
		c->own_patch = buf;
		if (!len) {
			/* never graded as the unpatched original */
			c->status = GRADE_ERROR;
			c->reason = xstrfmt(REASON_EMPTY ": '%s' is 0 bytes",
					    c->patch_path);
			goto done;
		}
		patches[np].label = c->key;
		patches[np].content = buf;
		patches[np].len = len;
		np++;
		if (!c->tamper && strcmp(c->key, "golden"))
			c->tamper = check_tamper(r, buf, len);
	}
	if (r->patches[1].content)
		patches[np++] = r->patches[1]; /* held-out */
	spec.app = r->app;
	spec.command = json_str(r->x->conf, "command");
	spec.timeout_s = r->timeout_s;
	spec.patches = patches;
	spec.npatches = np;
	spec.base_commit = c->base;
	grade_nonce(nonce);
	script = grade_script(&spec, nonce);
	grade_stream_init(&c->gs, nonce, config_get(r->x->cfg, CFG_PASS_MARKER),
			  config_get(r->x->cfg, CFG_FAIL_MARKER),
			  config_get(r->x->cfg, CFG_TIMEOUT_MARKER));
	docker_proc_init(&c->p);
	strvec_pushl(&c->p.argv, "exec", "-i", c->container, "bash", "-s",
		     NULL);
	c->p.input = script;
	c->p.input_len = strlen(script);
	c->p.capture_cap = OUTPUT_CAP;
	c->p.hold_input = 1;
	c->p.on_output = on_output;
	c->p.data = c;
	c->p.timeout_ms = grade_deadline_ms(r->timeout_s);
	rc = proc_run(&c->p);
	c->gs.harness_exit = c->p.exit_code;
	if (rc < 0) {
		c->status = GRADE_ERROR;
		c->reason = xstrdup("cannot run docker");
	} else if (c->p.interrupted) {
		c->status = GRADE_ERROR;
		c->reason = xstrdup("interrupted");
	} else if (!c->gs.apply_ok && !c->gs.failure && c->p.exit_code &&
		   !c->p.timed_out) {
		/* docker itself failed: a dead container, a daemon gone */
		char *t = text_tail(c->p.out.buf, 300);
		c->status = GRADE_ERROR;
		c->reason = xstrfmt("docker exec failed (exit %d): %s",
				    c->p.exit_code, t);
		free(t);
	} else {
		c->status = grade_classify(&c->gs, r->timeout_s, c->p.timed_out,
					   &c->reason);
	}
	if (rc >= 0) {
		char *why = dirty_reason(c);
		if (why)
			c->cleanup = restart_container(c->container, why);
		free(why);
	}
	if (c->gs.failure && (!strncmp(c->gs.failure, "reset", 5) ||
			      !strncmp(c->gs.failure, "setup", 5))) {
		pthread_mutex_lock(&r->lock);
		r->harness_errors++;
		pthread_mutex_unlock(&r->lock);
	}
	free(script);
	grade_stream_release(&c->gs);
done:;
}

/* what an attempt leaves in c, dropped before the next one */
static void attempt_reset(struct candidate *c)
{
	struct proc none = PROC_INIT;

	FREE_AND_NULL(c->reason);
	FREE_AND_NULL(c->cleanup);
	FREE_AND_NULL(c->own_patch);
	proc_release(&c->p);
	c->p = none;
	memset(&c->gs, 0, sizeof(c->gs));
	c->run_id = 0;
}

/*
 * Grade candidate c as many times as the run's policy asks, each
 * attempt fresh (reset, apply, run) and recorded as it finishes.
 */
static void *grade_one(void *arg)
{
	struct candidate *c = arg;
	struct shell_run *r = c->run;

	if (r->repeat != 1)
		c->attempts = json_array();
	for (;;) {
		grade_attempt(c);
		c->att_status[c->nattempt++] = c->status;
		record_candidate(r, c);
		if (infrastructure(c) || c->p.interrupted ||
		    !attempts_more(r->repeat, c->att_status, c->nattempt))
			break;
		attempt_reset(c);
	}
	return NULL;
}

/* the items of one container, one after the other */
static void *grade_group(void *arg)
{
	struct candidate *c;
	for (c = arg; c; c = c->next_same)
		grade_one(c);
	return NULL;
}

static int load_common_patch(struct shell_run *r, int slot, const char *rel,
			     const char *label, int required)
{
	char *path = hash_resolve_path(r->x->base, rel);
	size_t len = 0;
	char *buf = NULL;

	if (step_regular_file(r->x->base, rel))
		buf = read_text(path, &len);
	free(path);
	if (!buf)
		return required ? -1 : 0;
	r->patch_bufs[slot] = buf;
	r->patches[slot].label = label;
	r->patches[slot].content = buf;
	r->patches[slot].len = len;
	return 0;
}

static char *cell_stale(struct shell_run *r, const struct candidate *c,
			const json_t *results);

/*
 * Drop the candidates whose stored entry still holds (a verdict graded
 * under today's basis); returns how many were dropped.
 */
static size_t keep_only_stale(struct shell_run *r, const json_t *prev)
{
	size_t i, n = 0;
	for (i = 0; i < r->nr; i++) {
		char *why = cell_stale(r, &r->c[i], prev);
		if (why)
			r->c[n++] = r->c[i];
		else
			candidate_release(&r->c[i]);
		free(why);
	}
	i = r->nr - n;
	r->nr = n;
	return i;
}

/*
 * A container assign_containers names must be the user's own or this
 * database's and this task's (steps/owner.h): the candidates in any
 * other get an ERROR saying whose it is, and nothing runs in it.
 */
static int refuse_foreign(struct shell_run *r)
{
	const json_t *assign = json_object_get(r->x->conf, "assign_containers");
	const char *db = NULL;
	size_t i, k;

	for (i = 0; i < r->nr; i++) {
		struct candidate *c = &r->c[i];
		const char *a = json_str(assign, c->key);
		struct docker_container dc;
		struct strbuf why = STRBUF_INIT;

		if (!a || !c->name || strcmp(a, c->name) || c->reason)
			continue;
		if (!db && !(db = owner_db(r->x)))
			return -1;
		if (owner_inspect_user(r->x, db, c->name, &dc, &why) == 1)
			docker_container_release(&dc);
		for (k = 0; why.len && k < r->nr; k++)
			if (r->c[k].name && !strcmp(r->c[k].name, c->name))
				r->c[k].reason = xstrdup(why.buf);
		strbuf_release(&why);
	}
	return 0;
}

/*
 * A worker grades in containers of its own (steps/worker_box.h), from
 * the image each candidate's pool container runs, fetched first when
 * this engine lacks it (steps/image_fetch.h): a candidate whose image
 * cannot be had or whose container cannot be made gets an ERROR saying
 * why.
 */
static int own_boxes(struct shell_run *r)
{
	const char *worker = json_str(r->x->origin, "worker");
	const char *db = owner_db(r->x);
	size_t i;

	if (!db)
		return -1;
	for (i = 0; i < r->nr; i++) {
		struct candidate *c = &r->c[i];
		char *id = NULL, *box = NULL;
		struct strbuf why = STRBUF_INIT;

		if (!c->container || c->reason)
			continue;
		if (!c->where.image_id) {
			c->reason = xstrfmt("%s: its pool container's image is "
					    "not known here (run the pool step "
					    "on this machine)",
					    c->key);
			continue;
		}
		if (step_image_fetch(r->x, c->where.image_id, &why) ||
		    worker_box(r->x, db, worker, c->key, c->where.image_id,
			       r->env.app, &id, &box, &why)) {
			c->reason = strbuf_detach(&why, NULL);
			continue;
		}
		free(c->container);
		c->container = id;
		free(c->name);
		c->name = box;
		c->box_held = 1;
	}
	return 0;
}

/*
 * The attempts per cell (core/attempts.h): --repeat, else the task's
 * "repeat" setting, else 1. 0 when the setting is not one.
 */
static int run_repeat(const struct step_exec *x, const json_t *ts)
{
	const json_t *v = json_object_get(ts, "repeat");
	int n = 1;

	if (x->repeat)
		return x->repeat;
	if (v && attempts_parse_json(v, &n))
		return 0;
	return n;
}

#define REPEAT_BAD                                                        \
	"task setting repeat: expected a whole number of attempts 1..%d " \
	"or \"auto\""

static int shell_run(struct step_exec *x)
{
	struct shell_run r;
	json_t *ts = step_task_settings(x);
	json_t *prev = x->step->results;
	const char *cmd = json_str(x->conf, "command");
	int counts[GRADE_NSTATUS] = { 0 }, infra = 0, passes;
	struct strbuf tally = STRBUF_INIT;
	const struct candidate *first = NULL;
	size_t i, kept = 0;
	const char *key;
	json_t *v;

	memset(&r, 0, sizeof(r));
	r.x = x;
	pthread_mutex_init(&r.lock, NULL);
	grade_basis_env_init(&r.env, x->cfg, ts, x->conf, x->base);
	if (!cmd || !*cmd) {
		step_set_result(x, "failure", "rubric_shell has no command");
		goto out;
	}
	r.repeat = run_repeat(x, ts);
	if (!r.repeat) {
		step_set_result(x, "failure", REPEAT_BAD, ATTEMPTS_MAX);
		goto out;
	}
	pick_candidates(&r);
	if (!r.nr) {
		step_set_result(x, "failure",
				"no candidates to grade: no "
				"assign_containers, no containers_map in the "
				"task settings, or no solution patches");
		goto out;
	}
	/* keep the results of candidates this run does not grade */
	x->results = json_object();
	/* a worker's item merges its one candidate into what is stored */
	json_object_foreach(prev, key, v) if (!x->only_candidate &&
					      json_is_object(v) &&
					      json_object_get(v, "status"))
		json_object_set(x->results, key, v);
	/* grade only the cells whose verdict no longer holds */
	if (!(x->flags & RUN_FORCE))
		kept = keep_only_stale(&r, prev);
	if (!r.nr) {
		step_set_result(x, "success",
				"%zu verdict%s kept: graded "
				"under today's conditions",
				kept, kept == 1 ? "" : "s");
		goto out;
	}
	if (refuse_foreign(&r))
		goto out;
	if (json_str(x->origin, "worker") && own_boxes(&r))
		goto out;
	r.app = xstrdup(r.env.app);
	r.timeout_s = r.env.timeout_s;
	if (grade_basis_pre_patch(x->conf))
		load_common_patch(&r, 0, grade_basis_pre_patch(x->conf),
				  "pre_patch", 0);
	load_common_patch(&r, 1, step_held_out_patch(x->base, x->conf),
			  "held_out_tests", 0);
	if (kept)
		fprintf(x->out,
			"  keeping %zu verdict%s graded under "
			"today's conditions\n",
			kept, kept == 1 ? "" : "s");
	fprintf(x->out, "  grading %zu candidate%s (timeout %d s)", r.nr,
		r.nr == 1 ? "" : "s", r.timeout_s);
	if (r.repeat == ATTEMPTS_AUTO)
		fprintf(x->out, ", 2 to %d attempts each", ATTEMPTS_AUTO_MAX);
	else if (r.repeat > 1)
		fprintf(x->out, ", %d attempts each", r.repeat);
	fputc('\n', x->out);
	/* one group per container: items of one container never overlap */
	for (i = 0; i < r.nr; i++) {
		struct candidate *c = &r.c[i];
		size_t j;
		c->run = &r;
		c->base = c->where.base_commit;
		for (j = i; c->container && j-- > 0;) {
			struct candidate *h = &r.c[j];
			if (h->container &&
			    !strcmp(h->container, c->container)) {
				h->next_same = c;
				c->started = -1; /* run by its group's thread */
				break;
			}
		}
	}
	for (i = 0; i < r.nr; i++) {
		struct candidate *c = &r.c[i];
		if (!c->container || c->reason) {
			c->status = GRADE_ERROR;
			if (!c->reason)
				c->reason = xstrfmt("no container assigned "
						    "to %s",
						    c->key);
			c->started_ms = proc_wall_ms();
			record_candidate(&r, c);
			continue;
		}
		if (c->started < 0)
			continue;
		if (pthread_create(&c->thread, NULL, grade_group, c)) {
			/* no thread: grade the group here, one by one */
			grade_group(c);
			continue;
		}
		c->started = 1;
	}
	for (i = 0; i < r.nr; i++)
		if (r.c[i].started > 0)
			pthread_join(r.c[i].thread, NULL);
	for (i = 0; i < r.nr; i++) {
		json_t *cj = candidate_json(&r.c[i]);
		json_object_set_new(x->results, r.c[i].key, cj);
		counts[cell_verdict(&r.c[i], &passes)]++;
		if (infrastructure(&r.c[i]) && !infra++)
			first = &r.c[i];
	}
	/*
	 * An ERROR of the machinery (the daemon, a container, a reset; a
	 * write) is no verdict on the candidate: the step does not succeed,
	 * so the run says so and exits non-zero, and the next run grades
	 * that candidate again (rubric_shell_is_verdict).
	 */
	x->infra_failures = infra + r.unrecorded;
	strbuf_addf(&tally,
		    "graded %zu: %d PASS, %d FAIL, %d TIMEOUT, %d ERROR", r.nr,
		    counts[GRADE_PASS], counts[GRADE_FAIL],
		    counts[GRADE_TIMEOUT], counts[GRADE_ERROR]);
	if (r.repeat != 1)
		strbuf_addf(&tally, ", %d FLAKY", counts[GRADE_FLAKY]);
	if (infra)
		step_set_result(x, "error",
				"%s; %d infrastructure failure%s (%s: %s), "
				"graded again on the next run",
				tally.buf, infra, infra == 1 ? "" : "s",
				first->key,
				first->reason ? first->reason : "no reason");
	else if (r.unrecorded)
		step_set_result(x, "error",
				"%s; %d result%s could not be recorded when "
				"graded",
				tally.buf, r.unrecorded,
				r.unrecorded == 1 ? "" : "s");
	else
		step_set_result(x, "success", "%s", tally.buf);
out:
	strbuf_release(&tally);
	for (i = 0; i < r.nr; i++) {
		if (r.c[i].box_held)
			worker_box_release(r.c[i].name);
		candidate_release(&r.c[i]);
	}
	free(r.c);
	free(r.patch_bufs[0]);
	free(r.patch_bufs[1]);
	free(r.app);
	grade_basis_env_release(&r.env);
	json_decref(ts);
	pthread_mutex_destroy(&r.lock);
	return 0;
}

static int shell_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	const json_t *f = json_object_get(conf, "files");
	const char *key, *held = json_str(conf, "held_out_test");
	json_t *v;
	(void)err;
	const json_t *over = json_object_get(conf, "patches");
	json_object_foreach((json_t *)f, key, v)
	{
		const char *rel = json_str(over, key);
		json_array_append_new(files, json_string(rel ? rel : key));
	}
	if (held && *held)
		json_array_append_new(files, json_string(held));
	return 0;
}

/*
 * An ERROR that is the candidate's own: a rerun would give it again (no
 * verdict, an empty patch, a patch that does not apply).
 */
static int own_error(const char *why)
{
	size_t n = why ? strlen(why) : 0;

	return why &&
	       (!strncmp(why, "no verdict: ", 12) ||
		!strncmp(why, REASON_EMPTY ":", strlen(REASON_EMPTY) + 1) ||
		(!strncmp(why, "patch ", 6) && n > 21 &&
		 !strcmp(why + n - 15, " does not apply")));
}

/*
 * An ERROR that is the machinery's, not the candidate's (a daemon gone,
 * a container not running, a reset that failed, Ctrl-C, no container):
 * an infrastructure failure, as SWE-bench calls them. Stored as
 * "infrastructure": true in the candidate's entry.
 */
static int infrastructure(const struct candidate *c)
{
	return c->status == GRADE_ERROR && !own_error(c->reason);
}

/* steps/rubric_shell.h; the others are graded again */
int rubric_shell_is_verdict(const json_t *e)
{
	const char *st = json_str(e, "status");
	const json_t *infra = json_object_get(e, "infrastructure");

	if (!st)
		return 0;
	if (json_is_true(infra))
		return 0;
	if (strcmp(st, "ERROR"))
		return 1;
	if (json_is_boolean(infra))
		return 1;
	return own_error(json_str(e, "reason"));
}

/*
 * Why candidate c must be graded (again), or NULL when its stored entry
 * in results still holds: a verdict, graded under today's basis.
 */
static char *cell_stale(struct shell_run *r, const struct candidate *c,
			const json_t *results)
{
	const json_t *e = json_object_get(results, c->key);
	const char *r0 = json_str(e, "reason");
	char *d;
	int n;

	if (!json_str(e, "status"))
		return xstrfmt("%s has not been graded", c->key);
	if (!rubric_shell_is_verdict(e))
		return xstrfmt("%s could not be graded last time (%s)", c->key,
			       r0 ? r0 : "no reason");
	n = json_is_array(json_object_get(e, "attempts"))
		    ? (int)json_array_size(json_object_get(e, "attempts"))
		    : 1;
	if (n < attempts_wanted(r->repeat))
		return xstrfmt("%s was graded %d time%s; the repeat asks "
			       "for %d",
			       c->key, n, n == 1 ? "" : "s",
			       attempts_wanted(r->repeat));
	d = grade_basis_stale(&r->env, c->key, e);
	if (d) {
		char *why = xstrfmt("%s: %s", c->key, d);
		free(d);
		return why;
	}
	return NULL;
}

/*
 * Fresh only if every candidate of this mode has a verdict graded under
 * today's basis; else the first stale cell and how many more.
 */
static int shell_still_fresh(struct step_exec *x, struct strbuf *why)
{
	struct shell_run r;
	json_t *ts = step_task_settings(x);
	char *first = NULL;
	size_t i, more = 0;

	memset(&r, 0, sizeof(r));
	r.x = x;
	r.repeat = run_repeat(x, ts);
	if (!r.repeat) {
		strbuf_addf(why, REPEAT_BAD, ATTEMPTS_MAX);
		json_decref(ts);
		return 0;
	}
	grade_basis_env_init(&r.env, x->cfg, ts, x->conf, x->base);
	pick_candidates(&r);
	for (i = 0; i < r.nr; i++) {
		char *w = cell_stale(&r, &r.c[i], x->step->results);
		if (w && first)
			more++;
		else if (w)
			first = w, w = NULL;
		free(w);
		candidate_release(&r.c[i]);
	}
	free(r.c);
	grade_basis_env_release(&r.env);
	json_decref(ts);
	if (!first)
		return 1;
	if (more)
		strbuf_addf(why, "%s; %zu more cell%s", first, more,
			    more == 1 ? "" : "s");
	else
		strbuf_addstr(why, first);
	free(first);
	return 0;
}

void rubric_shell_candidates(struct step_exec *x, struct strvec *keys)
{
	struct shell_run r;
	json_t *ts = step_task_settings(x);
	size_t i;

	memset(&r, 0, sizeof(r));
	r.x = x;
	grade_basis_env_init(&r.env, x->cfg, ts, x->conf, x->base);
	pick_candidates(&r);
	for (i = 0; i < r.nr; i++) {
		strvec_push(keys, r.c[i].key);
		candidate_release(&r.c[i]);
	}
	free(r.c);
	grade_basis_env_release(&r.env);
	json_decref(ts);
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key rubric_shell_keys[] = {
	{ "command", SK_STRING, 0 },
	{ "criterion_id", SK_STRING, 0 },
	{ "counter", SK_STRING | SK_INTEGER, 0 },
	{ "score", SK_NUMBER, 0 },
	{ "required", SK_BOOL, 0 },
	{ "assign_containers", SK_OBJECT, 0 },
	{ "files", SK_OBJECT, 0 },
	{ "patches", SK_OBJECT, 0 },
	{ "held_out_test", SK_STRING, 0 },
	{ "golden_patch", SK_STRING, 0 },
	{ "pre_patch", SK_BOOL, 0 },
	{ "apply_golden", SK_BOOL, 0 },
	{ "timeout_seconds", SK_INTEGER, 0 },
	{ "generated_by", SK_STRING | SK_INTEGER, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_rubric_shell = {
	.keys = rubric_shell_keys,
	.name = "rubric_shell",
	.run = shell_run,
	.inputs = shell_inputs,
	.still_fresh = shell_still_fresh,
};
