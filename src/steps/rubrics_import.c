/*
 * rubrics_import: read a rubric and record its criteria and their
 * hashes (the same criterion_hash every step uses), in the results and
 * in the task's rubric_set map. json_file is preferred over md_file
 * when both exist. Creates no steps; skipped as fresh when unchanged.
 */
#include "steps/rubric_children.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/xalloc.h"

#include <stdlib.h>

static int import_inputs(const json_t *conf, json_t *files, char **err)
{
	const char *j = json_str(conf, "json_file");
	const char *m = json_str(conf, "md_file");
	(void)err;
	if (j && *j)
		json_array_append_new(files, json_string(j));
	if (m && *m)
		json_array_append_new(files, json_string(m));
	return 0;
}

static void save_map(json_t *settings, void *data)
{
	json_object_set(settings, "rubric_set", (json_t *)data);
}

static int import_run(struct step_exec *x)
{
	const char *j = json_str(x->conf, "json_file");
	const char *m = json_str(x->conf, "md_file");
	const char *use = NULL;
	struct rubric r = RUBRIC_INIT;
	json_t *list, *map;
	char *path;
	size_t i;

	if (j && *j && step_regular_file(x->base, j))
		use = j;
	else if (m && *m && step_regular_file(x->base, m))
		use = m;
	if (!use) {
		if (!(j && *j) && !(m && *m))
			step_set_result(x, "failure", "no rubric file: set "
					"json_file and/or md_file");
		else
			step_set_result(x, "failure", "rubric file not found: "
					"%s", j && *j ? j : m);
		return 0;
	}
	path = hash_resolve_path(x->base, use);
	if (rubric_load(path, &r)) {
		step_set_result(x, "failure", "cannot import rubric: %s",
				rubric_error());
		goto out;
	}
	list = json_array();
	for (i = 0; i < r.nr; i++) {
		json_t *e = json_object();
		char *h = criterion_hash(&r.v[i]);
		json_object_set_new(e, "criterion_id", json_string(r.v[i].id));
		json_object_set_new(e, "counter", json_string(
					    r.v[i].counter ? r.v[i].counter : ""));
		json_object_set_new(e, "score", json_real(r.v[i].score));
		json_object_set_new(e, "required",
				    json_boolean(r.v[i].required));
		json_object_set_new(e, "hash", json_string(h));
		json_array_append_new(list, e);
		free(h);
	}
	step_set_result(x, "success", "%zu %s imported from %s", r.nr,
			r.nr == 1 ? "criterion" : "criteria", use);
	json_object_set_new(x->results, "rubric_file", json_string(use));
	json_object_set_new(x->results, "criteria", list);
	rubric_report_skipped(x, &r, x->results);
	map = rubric_hash_map(&r);
	step_update_task_settings(x, save_map, map);
	json_decref(map);
out:
	rubric_release(&r);
	free(path);
	return 0;
}

const struct step_type step_rubrics_import = {
	.name = "rubrics_import",
	.run = import_run,
	.inputs = import_inputs,
};
