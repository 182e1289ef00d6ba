#include "steps/registry.h"
#include "steps/step.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const step_type_names[] = {
	"file_exists",        "docker_pull",           "docker_build",
	"docker_run",         "docker_pool",           "docker_shell",
	"docker_volume_pool", "docker_extract_volume", "model_task_check",
	"rubrics_import",     "rubric_set",            "rubric_shell",
	"dynamic_rubric",     NULL,
};

int step_type_known(const char *name)
{
	int i;
	for (i = 0; step_type_names[i]; i++)
		if (!strcmp(step_type_names[i], name))
			return 1;
	return 0;
}

const char *step_type_list(void)
{
	static char buf[512];
	struct strbuf sb = STRBUF_INIT;
	int i;
	if (buf[0])
		return buf;
	for (i = 0; step_type_names[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", step_type_names[i]);
	snprintf(buf, sizeof(buf), "%s", sb.buf);
	strbuf_release(&sb);
	return buf;
}

int step_type_of(const json_t *settings, const char **type, char **err)
{
	const char *key, *found = NULL;
	json_t *val;
	int i;

	*type = NULL;
	*err = NULL;
	if (!json_is_object(settings)) {
		*err = xstrdup("settings must be a JSON object whose one key "
			       "is the step type");
		return -1;
	}
	json_object_foreach((json_t *)settings, key, val) {
		if (!step_type_known(key))
			continue;
		if (found) {
			*err = xstrfmt("settings name two step types, '%s' "
				       "and '%s': a step has exactly one",
				       found, key);
			return -1;
		}
		found = key;
	}
	if (!found) {
		*err = xstrfmt("settings name no known step type; known "
			       "types: %s", step_type_list());
		return -1;
	}
	val = json_object_get(settings, found);
	if (strcmp(found, "file_exists") && !json_is_object(val)) {
		*err = xstrfmt("settings.%s must be a JSON object", found);
		return -1;
	}
	for (i = 0; step_type_names[i]; i++)
		if (!strcmp(step_type_names[i], found))
			*type = step_type_names[i];
	return 0;
}

json_t *step_type_object(json_t *settings, const char *type)
{
	json_t *v = json_object_get(settings, type);
	return json_is_object(v) ? v : NULL;
}

static const struct step_type *const implemented[] = {
	&step_file_exists,
	&step_docker_build,
	&step_docker_pool,
	&step_rubric_shell,
	&step_rubric_set,
	&step_rubrics_import,
	&step_dynamic_rubric,
	&step_docker_pull,
	&step_docker_run,
	&step_docker_shell,
	&step_docker_volume_pool,
	&step_docker_extract_volume,
	&step_model_task_check,
	NULL,
};

const struct step_type *step_type_find(const char *name)
{
	int i;
	for (i = 0; implemented[i]; i++)
		if (!strcmp(implemented[i]->name, name))
			return implemented[i];
	return NULL;
}

void step_set_result(struct step_exec *x, const char *result,
		     const char *fmt, ...)
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
