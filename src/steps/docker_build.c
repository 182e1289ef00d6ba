/*
 * docker_build: build an image from the task folder.
 *
 * Settings (all optional): context (default the task folder; relative
 * paths are under it), dockerfile, image_tag (else the task's
 * docker.image_tag), tags (more tags), params / parameters (extra
 * `docker build` arguments), files (a list of paths, or a map of
 * path -> hash as in the original; the Dockerfile is always an input),
 * triggers.files (the original's map), timeout_seconds (default 3600).
 *
 * The step is fresh when no input changed and the image it built still
 * exists with the recorded ID. Results: image_id, image_tag. The task's
 * docker.image_id (and docker.image_tag when unset) is updated, and the
 * step's own `hashes` map is kept current; no other setting is touched.
 */
#include "steps/docker_build.h"
#include "steps/step.h"
#include "steps/owner.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dockerfile_of(const json_t *conf)
{
	const char *df = json_str(conf, "dockerfile");
	return df && *df ? df : NULL;
}

static int build_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	const char *ctx = json_str(conf, "context");
	const char *df = dockerfile_of(conf);
	(void)err;
	json_add_keys_or_items(files, json_object_get(conf, "files"));
	json_add_keys_or_items(
		files,
		json_object_get(json_object_get(conf, "triggers"), "files"));
	/* the Dockerfile always counts */
	if (df)
		json_array_append_new(files, json_string(df));
	else if (ctx && *ctx && strcmp(ctx, ".")) {
		char *p = xstrfmt("%s/Dockerfile", ctx);
		json_array_append_new(files, json_string(p));
		free(p);
	} else
		json_array_append_new(files, json_string("Dockerfile"));
	/* de-duplicate, keeping the first */
	for (size_t i = 0; i < json_array_size(files); i++)
		for (size_t j = i + 1; j < json_array_size(files);)
			if (json_equal(json_array_get(files, i),
				       json_array_get(files, j)))
				json_array_remove(files, j);
			else
				j++;
	return 0;
}

static int build_still_fresh(struct step_exec *x, struct strbuf *why)
{
	const char *want = json_str(x->step->results, "image_id");
	char *tag = step_image_tag(x), *id = NULL;
	int ok = 0, r;

	if (!tag) {
		strbuf_addstr(why, "no image_tag");
		return 0;
	}
	r = docker_image_id(tag, &id, NULL);
	if (r < 0)
		strbuf_addf(why, "cannot inspect image '%s'", tag);
	else if (!r)
		strbuf_addf(why, "image '%s' no longer exists", tag);
	else if (!want || strcmp(want, id))
		strbuf_addf(why, "image '%s' is not the one this step built",
			    tag);
	else
		ok = 1;
	free(id);
	free(tag);
	return ok;
}

static void store_image(json_t *settings, void *data)
{
	json_t *d = json_object_get(settings, "docker");
	const char *const *v = data;
	if (!json_is_object(d)) {
		d = json_object();
		json_object_set_new(settings, "docker", d);
	}
	json_object_set_new(d, "image_id", json_string(v[0]));
	if (!json_str(d, "image_tag"))
		json_object_set_new(d, "image_tag", json_string(v[1]));
}

static char *path_under(const char *base, const char *p)
{
	return hash_resolve_path(base, p && *p ? p : ".");
}

int docker_build_command(struct proc *p, const json_t *conf, const char *base,
			 const char *tag, const char *db, long long task_id,
			 long long step_id, const char *iid, struct strbuf *why)
{
	const char *df = dockerfile_of(conf);
	const json_t *tags = json_object_get(conf, "tags");
	char *ctx = path_under(base, json_str(conf, "context"));
	struct stat st;
	const json_t *v;
	size_t i;

	if (stat(ctx, &st) < 0 || !S_ISDIR(st.st_mode)) {
		strbuf_addf(why, "build context '%s' is not a directory", ctx);
		free(ctx);
		return -1;
	}
	docker_proc_init(p);
	/* a failed RUN's container goes too (the legacy builder keeps it) */
	strvec_pushl(&p->argv, "build", "--force-rm", "-t", tag, NULL);
	json_array_foreach(tags, i, v) if (json_is_string(v))
		strvec_pushl(&p->argv, "-t", json_string_value(v), NULL);
	if (df) {
		char *dfp = hash_resolve_path(base, df);
		strvec_pushl(&p->argv, "-f", dfp, NULL);
		free(dfp);
	}
	docker_labels(&p->argv, db, task_id, step_id);
	docker_add_params(&p->argv, json_object_get(conf, "params"), tag);
	docker_add_params(&p->argv, json_object_get(conf, "parameters"), tag);
	strvec_pushl(&p->argv, "--iidfile", iid, NULL);
	strvec_push(&p->argv, ctx);
	free(ctx);
	return 0;
}

