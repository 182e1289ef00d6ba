/*
 * rubric_set: one rubric_shell child per criterion of a rubric.
 *
 * Settings: file (Markdown or JSON; `rubrics: [path]` is accepted too;
 * without either, or when it is missing, rubrics.json in the task
 * folder), held_out_test (default held_out_tests.patch), solution_1..4
 * (default solutionN.patch when present), pre_patch (bool: apply
 * pre_patch.patch), assign_containers (passed to the children), hashes
 * (kept current by the step). The children are reconciled in one
 * transaction (steps/rubric_children.h): unchanged criteria keep their
 * child, its ID and its results.
 *
 * Besides its rubric file, the step watches which candidate patches the
 * task folder holds (solutionN.patch, golden.patch, the held-out test,
 * pre_patch.patch when used): one appearing or going makes it run again,
 * so the children grade what is there. Their contents are the
 * children's inputs. A rubric with no criteria fails and keeps the
 * children (--force deletes them).
 */
#include "steps/rubric_step.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* the rubric file: file, else rubrics[0], else rubrics.json */
static const char *rubric_file(const json_t *conf)
{
	const char *f = json_str(conf, "file");
	const json_t *list = json_object_get(conf, "rubrics");
	if (f && *f)
		return f;
	if (json_is_array(list) && json_is_string(json_array_get(list, 0)))
		return json_string_value(json_array_get(list, 0));
	if (json_is_string(list))
		return json_string_value(list);
	return NULL;
}

static const char *solution_of(const json_t *conf, int n, char *buf, size_t len)
{
	char key[32];
	const char *v;
	snprintf(key, sizeof(key), "solution_%d", n);
	v = json_str(conf, key);
	if (!v) {
		snprintf(key, sizeof(key), "solution%d", n);
		v = json_str(conf, key);
	}
	if (v && *v)
		return v;
	snprintf(buf, len, "solution%d.patch", n);
	return buf;
}

static int set_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	const char *f = rubric_file(conf);
	char buf[32];
	int n;
	(void)err;
	json_array_append_new(files, json_string(f ? f : "rubrics.json"));
	/* patches count only when named: defaults may well be absent */
	if (json_str(conf, "held_out_test"))
		json_array_append_new(
			files, json_string(json_str(conf, "held_out_test")));
	for (n = 1; n <= 4; n++) {
		char key[32];
		snprintf(key, sizeof(key), "solution_%d", n);
		if (json_str(conf, key))
			json_array_append_new(
				files, json_string(solution_of(conf, n, buf,
							       sizeof(buf))));
	}
	return 0;
}

/*
 * The candidate patches in the task folder, in a fixed order: what the
 * children's files list comes from (new reference). files (may be NULL)
 * gets "solutionN.patch" -> "" etc. as the children's files; patches
 * (may be NULL) the renamed solutions.
 */
static json_t *present_patches(const struct step_exec *x, json_t *files,
			       json_t *patches)
{
	json_t *list = json_array();
	char buf[32];
	int n;

	for (n = 1; n <= 16; n++) {
		const char *rel = solution_of(x->conf, n, buf, sizeof(buf));
		char key[32];
		snprintf(key, sizeof(key), "solution%d.patch", n);
		if (!step_regular_file(x->base, rel))
			continue;
		json_array_append_new(list, json_string(rel));
		if (files)
			json_object_set_new(files, key, json_string(""));
		if (patches && strcmp(rel, key))
			json_object_set_new(patches, key, json_string(rel));
	}
	if (step_regular_file(x->base, "golden.patch")) {
		json_array_append_new(list, json_string("golden.patch"));
		if (files)
			json_object_set_new(files, "golden.patch",
					    json_string(""));
	}
	if (json_is_true(json_object_get(x->conf, "pre_patch")) &&
	    step_regular_file(x->base, "pre_patch.patch")) {
		json_array_append_new(list, json_string("pre_patch.patch"));
		if (files)
			json_object_set_new(files, "pre_patch.patch",
					    json_string(""));
	}
	if (step_regular_file(x->base, step_held_out_patch(x->base, x->conf)))
		json_array_append_new(list, json_string(step_held_out_patch(
						    x->base, x->conf)));
	return list;
}

