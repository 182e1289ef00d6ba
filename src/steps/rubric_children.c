#include "steps/rubric_children.h"
#include "core/fingerprint.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

json_t *rubric_hash_map(const struct rubric *r)
{
	json_t *m = json_object();
	size_t i;
	for (i = 0; i < r->nr; i++) {
		char *h = criterion_hash(&r->v[i]);
		json_object_set_new(m, r->v[i].id, json_string(h));
		free(h);
	}
	return m;
}

void rubric_report_skipped(struct step_exec *x, const struct rubric *r,
			   json_t *into)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < r->skipped.nr; i++) {
		fprintf(x->out, "  warning: skipped %s\n", r->skipped.v[i]);
		json_array_append_new(a, json_string(r->skipped.v[i]));
	}
	json_object_set_new(into, "skipped_items", a);
	if (r->warnings.nr) {
		a = json_array();
		for (i = 0; i < r->warnings.nr; i++) {
			fprintf(x->out, "  warning: %s\n", r->warnings.v[i]);
			json_array_append_new(a, json_string(r->warnings.v[i]));
		}
		json_object_set_new(into, "warnings", a);
	}
}

int rubric_refuse_empty(struct step_exec *x, const struct rubric *r,
			const char *file)
{
	if (r->nr || (x->flags & RUN_FORCE))
		return 0;
	x->detail = json_object();
	rubric_report_skipped(x, r, x->detail);
	step_set_result(x, "failure",
			"no criteria in %s: %s; the rubric "
			"steps are kept (--force deletes them)",
			file, rubric_why_empty(r));
	return 1;
}

static json_t *child_conf(const struct step_exec *x, const struct criterion *c,
			  const json_t *extra)
{
	json_t *o = json_object(), *dep = json_array(), *d = json_object();
	char *h = criterion_hash(c);
	char pid[32];
	const char *key;
	json_t *v;

	snprintf(pid, sizeof(pid), "%lld", x->step->id);
	json_object_set_new(o, "command", json_string(c->command));
	json_object_set_new(o, "criterion_id", json_string(c->id));
	json_object_set_new(o, "counter",
			    json_string(c->counter ? c->counter : ""));
	json_object_set_new(o, "score", json_number_kept(c->score));
	json_object_set_new(o, "required", json_boolean(c->required));
	json_object_set_new(o, "rubric", json_string(c->text ? c->text : ""));
	json_object_set_new(o, "hash", json_string(h));
	json_object_set_new(o, "generated_by", json_string(pid));
	json_object_set_new(d, "id", json_integer(x->step->id));
	json_array_append_new(dep, d);
	json_object_set_new(o, "depends_on", dep);
	json_object_foreach((json_t *)extra, key, v) json_object_set(o, key, v);
	/* the criterion's own time limit wins over the set's */
	if (c->timeout_s > 0)
		json_object_set_new(o, "timeout_seconds",
				    json_integer(c->timeout_s));
	free(h);
	return o;
}

static char *child_title(const struct criterion *c)
{
	return xstrfmt("Rubric %s: %s", c->counter ? c->counter : "?", c->id);
}

static int is_child_of(const struct step *s, long long parent)
{
	const char *gb;
	char buf[32];
	if (s->generated_by == parent)
		return 1;
	gb = json_str(json_object_get(s->settings, "rubric_shell"),
		      "generated_by");
	snprintf(buf, sizeof(buf), "%lld", parent);
	return gb && !strcmp(gb, buf);
}

/*
 * How a child's new rubric_shell settings differ from its old ones:
 * CHANGE_COMMAND (its verdicts graded another command), CHANGE_GRADING
 * (what a run does changed: timeout, candidate patches, held-out test,
 * containers; the next run regrades it), CHANGE_LABEL (only what the
 * report shows: counter, score, required, text, hash, title).
 */
enum child_change { CHANGE_LABEL, CHANGE_GRADING, CHANGE_COMMAND };

static enum child_change child_change(const json_t *old, const json_t *conf)
{
	static const char *const label_keys[] = { "counter",  "score",
						  "required", "rubric",
						  "hash",     NULL };
	const char *oc = json_str(old, "command");
	json_t *a, *b;
	enum child_change ret;
	int i;

	if (!oc || strcmp(oc, json_str(conf, "command")))
		return CHANGE_COMMAND;
	a = json_deep_copy(old);
	b = json_deep_copy(conf);
	for (i = 0; label_keys[i]; i++) {
		json_object_del(a, label_keys[i]);
		json_object_del(b, label_keys[i]);
	}
	ret = json_equal(a, b) ? CHANGE_LABEL : CHANGE_GRADING;
	json_decref(a);
	json_decref(b);
	return ret;
}

struct child_update {
	json_t *conf;
	const char *title;
	enum child_change change;
};

