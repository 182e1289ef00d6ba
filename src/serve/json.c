/* the API's JSON objects (json.h) */
#include "serve/json.h"
#include "os/strbuf.h"

#include <stdlib.h>

#include "core/deps.h"
#include "steps/registry.h"

json_t *serve_task_json(const struct task *t, int with_settings)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id",
			      (json_int_t)t->id, "name", t->name, "status",
			      t->status, "local_path",
			      t->local_path ? t->local_path : "", "created_at",
			      t->created_at, "updated_at", t->updated_at);
	if (with_settings)
		json_object_set_new(o, "settings",
				    t->settings ? json_incref(t->settings)
						: json_object());
	return o;
}

/* the IDs of depends_on; [] when it cannot be read (step edit says why) */
static json_t *deps_json(const json_t *settings)
{
	long long *ids = NULL;
	size_t nr = 0, i;
	struct strbuf err = STRBUF_INIT;
	json_t *a = json_array();

	if (!step_depends_on(settings, &ids, &nr, &err))
		for (i = 0; i < nr; i++)
			json_array_append_new(a, json_integer(ids[i]));
	free(ids);
	strbuf_release(&err);
	return a;
}

json_t *serve_step_json(const struct step *s)
{
	const char *type = NULL;
	struct strbuf err = STRBUF_INIT;
	const json_t *res = s->results ? json_object_get(s->results, "result")
				       : NULL;

	if (step_type_of(s->settings, &type, &err))
		type = NULL;
	strbuf_release(&err);
	return json_pack(
		"{s:I, s:I, s:s, s:O, s:O, s:o, s:s, s:s, s:s?, s:o, s:s}",
		"id", (json_int_t)s->id, "task_id", (json_int_t)s->task_id,
		"title", s->title, "settings", s->settings, "results",
		s->results ? s->results : json_null(), "generated_by",
		s->generated_by ? json_integer(s->generated_by) : json_null(),
		"created_at", s->created_at, "updated_at", s->updated_at,
		"type", type, "depends_on", deps_json(s->settings), "state",
		json_is_string(res) ? json_string_value(res) : "not run");
}

json_t *serve_run_json(const struct step_run *r)
{
	return json_pack(
		"{s:I, s:I, s:s?, s:s?, s:s?, s:o, s:I, s:O?}", "id",
		(json_int_t)r->id, "step_id", (json_int_t)r->step_id,
		"started_at", r->started_at, "finished_at", r->finished_at,
		"status", r->status, "exit_code",
		r->exit_code < 0 ? json_null() : json_integer(r->exit_code),
		"duration_ms", (json_int_t)r->duration_ms, "detail", r->detail);
}