/* the first string of a that b lacks, or NULL */
static const char *first_missing(const json_t *a, const json_t *b)
{
	size_t i, j;
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *v = json_array_get(a, i);
		int found = 0;
		for (j = 0; !found && j < json_array_size(b); j++)
			found = json_equal((json_t *)v, json_array_get(b, j));
		if (!found)
			return json_string_value(v) ? json_string_value(v)
						    : "?";
	}
	return NULL;
}

/* fresh by its inputs: do the same candidate patches exist? */
static int set_still_fresh(struct step_exec *x, struct strbuf *why)
{
	const json_t *was =
		json_object_get(json_object_get(x->conf, "hashes"), "patches");
	json_t *now = present_patches(x, NULL, NULL);
	const char *p;
	int ok = 0;

	if (!json_is_array(was))
		strbuf_addstr(why, "no record of the candidate patches");
	else if ((p = first_missing(now, was)))
		strbuf_addf(why, "new patch: %s", p);
	else if ((p = first_missing(was, now)))
		strbuf_addf(why, "patch gone: %s", p);
	else
		ok = 1;
	json_decref(now);
	return ok;
}

static int set_run(struct step_exec *x)
{
	struct rubric r = RUBRIC_INIT;
	const char *f = rubric_file(x->conf);
	json_t *extra = json_object(), *files = json_object();
	json_t *patches = json_object(), *summary = json_object();
	json_t *hashes = json_object(), *present = NULL;
	char *path = NULL, buf[32];
	int n;

	if (!f || !step_regular_file(x->base, f)) {
		if (f)
			fprintf(x->out,
				"  rubric file '%s' not found; using "
				"rubrics.json\n",
				f);
		f = "rubrics.json";
	}
	if (rubric_step_load(x, f, &r, &path))
		goto out;
	present = present_patches(x, files, patches);
	json_object_set(extra, "files", files);
	if (json_object_size(patches))
		json_object_set(extra, "patches", patches);
	json_object_set_new(extra, "held_out_test",
			    json_string(step_held_out_patch(x->base, x->conf)));
	if (json_object_get(x->conf, "assign_containers"))
		json_object_set(extra, "assign_containers",
				json_object_get(x->conf, "assign_containers"));
	if (json_object_get(x->conf, "timeout_seconds"))
		json_object_set(extra, "timeout_seconds",
				json_object_get(x->conf, "timeout_seconds"));
	if (rubric_step_apply(x, &r, extra, summary, f))
		goto out;
	json_object_set_new(x->results, "rubric_file", json_string(f));
	step_hash_into(hashes, "file", x->base, f);
	step_hash_into(hashes, "held_out_test", x->base,
		       step_held_out_patch(x->base, x->conf));
	for (n = 1; n <= 4; n++) {
		char key[32];
		snprintf(key, sizeof(key), "solution_%d", n);
		step_hash_into(hashes, key, x->base,
			       solution_of(x->conf, n, buf, sizeof(buf)));
	}
	json_object_set(hashes, "patches", present);
	step_store_hashes(x, hashes);
out:
	rubric_release(&r);
	free(path);
	json_decref(extra);
	json_decref(files);
	json_decref(patches);
	json_decref(summary);
	json_decref(hashes);
	json_decref(present);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key rubric_set_keys[] = {
	{ "file", SK_STRING, 0 },
	{ "rubrics", SK_STRING | SK_ARRAY, SK_STRING },
	{ "held_out_test", SK_STRING, 0 },
	{ "solution_1", SK_STRING, 0 },
	{ "solution_2", SK_STRING, 0 },
	{ "solution_3", SK_STRING, 0 },
	{ "solution_4", SK_STRING, 0 },
	{ "hash", SK_STRING, 0 },
	{ "hashes", SK_OBJECT, 0 },
	{ "assign_containers", SK_OBJECT, 0 },
	{ "pre_patch", SK_BOOL, 0 },
	{ "timeout_seconds", SK_INTEGER, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_rubric_set = {
	.keys = rubric_set_keys,
	.name = "rubric_set",
	.run = set_run,
	.inputs = set_inputs,
	.still_fresh = set_still_fresh,
};