static int update_child(struct step *s, void *data)
{
	struct child_update *u = data;
	json_t *fp = json_object_get(s->results, "fingerprint");
	char *before = fingerprint_settings_digest(s->settings), *after;

	json_object_set(s->settings, "rubric_shell", u->conf);
	free(s->title);
	s->title = xstrdup(u->title);
	after = fingerprint_settings_digest(s->settings);
	if (u->change == CHANGE_COMMAND) {
		/* the old verdicts graded another command */
		json_decref(s->results);
		s->results = NULL;
	} else if (u->change == CHANGE_LABEL && json_is_object(fp) &&
		   !strcmp(json_str(fp, "settings") ? json_str(fp, "settings")
						    : "",
			   before)) {
		/*
		 * Renumbered or rescored: the verdicts stand, and so does
		 * the last run's fingerprint, restamped with the new
		 * settings so that the engine does not regrade the step.
		 */
		json_object_set_new(fp, "settings", json_string(after));
	}
	/* otherwise the verdicts stay until the next run regrades them */
	free(before);
	free(after);
	return 0;
}

static void set_map(json_t *settings, void *data)
{
	json_object_set(settings, "rubric_set", (json_t *)data);
}

struct map_update {
	void (*fn)(json_t *, void *);
	void *data;
};

static int task_map_cb(struct task *t, void *data)
{
	if (!json_is_object(t->settings)) {
		json_decref(t->settings);
		t->settings = json_object();
	}
	set_map(t->settings, data);
	return 0;
}

int rubric_reconcile(struct step_exec *x, const struct rubric *r,
		     const json_t *extra, json_t *summary)
{
	struct step *steps = NULL;
	size_t nsteps = 0, i, j;
	char *used = NULL;
	json_t *ids = json_array(), *map = rubric_hash_map(r);
	int created = 0, updated = 0, deleted = 0, kept = 0, cleared = 0;
	int ret;

	ret = store_step_list(x->st, x->step->task_id, &steps, &nsteps);
	if (ret)
		goto out;
	used = xcalloc(nsteps + 1, 1);
	ret = store_begin(x->st);
	for (i = 0; !ret && i < r->nr; i++) {
		const struct criterion *c = &r->v[i];
		json_t *conf = child_conf(x, c, extra);
		char *title = child_title(c);
		int found = 0;

		for (j = 0; !ret && j < nsteps; j++) {
			const json_t *old;
			if (used[j] || !is_child_of(&steps[j], x->step->id))
				continue;
			old = json_object_get(steps[j].settings,
					      "rubric_shell");
			if (strcmp(json_str(old, "criterion_id")
					   ? json_str(old, "criterion_id")
					   : "",
				   c->id))
				continue;
			used[j] = 1;
			if (found) {
				/* a duplicate child: one per criterion */
				ret = store_step_delete(x->st, steps[j].id);
				deleted++;
				continue;
			}
			found = 1;
			json_array_append_new(ids, json_integer(steps[j].id));
			if (json_equal((json_t *)old, conf) &&
			    !strcmp(steps[j].title, title)) {
				kept++;
			} else {
				struct child_update u = {
					conf, title, child_change(old, conf)
				};
				ret = store_step_edit(x->st, steps[j].id,
						      update_child, &u);
				updated++;
				if (u.change == CHANGE_COMMAND)
					cleared++;
			}
		}
		if (!ret && !found) {
			json_t *settings = json_object();
			long long id;
			json_object_set(settings, "rubric_shell", conf);
			ret = store_step_create(x->st, x->step->task_id, title,
						settings, x->step->id, &id);
			json_decref(settings);
			json_array_append_new(ids, json_integer(id));
			created++;
		}
		json_decref(conf);
		free(title);
	}
	for (j = 0; !ret && j < nsteps; j++)
		if (!used[j] && is_child_of(&steps[j], x->step->id) &&
		    json_object_get(steps[j].settings, "rubric_shell")) {
			ret = store_step_delete(x->st, steps[j].id);
			deleted++;
		}
	if (!ret)
		ret = store_task_edit(x->st, x->step->task_id, task_map_cb,
				      map);
	if (!ret)
		ret = store_commit(x->st);
	else
		store_rollback(x->st);
	if (!ret) {
		json_object_set_new(summary, "created", json_integer(created));
		json_object_set_new(summary, "updated", json_integer(updated));
		json_object_set_new(summary, "deleted", json_integer(deleted));
		json_object_set_new(summary, "kept", json_integer(kept));
		json_object_set_new(summary, "results_cleared",
				    json_integer(cleared));
		json_object_set(summary, "children", ids);
	}
out:
	free(used);
	json_decref(ids);
	json_decref(map);
	step_list_free(steps, nsteps);
	return ret;
}
