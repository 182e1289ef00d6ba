#include "engine/internal.h"
#include "os/error.h"
#include "core/fingerprint.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Fingerprint of a step's inputs now. cached is the last fingerprint
 * (may be NULL) whose stat entries spare unchanged files a re-read.
 * Returns NULL when an input cannot be read, with *missing set.
 */
static json_t *node_fingerprint(struct plan *p, struct node *n,
				const struct step_type *t, const json_t *cached,
				char **missing)
{
	json_t *fp = json_object(), *inputs = json_object();
	json_t *deps = json_object(), *files = json_array(), *v;
	char *sd = fingerprint_settings_digest(n->s->settings);
	const char *base = n->s->task_local_path ? n->s->task_local_path : "";
	const json_t *old_inputs = json_object_get(cached, "inputs");
	size_t i;

	*missing = NULL;
	json_object_set_new(fp, "settings", json_string(sd));
	free(sd);
	for (i = 0; i < n->ndeps; i++) {
		const struct step *d = dep_step(p, n->deps[i]);
		char *dg = d ? fingerprint_outputs_digest(d->results)
			     : xstrdup("missing");
		char key[32];
		snprintf(key, sizeof(key), "%lld", n->deps[i]);
		json_object_set_new(deps, key, json_string(dg));
		free(dg);
	}
	json_object_set_new(fp, "deps", deps);
	if (t && t->inputs &&
	    !t->inputs(json_object_get(n->s->settings, n->type), files, NULL)) {
		json_array_foreach(files, i, v)
		{
			const char *rel = json_string_value(v);
			char *path = hash_resolve_path(base, rel);
			int reread;
			/* errors are the step's to report: stay quiet */
			json_t *e = hash_file_cached(
				path, json_object_get(old_inputs, rel), &reread,
				NULL);
			free(path);
			if (!e) {
				*missing = xstrdup(rel);
				break;
			}
			json_object_set_new(inputs, rel, e);
		}
	}
	json_decref(files);
	json_object_set_new(fp, "inputs", inputs);
	if (*missing) {
		json_decref(fp);
		return NULL;
	}
	return fp;
}

/*
 * The no-change key (steps.fresh_key; its format: core/fingerprint.h).
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

/*
 * The key of node n for fingerprint fp, which was computed from the
 * settings whose stored text hashes to settings_sha, with inputs
 * resolved in the task folder of n->s. NULL when n cannot have one.
 */
char *fresh_key_make(const struct node *n, const char *settings_sha,
		     const json_t *fp)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;

	if (!t || !t->inputs || t->still_fresh || !fp || step_run_only(n))
		return NULL;
	return fresh_key_encode(settings_sha, n->s->task_local_path, n->deps,
				n->ndeps, fp);
}

/* fresh by its inputs: does the type agree that its products exist? */
static int still_fresh(struct plan *p, struct node *n, struct strbuf *why)
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

/*
 * Decide what to do with a node. The reason is appended to why; *fp
 * gets the fingerprint to store after a run (owned, may be NULL).
 */
enum decision decide(struct plan *p, struct node *n, struct strbuf *why,
		     json_t **fp)
{
	const struct step_type *t = n->type ? step_type_find(n->type) : NULL;
	const json_t *old = json_object_get(n->s->results, "fingerprint");
	char *missing = NULL, *change;
	long long pending = 0;
	size_t i;

	*fp = NULL;
	if (n->missing) {
		strbuf_addf(why, "depends on step %lld, which does not exist",
			    n->missing);
		return D_BLOCKED;
	}
	for (i = 0; i < n->ndeps; i++) {
		const struct step *d = dep_step(p, n->deps[i]);
		struct node *dn = plan_find(p, n->deps[i]);
		const char *r;
		if (!d) {
			strbuf_addf(why,
				    "depends on step %lld, which does not "
				    "exist",
				    n->deps[i]);
			return D_BLOCKED;
		}
		if (d->unreadable) {
			strbuf_addf(why, "dependency %lld cannot be read",
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
			if (dn && dn->skipped)
				strbuf_addf(why,
					    "dependency %lld is not successful "
					    "(%s; run it with 'task-sync step "
					    "run %lld')",
					    n->deps[i], r, n->deps[i]);
			else
				strbuf_addf(why,
					    "dependency %lld is not successful "
					    "(%s)",
					    n->deps[i], r);
			return D_BLOCKED;
		}
	}
	if (pending) {
		strbuf_addf(why, "after dependency %lld, which would run",
			    pending);
		return D_RUN;
	}
	*fp = node_fingerprint(p, n, t, old, &missing);
	if (missing) {
		strbuf_addf(why, "input missing: %s", missing);
		free(missing);
		return D_RUN;
	}
	if (p->o->flags & RUN_FORCE) {
		strbuf_addstr(why, "forced");
		return D_RUN;
	}
	if (!t || !t->inputs) {
		/*
		 * A dry run expects such a step (a docker_pool) to make
		 * what it made last time, and judges its dependents on that.
		 */
		n->same_outputs = n->s->results &&
				  !strcmp(result_of(n->s), "success");
		strbuf_addstr(why, n->s->results ? "this step type always runs"
						 : "never run");
		return D_RUN;
	}
	if (!n->s->results) {
		strbuf_addstr(why, "never run");
		return D_RUN;
	}
	if (strcmp(result_of(n->s), "success")) {
		strbuf_addf(why, "last result was %s", result_of(n->s));
		return D_RUN;
	}
	if (!old) {
		strbuf_addstr(why, "no record of its inputs");
		return D_RUN;
	}
	change = fingerprint_change(old, *fp);
	if (change) {
		strbuf_addstr(why, change);
		free(change);
		return D_RUN;
	}
	if (!still_fresh(p, n, why))
		return D_RUN;
	strbuf_addstr(why, "inputs, settings and dependencies unchanged");
	return D_FRESH;
}
