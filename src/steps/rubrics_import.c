/*
 * rubrics_import: read a rubric and record its criteria and their
 * hashes (the same criterion_hash every step uses), in the results and
 * in the task's rubric_set map. Creates no steps.
 *
 * Which file: json_file when it exists; else rubrics.json in the task
 * folder when it exists (the seed: "When rubrics.json is present in the
 * task directory, it is prioritized, and the markdown file is
 * ignored"); else md_file. A set md_file that is passed over is noted on
 * stderr and in the results. A rubric with no criteria fails the step
 * and leaves the map as it was. Skipped as fresh while the files are
 * unchanged and the same file would be chosen.
 */
#include "steps/rubric_children.h"
#include "os/error.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* the rubrics.json the seed looks for in the task folder */
#define TASK_RUBRICS_JSON "rubrics.json"

static const char *set_or_null(const json_t *conf, const char *key)
{
	const char *v = json_str(conf, key);
	return v && *v ? v : NULL;
}

/* the file to read (relative to base, or absolute), or NULL */
static const char *choose_file(const char *base, const json_t *conf)
{
	const char *j = set_or_null(conf, "json_file");
	const char *m = set_or_null(conf, "md_file");

	if (j && step_regular_file(base, j))
		return j;
	if (m && step_regular_file(base, TASK_RUBRICS_JSON))
		return TASK_RUBRICS_JSON;
	if (m && step_regular_file(base, m))
		return m;
	return NULL;
}

static int import_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	const char *j = set_or_null(conf, "json_file");
	const char *m = set_or_null(conf, "md_file");
	(void)err;
	if (j)
		json_array_append_new(files, json_string(j));
	if (m)
		json_array_append_new(files, json_string(m));
	return 0;
}

/*
 * Fresh by its inputs (json_file, md_file): would the same file be
 * chosen, and is an implicit rubrics.json (no input) unchanged?
 */
static int import_still_fresh(struct step_exec *x, struct strbuf *why)
{
	const char *was = json_str(x->step->results, "rubric_file");
	const char *now = choose_file(x->base, x->conf);
	const char *sum = json_str(x->step->results, "rubric_sha256");
	char hex[SHA256_HEX_LEN + 1];
	char *path;
	int ok;

	if (!was || !now || strcmp(was, now)) {
		strbuf_addf(why, "the rubric to read is now %s",
			    now ? now : "none");
		return 0;
	}
	if (!sum)
		return 1;
	path = hash_resolve_path(x->base, now);
	ok = !hash_file(path, hex) && !strcmp(hex, sum);
	free(path);
	if (!ok)
		strbuf_addf(why, "changed: %s", now);
	return ok;
}

static void save_map(json_t *settings, void *data)
{
	json_object_set(settings, "rubric_set", (json_t *)data);
}

static int import_run(struct step_exec *x)
{
	const char *j = set_or_null(x->conf, "json_file");
	const char *m = set_or_null(x->conf, "md_file");
	const char *use = choose_file(x->base, x->conf);
	struct rubric r = RUBRIC_INIT;
	struct strbuf why = STRBUF_INIT;
	char hex[SHA256_HEX_LEN + 1];
	json_t *list, *map;
	char *path = NULL;
	size_t i;

	if (!use) {
		if (!j && !m)
			step_set_result(x, "failure",
					"no rubric file: set "
					"json_file and/or md_file");
		else
			step_set_result(x, "failure",
					"rubric file not found: "
					"%s",
					j ? j : m);
		return 0;
	}
	if (m && strcmp(use, m))
		note("using %s; md_file %s ignored", use, m);
	path = hash_resolve_path(x->base, use);
	if (rubric_load(path, &r, &why)) {
		step_set_result(x, "failure", "cannot import rubric: %s",
				why.buf);
		goto out;
	}
	if (!r.nr) {
		/* far likelier a mistake than a rubric meant to be empty:
		 * the task's map is left as it was */
		step_set_result(x, "failure", "no criteria in %s: %s", use,
				rubric_why_empty(&r));
		json_object_set_new(x->results, "rubric_file",
				    json_string(use));
		rubric_report_skipped(x, &r, x->results);
		goto out;
	}
	list = json_array();
	for (i = 0; i < r.nr; i++) {
		json_t *e = json_object();
		char *h = criterion_hash(&r.v[i]);
		json_object_set_new(e, "criterion_id", json_string(r.v[i].id));
		json_object_set_new(e, "counter",
				    json_string(r.v[i].counter ? r.v[i].counter
							       : ""));
		json_object_set_new(e, "score", json_number_kept(r.v[i].score));
		json_object_set_new(e, "required",
				    json_boolean(r.v[i].required));
		json_object_set_new(e, "hash", json_string(h));
		json_array_append_new(list, e);
		free(h);
	}
	step_set_result(x, "success", "%zu %s imported from %s", r.nr,
			r.nr == 1 ? "criterion" : "criteria", use);
	json_object_set_new(x->results, "rubric_file", json_string(use));
	if (m && strcmp(use, m))
		json_object_set_new(x->results, "md_file_ignored",
				    json_string(m));
	/* an implicit rubrics.json is no input: its sum tells a change */
	if (strcmp(use, j ? j : "") && strcmp(use, m ? m : "") &&
	    !hash_file(path, hex))
		json_object_set_new(x->results, "rubric_sha256",
				    json_string(hex));
	json_object_set_new(x->results, "criteria", list);
	rubric_report_skipped(x, &r, x->results);
	map = rubric_hash_map(&r);
	step_update_task_settings(x, save_map, map);
	json_decref(map);
out:
	rubric_release(&r);
	strbuf_release(&why);
	free(path);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key rubrics_import_keys[] = {
	{ "json_file", SK_STRING, 0 },
	{ "md_file", SK_STRING, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_rubrics_import = {
	.keys = rubrics_import_keys,
	.name = "rubrics_import",
	.run = import_run,
	.inputs = import_inputs,
	.still_fresh = import_still_fresh,
};
