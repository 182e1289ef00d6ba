/*
 * file_exists: assert that files exist under the task folder.
 * Settings: "path", ["a", "b"], or {"files": {"a": ..., "b": ...}}
 * (the original's form; {"files": [...]} is accepted too).
 */
#include "steps/step.h"
#include "core/hash.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FE_EXPECTED "expected a path, a list of paths or {\"files\": {...}}"

/*
 * collect the paths into files_out (an array of strings); the errors
 * name the key's path (file_exists.files[2]: expected a path)
 */
static int fe_inputs(const json_t *conf, json_t *files_out, struct strbuf *err)
{
	const json_t *files = conf;
	const char *where = "file_exists";
	json_t *v;
	const char *key;
	size_t i;

	if (json_is_object(conf)) {
		files = json_object_get(conf, "files");
		where = "file_exists.files";
		if (!files)
			return error_quiet(err, "file_exists: " FE_EXPECTED
						" (the object has no "
						"\"files\" key)");
	}
	if (json_is_string(files) && *json_string_value(files)) {
		json_array_append(files_out, (json_t *)files);
	} else if (json_is_array(files)) {
		json_array_foreach(files, i, v)
		{
			if (!json_is_string(v) || !*json_string_value(v))
				return error_quiet(err,
						   "%s[%zu]: expected a path",
						   where, i);
			json_array_append(files_out, (json_t *)v);
		}
	} else if (json_is_object(files)) {
		json_object_foreach((json_t *)files, key, v)
			json_array_append_new(files_out, json_string(key));
	} else {
		return error_quiet(err, "%s: " FE_EXPECTED, where);
	}
	if (!json_array_size(files_out))
		return error_quiet(err, "%s: lists no paths; " FE_EXPECTED,
				   where);
	return 0;
}

/* step create/edit: the value must name at least one path */
static int fe_check_settings(const json_t *conf, struct strbuf *err)
{
	json_t *files = json_array();
	int ret = fe_inputs(conf, files, err);
	json_decref(files);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int fe_run(struct step_exec *x)
{
	json_t *files = json_array(), *mtimes = json_object(), *v;
	const char **missing = NULL;
	size_t i, nmissing = 0;
	struct strbuf err = STRBUF_INIT;

	if (fe_inputs(x->conf, files, &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	missing = xcalloc(json_array_size(files) + 1, sizeof(*missing));
	json_array_foreach(files, i, v)
	{
		const char *rel = json_string_value(v);
		char *path = hash_resolve_path(x->base, rel);
		struct stat st;
		if (stat(path, &st) < 0) {
			missing[nmissing++] = rel;
		} else {
			struct tm tm;
			char buf[64];
			gmtime_r(&st.st_mtim.tv_sec, &tm);
			strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_object_set_new(mtimes, rel, json_string(buf));
		}
		free(path);
	}
	if (nmissing) {
		struct strbuf sb = STRBUF_INIT;
		struct stat st;
		qsort(missing, nmissing, sizeof(*missing), cmp_str);
		for (i = 0; i < nmissing; i++)
			strbuf_addf(&sb, "%sfile not found: %s", i ? "; " : "",
				    missing[i]);
		/* the likelier cause, named: the task's folder is not there */
		if (*x->base) {
			const char *why =
				stat(x->base, &st) < 0 ? strerror(errno)
				: !S_ISDIR(st.st_mode) ? "not a directory"
						       : NULL;
			if (why)
				strbuf_addf(&sb, " (task folder '%s': %s)",
					    x->base, why);
		}
		step_set_result(x, "failure", "%s", sb.buf);
		json_t *m = json_array();
		for (i = 0; i < nmissing; i++)
			json_array_append_new(m, json_string(missing[i]));
		json_object_set_new(x->results, "missing", m);
		strbuf_release(&sb);
	} else {
		step_set_result(x, "success", "%zu file%s present",
				json_array_size(files),
				json_array_size(files) == 1 ? "" : "s");
		json_object_set(x->results, "files", mtimes);
	}
out:
	strbuf_release(&err);
	free(missing);
	json_decref(files);
	json_decref(mtimes);
	return 0;
}

const struct step_type step_file_exists = {
	.name = "file_exists",
	.check_settings = fe_check_settings,
	.run = fe_run,
	.inputs = fe_inputs,
};
