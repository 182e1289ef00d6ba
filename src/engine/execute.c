#include "engine/internal.h"
#include "os/error.h"
#include "core/fingerprint.h"
#include "core/jsonutil.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replace_results {
	json_t *results;
	const char *fresh_key; /* NULL: the column is cleared */
	int merge;             /* a worker's item: update the stored results */
};

static int set_results(struct step *s, void *data)
{
	struct replace_results *r = data;
	if (r->merge && r->results) {
		/* the other candidates' entries, as stored now, stay */
		if (!json_is_object(s->results)) {
			json_decref(s->results);
			s->results = json_object();
		}
		json_object_del(s->results, "fingerprint");
		json_object_update(s->results, r->results);
		return 0;
	}
	json_decref(s->results);
	s->results = r->results ? json_incref(r->results) : NULL;
	if (r->fresh_key)
		s->fresh_key = xstrdup(r->fresh_key);
	return 0;
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
	struct replace_results r = { results, fresh_key,
				     p->o->only_candidate != NULL };
	long long run_id = 0;
	int ret;

	p->stats->writes++;
	if (store_begin(p->st))
		return TS_EFAIL;
	ret = 0;
	/* a worker whose claim was taken writes nothing */
	if (p->o->guard && p->o->guard(p->st, p->o->guard_data) != 1)
		ret = error_code(TS_EFAIL,
				 "step %lld: this worker's claim on the item "
				 "was taken; its result is not recorded",
				 n->s->id);
	if (!ret && run_status && p->o->origin) {
		if (!detail)
			detail = json_object();
		else
			json_incref(detail);
		json_object_set(detail, "graded_on", (json_t *)p->o->origin);
	} else if (detail) {
		json_incref(detail);
	}
	if (!ret && run_status) {
		ret = store_run_add(p->st, n->s->id, started_ms, duration_ms,
				    run_status, exit_code, log, detail,
				    &run_id);
		if (!ret)
			json_object_set_new(results, "run_id",
					    json_integer(run_id));
	}
	json_decref(detail);
	if (!ret)
		ret = store_step_edit(p->st, n->s->id, set_results, &r);
	if (!ret)
		ret = store_commit(p->st);
	else
		store_rollback(p->st);
	if (!ret && !r.merge) {
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
	fprintf(p->o->out, "Processing step ID %lld (%s)... %s%s%s\n", n->s->id,
		n->s->title, what, msg && *msg ? ": " : "", msg ? msg : "");
	fflush(p->o->out);
}

void exec_init(struct plan *p, struct node *n, struct step_exec *x)
{
	memset(x, 0, sizeof(*x));
	x->st = p->st;
	x->cfg = p->cfg;
	x->step = n->s;
	x->type = n->type;
	x->conf = n->type ? json_object_get(n->s->settings, n->type) : NULL;
	x->base = n->s->task_local_path ? n->s->task_local_path : "";
	x->flags = p->o->flags;
	x->repeat = p->o->repeat;
	x->out = p->o->out;
	x->only_candidate = p->o->only_candidate;
	x->guard = p->o->guard;
	x->guard_data = p->o->guard_data;
	x->origin = p->o->origin;
	x->exit_code = -1;
	strbuf_init(&x->log, 0);
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
	long long started = proc_wall_ms(), t0 = proc_now_ms();
	const char *result;
	char *key = NULL;
	int ret;

	exec_init(p, n, &x);
	if ((p->o->flags & RUN_FORCE) && n->s->results &&
	    !p->o->only_candidate) {
		struct replace_results none = { NULL, NULL, 0 };
		p->stats->writes++;
		if (store_step_edit(p->st, n->s->id, set_results, &none))
			return TS_EFAIL;
	}
	if (!n->type) {
		struct strbuf err = STRBUF_INIT;
		const char *type;
		step_type_of(n->s->settings, &type, &err);
		step_set_result(&x, "error", "%s", err.buf);
		strbuf_release(&err);
	} else if (!t) {
		step_set_result(&x, "error",
				"step type '%s' cannot run in "
				"this version of task-sync",
				n->type);
	} else if (t->run(&x) < 0 || !json_str(x.results, "result")) {
		if (!json_str(x.results, "result"))
			step_set_result(&x, "error",
					"step type '%s' recorded "
					"no result",
					n->type);
	}
	if (proc_was_interrupted()) {
		step_set_result(&x, "error", "interrupted");
		p->stats->interrupted = 1;
	}
	result = json_str(x.results, "result");
	/* one candidate graded is no fingerprint of the whole step */
	if (fp && !strcmp(result, "success") && !p->o->only_candidate) {
		json_object_set(x.results, "fingerprint", fp);
		/* the settings text fp was computed from, as loaded */
		key = fresh_key_make(n, store_step_settings_sha(n->s), fp);
	}
	ret = record(p, n, x.results, key, result, started, proc_now_ms() - t0,
		     x.exit_code, x.log.len ? x.log.buf : NULL, x.detail);
	free(key);
	p->stats->ran++;
	p->stats->infra += x.infra_failures;
	if (ret) {
		/* what ran is lost: never report it as a success */
		p->stats->failed++;
		p->stats->unrecorded++;
		if (step_gone(p, n->s->id))
			p->stats->vanished++;
		print_line(
			p, n, "error",
			p->stats->vanished
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
	char *key = fresh_key_make(n, store_step_settings_sha(n->s), fp);
	int changed = 0, ret;

	if (!key)
		return 0;
	if (!n->digest)
		n->digest = fingerprint_outputs_digest(n->s->results);
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
	error("step %lld: %s; nothing changed, the step was not run", n->s->id,
	      n->s->unreadable);
	if (p->o->flags & RUN_DRY)
		fprintf(p->o->out,
			"step %lld (%s): not run (it cannot be "
			"read)\n",
			n->s->id, n->s->title);
	else
		print_line(p, n, "not run",
			   "it cannot be read (see the error "
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

int process(struct plan *p, struct node *n)
{
	struct strbuf why = STRBUF_INIT;
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
			n->s->title,
			d == D_RUN     ? "would run"
			: d == D_FRESH ? "fresh"
				       : "blocked",
			why.buf);
	} else if (d == D_FRESH) {
		p->stats->fresh++;
		ret = refresh_fresh_key(p, n, fp);
		if (!p->o->quiet_fresh)
			print_line(p, n, "fresh", why.buf);
	} else if (d == D_BLOCKED) {
		p->stats->blocked++;
		/* write only when the record changes: reruns stay cheap */
		if (strcmp(result_of(n->s), "blocked") ||
		    strcmp(json_str(n->s->results, "message")
				   ? json_str(n->s->results, "message")
				   : "",
			   why.buf)) {
			/*
			 * Keep what the step recorded before (a rubric step's
			 * grades, say): only its state changes. Without the
			 * fingerprint it cannot pass for fresh afterwards.
			 */
			json_t *r = json_is_object(n->s->results)
					    ? json_copy(n->s->results)
					    : json_object();
			json_object_del(r, "fingerprint");
			json_object_set_new(r, "result",
					    json_string("blocked"));
			json_object_set_new(r, "message", json_string(why.buf));
			ret = record(p, n, r, NULL, NULL, 0, 0, -1, NULL, NULL);
			json_decref(r);
		}
		print_line(p, n, "blocked", why.buf);
	} else {
		ret = execute(p, n, fp);
		if (!ret)
			ret = reload_children(p, n);
	}
	strbuf_release(&why);
	json_decref(fp);
	return ret;
}