static int build_run(struct step_exec *x)
{
	struct proc p = PROC_INIT;
	struct strbuf why = STRBUF_INIT;
	char *tag = step_image_tag(x), *id = NULL, *tail = NULL;
	char *iid = NULL;
	const json_t *to = json_object_get(x->conf, "timeout_seconds");
	json_t *files = json_array(), *hashes = json_object(), *v;
	const char *db = NULL;
	long timeout = 3600;
	size_t i;
	int rc;

	if (!tag) {
		step_set_result(x, "failure",
				"no image tag: set "
				"docker_build.image_tag or the task's "
				"docker.image_tag");
		goto out;
	}
	if (!(db = owner_db(x)))
		goto out;
	/* as docker_pull: only a positive number replaces the default */
	if (json_is_integer(to) && json_integer_value(to) > 0)
		timeout = (long)json_integer_value(to);
	/* the build writes the image ID itself: no inspect afterwards */
	iid = xstrfmt("/tmp/task-sync-build-%lld-%ld.iid", x->step->id,
		      (long)getpid());
	if (docker_build_command(&p, x->conf, x->base, tag, db,
				 x->step->task_id, x->step->id, iid, &why)) {
		step_set_result(x, "failure", "%s", why.buf);
		goto out;
	}
	p.capture_cap = 256 * 1024;
	/* the deadline is the build's own: a slow build, or a hung daemon */
	rc = docker_exec_proc(&p, timeout * 1000, &why);
	strbuf_add(&x->log, p.out.buf, p.out.len);
	x->exit_code = p.exit_code;
	if (p.timed_out) {
		step_set_result(x, "failure",
				"docker build of '%s' did not "
				"finish within %ld s (docker_build."
				"timeout_seconds)",
				tag, timeout);
		goto out;
	}
	if (rc) {
		tail = text_tail(p.out.buf, 2000);
		step_set_result(x, "failure",
				"docker build of '%s' failed "
				"(exit %d): %s",
				tag, p.exit_code, rc < 0 ? why.buf : tail);
		json_object_set_new(x->results, "log_tail", json_string(tail));
		goto out;
	}
	{
		struct strbuf sb = STRBUF_INIT;
		if (!strbuf_read_file(&sb, iid)) {
			strbuf_trim(&sb);
			if (sb.len)
				id = strbuf_detach(&sb, NULL);
		}
		strbuf_release(&sb);
	}
	if (!id && docker_image_id(tag, &id, NULL) != 1) {
		step_set_result(x, "failure",
				"built '%s' but cannot find its "
				"image ID",
				tag);
		goto out;
	}
	step_set_result(x, "success", "built %s (%s)", tag, id);
	json_object_set_new(x->results, "image_id", json_string(id));
	json_object_set_new(x->results, "image_tag", json_string(tag));
	{
		const char *pair[2] = { id, tag };
		step_update_task_settings(x, store_image, (void *)pair);
	}
	/* keep the user's hashes map current (only when files are listed) */
	if (json_object_get(x->conf, "files") ||
	    json_object_get(x->conf, "hashes")) {
		build_inputs(x->conf, files, NULL);
		json_array_foreach(files, i, v)
			step_hash_into(hashes, json_string_value(v), x->base,
				       json_string_value(v));
		step_store_hashes(x, hashes);
	}
out:
	if (iid)
		unlink(iid);
	free(iid);
	proc_release(&p);
	strbuf_release(&why);
	json_decref(files);
	json_decref(hashes);
	free(tail);
	free(id);
	free(tag);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key docker_build_keys[] = {
	STEP_IMAGE_KEYS,
	{ "context", SK_STRING, 0 },
	{ "dockerfile", SK_STRING, 0 },
	{ "files", SK_ARRAY | SK_OBJECT, 0 },
	{ "triggers", SK_OBJECT, 0 },
	{ "tags", SK_ARRAY, SK_STRING },
	{ "params", SK_STRING | SK_ARRAY, SK_STRING },
	{ "parameters", SK_STRING | SK_ARRAY, SK_STRING },
	{ "hashes", SK_OBJECT, 0 },
	{ "timeout_seconds", SK_INTEGER, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_build = {
	.keys = docker_build_keys,
	.name = "docker_build",
	.run = build_run,
	.inputs = build_inputs,
	.still_fresh = build_still_fresh,
};
