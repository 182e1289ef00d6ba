#ifndef SERVE_JSON_H
#define SERVE_JSON_H

#include <jansson.h>

#include "store/store.h"

/*
 * The API's objects. A task: id, name, status, local_path ("" when
 * unset, as the original gave it), created_at, updated_at, and with
 * with_settings its settings ({} when unset).
 */
json_t *serve_task_json(const struct task *t, int with_settings);
/* a step: id, task_id, title, settings, results, generated_by, times,
 * and read from them: type (null when unknown), depends_on (the IDs) and
 * state (results.result, or "not run") */
json_t *serve_step_json(const struct step *s);
/* a run without its output: id, step_id, times, status, exit_code
 * (null when none), duration_ms, detail */
json_t *serve_run_json(const struct step_run *r);

#endif
