/*
 * dynamic_rubric: the older child generator. Settings: rubrics (paths;
 * the first is used), files (paths tracked for changes; passed to the
 * children as their candidate patches), assign_containers (patch ->
 * container, required), hashes (kept current). Children are reconciled
 * like rubric_set's, so unchanged criteria keep their ID and results;
 * a rubric with no criteria fails and keeps them (--force deletes them).
 */
#include "steps/rubric_step.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <sys/stat.h>

static const char *first_rubric(const json_t *conf)
{
	const json_t *l = json_object_get(conf, "rubrics");
	if (json_is_array(l))
		return json_string_value(json_array_get(l, 0));
	return json_string_value(l);
}

static int dyn_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	const char *f = first_rubric(conf), *key;
	json_t *v;
	(void)err;
	if (f && *f)
		json_array_append_new(files, json_string(f));
	json_object_foreach(json_object_get(conf, "files"), key, v)
		json_array_append_new(files, json_string(key));
	return 0;
}

static int dyn_run(struct step_exec *x)
{
	const char *f = first_rubric(x->conf), *key;
	const json_t *assign = json_object_get(x->conf, "assign_containers");
	struct rubric r = RUBRIC_INIT;
	json_t *extra = json_object(), *summary = json_object();
	json_t *hashes = json_object(), *files = json_object(), *v;
	char *path = NULL;

	if (!f || !*f) {
		step_set_result(x, "failure",
				"dynamic_rubric needs rubrics: "
				"[\"file.md\"]");
		goto out;
	}
	if (!json_is_object(assign) || !json_object_size(assign)) {
		step_set_result(x, "failure",
				"dynamic_rubric needs "
				"assign_containers: {\"solution1.patch\": "
				"\"container\"}");
		goto out;
	}
	if (rubric_step_load(x, f, &r, &path))
		goto out;
	json_object_foreach(json_object_get(x->conf, "files"), key, v)
		json_object_set_new(files, key, json_string(""));
	json_object_set(extra, "files", files);
	json_object_set(extra, "assign_containers", (json_t *)assign);
	if (rubric_step_apply(x, &r, extra, summary, NULL))
		goto out;
	step_hash_into(hashes, f, x->base, f);
	json_object_foreach(json_object_get(x->conf, "files"), key, v)
		step_hash_into(hashes, key, x->base, key);
	step_store_hashes(x, hashes);
out:
	rubric_release(&r);
	free(path);
	json_decref(extra);
	json_decref(summary);
	json_decref(hashes);
	json_decref(files);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key dynamic_rubric_keys[] = {
	{ "rubrics", SK_STRING | SK_ARRAY, SK_STRING },
	{ "hash", SK_STRING, 0 },
	{ "files", SK_OBJECT, 0 },
	{ "hashes", SK_OBJECT, 0 },
	{ "assign_containers", SK_OBJECT, 0 },
	{ "environment", SK_OBJECT, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_dynamic_rubric = {
	.keys = dynamic_rubric_keys,
	.name = "dynamic_rubric",
	.run = dyn_run,
	.inputs = dyn_inputs,
};
