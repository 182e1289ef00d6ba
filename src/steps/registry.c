#include "steps/registry.h"
#include "steps/step.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* every step type, in the order step_type_list names them */
static const struct step_type *const types[] = {
	&step_file_exists,        &step_docker_pull,
	&step_docker_build,       &step_docker_run,
	&step_docker_pool,        &step_docker_shell,
	&step_docker_volume_pool, &step_docker_extract_volume,
	&step_model_task_check,   &step_rubrics_import,
	&step_rubric_set,         &step_rubric_shell,
	&step_dynamic_rubric,     NULL,
};

const struct step_type *step_type_find(const char *name)
{
	int i;
	for (i = 0; types[i]; i++)
		if (!strcmp(types[i]->name, name))
			return types[i];
	return NULL;
}

int step_type_known(const char *name)
{
	return step_type_find(name) != NULL;
}

const char *step_type_list(void)
{
	static char buf[512];
	struct strbuf sb = STRBUF_INIT;
	int i;
	if (buf[0])
		return buf;
	for (i = 0; types[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", types[i]->name);
	snprintf(buf, sizeof(buf), "%s", sb.buf);
	strbuf_release(&sb);
	return buf;
}

int step_type_of(const json_t *settings, const char **type, struct strbuf *err)
{
	const char *key, *found = NULL;
	json_t *val;

	*type = NULL;
	if (!json_is_object(settings))
		return error_quiet(err, "settings must be a JSON object whose "
					"one key is the step type");
	json_object_foreach((json_t *)settings, key, val)
	{
		if (!step_type_known(key))
			continue;
		if (found)
			return error_quiet(err,
					   "settings name two step types, '%s' "
					   "and '%s': a step has exactly one",
					   found, key);
		found = key;
	}
	if (!found)
		return error_quiet(err,
				   "settings name no known step type; known "
				   "types: %s",
				   step_type_list());
	val = json_object_get(settings, found);
	if (strcmp(found, "file_exists") && !json_is_object(val))
		return error_quiet(err, "settings.%s must be a JSON object",
				   found);
	*type = step_type_find(found)->name;
	return 0;
}

json_t *step_type_object(json_t *settings, const char *type)
{
	json_t *v = json_object_get(settings, type);
	return json_is_object(v) ? v : NULL;
}

void step_set_result(struct step_exec *x, const char *result, const char *fmt,
		     ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (!x->results)
		x->results = json_object();
	json_object_set_new(x->results, "result", json_string(result));
	json_object_set_new(x->results, "message", json_string(sb.buf));
	strbuf_release(&sb);
}
