/*
 * docker_extract_volume: fill the per-candidate folders on the host
 * from the image (spec §7.8).
 *
 * Settings: image_id / image_tag (also under "docker"; else a
 * dependency's image, else the task's docker.image_id / image_tag),
 * app_folder (the folder inside the image, default the task's
 * app_folder, else /app), roles / pool_size (as docker_pool: original,
 * golden, solution1..4), files or triggers.files (inputs that make it
 * run again when they change).
 *
 * A run copies APP out of the image into LP/original (docker create of
 * the helper extract_vol_container_<db>_<step>, db the first 8 hex
 * digits of the database's identity, docker cp, docker rm: nothing is
 * installed and no network is used; a helper of that name that is not
 * this database's and this step's is left alone and fails the step),
 * then LP/original into LP/volume_<role> for every other role. Every
 * folder is emptied first (kept, not replaced, so bind mounts stay
 * valid) and everything is given to the owner of the task folder. The
 * step is fresh while its inputs are unchanged, the image is the one
 * it copied, and every folder is still there and not empty.
 *
 * Results: folders {role: path}, image_id, app_folder. The task's
 * volume_name is set to volume_task_<task> as the original did.
 */
#include "steps/step.h"
#include "steps/owner.h"
#include "steps/workspace.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CP_TIMEOUT_MS (30L * 60 * 1000)

static int extract_inputs(const json_t *conf, json_t *files, struct strbuf *err)
{
	(void)err;
	json_add_keys_or_items(files, json_object_get(conf, "files"));
	json_add_keys_or_items(
		files,
		json_object_get(json_object_get(conf, "triggers"), "files"));
	return 0;
}

static int dir_has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

static int extract_still_fresh(struct step_exec *x, struct strbuf *why)
{
	const char *want = json_str(x->step->results, "image_id");
	struct strvec roles = STRVEC_INIT;
	char *ref = step_resolve_image(x, x->conf), *id = NULL;
	size_t i;
	int ok = 0;

	if (!ref || docker_image_id(ref, &id, NULL) != 1) {
		strbuf_addf(why, "image '%s' is not available", ref ? ref : "");
		goto out;
	}
	if (!want || strcmp(want, id)) {
		strbuf_addf(why, "image '%s' changed", ref);
		goto out;
	}
	workspace_roles(x->conf, &roles);
	for (i = 0; i < roles.nr; i++) {
		char *dir = workspace_dir(x->base, roles.v[i]);
		int has = dir_has_entries(dir);
		if (!has)
			strbuf_addf(why, "'%s' is missing or empty", dir);
		free(dir);
		if (!has)
			goto out;
	}
	ok = 1;
out:
	strvec_clear(&roles);
	free(ref);
	free(id);
	return ok;
}

static void save_volume_name(json_t *settings, void *data)
{
	json_object_set_new(settings, "volume_name",
			    json_string((const char *)data));
}

/* the app folder: the step, the task, then /app */
static char *app_of(struct step_exec *x)
{
	json_t *ts = step_task_settings(x);
	char *app = step_app_folder(x, ts);
	json_decref(ts);
	return app;
}

static int extract_run(struct step_exec *x)
{
	struct strvec roles = STRVEC_INIT, a = STRVEC_INIT;
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT, err = STRBUF_INIT;
	struct docker_container c = { 0 };
	char *ref = step_resolve_image(x, x->conf), *id = NULL;
	char *app = app_of(x), *helper = NULL, *src = NULL;
	char *orig = NULL, *from = NULL, *vol = NULL, *whose = NULL;
	const char *db = NULL;
	json_t *folders = json_object();
	struct stat st;
	size_t i;
	int r, created = 0;

	if (step_check_folders(x, app, ref, &st))
		goto out;
	if (step_image_id(x, ref, &id) || !(db = owner_db(x)))
		goto out;

	helper = xstrfmt("extract_vol_container_%.*s_%lld", OWNER_SHORT_LEN, db,
			 x->step->id);
	r = docker_inspect_container(helper, &c, &why);
	if (r == 1 && owner_check(x, db, &c, OWNER_STEP, &whose)) {
		step_set_result(x, "failure",
				"a container named '%s' exists "
				"that is not this step's (%s): left alone; "
				"remove or rename it",
				helper, whose);
		goto out;
	}
	if ((r == 1 && docker_remove(helper, &why)) || r < 0) {
		step_set_result(x, "failure",
				"cannot clear the helper "
				"container '%s': %s",
				helper, why.buf);
		goto out;
	}
	docker_container_release(&c);

	/* created, never started: no network, nothing installed */
	strvec_pushl(&a, "create", "--name", helper, "--network", "none", NULL);
	docker_labels(&a, db, x->step->task_id, x->step->id);
	strvec_pushl(&a, id, "true", NULL);
	r = docker_call(&a, DOCKER_QUICK_MS, &o, &why);
	created = 1;
	if (r) {
		char *t = text_tail(o.buf, 1000);
		step_set_result(x, "failure",
				"docker create from %s failed: %s", ref,
				r < 0 || !*t ? why.buf : t);
		free(t);
		goto out;
	}

	orig = workspace_dir(x->base, "original");
	if (workspace_empty_dir(orig, &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	src = xstrfmt("%s:%s/.", helper, strcmp(app, "/") ? app : "");
	fprintf(x->out, "  docker cp %s %s\n", src, orig);
	r = docker_callv(&o, &why, CP_TIMEOUT_MS, "cp", src, orig, NULL);
	strbuf_add(&x->log, o.buf, o.len);
	if (r) {
		char *t = text_tail(o.buf, 1000);
		step_set_result(x, "failure", "copying %s out of %s failed: %s",
				app, ref, r < 0 || !*t ? why.buf : t);
		free(t);
		goto out;
	}
	docker_remove(helper, NULL);
	created = 0;
	if (workspace_chown(orig, st.st_uid, st.st_gid, &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	json_object_set_new(folders, "original", json_string(orig));

	workspace_roles(x->conf, &roles);
	for (i = 0; i < roles.nr; i++) {
		if (!strcmp(roles.v[i], "original"))
			continue;
		free(vol);
		vol = workspace_dir(x->base, roles.v[i]);
		if (workspace_empty_dir(vol, &err) ||
		    workspace_copy(orig, vol, &err) ||
		    workspace_chown(vol, st.st_uid, st.st_gid, &err)) {
			step_set_result(x, "failure", "%s", err.buf);
			goto out;
		}
		json_object_set_new(folders, roles.v[i], json_string(vol));
	}
	{
		char *vn = xstrfmt("volume_task_%lld", x->step->task_id);
		step_update_task_settings(x, save_volume_name, vn);
		free(vn);
	}
	step_set_result(x, "success", "copied %s from %s into %zu folders", app,
			ref, json_object_size(folders));
	json_object_set_new(x->results, "image_id", json_string(id));
	json_object_set_new(x->results, "app_folder", json_string(app));
	json_object_set(x->results, "folders", folders);
out:
	if (created)
		docker_remove(helper, NULL);
	docker_container_release(&c);
	strvec_clear(&roles);
	strvec_clear(&a);
	strbuf_release(&o);
	strbuf_release(&why);
	strbuf_release(&err);
	json_decref(folders);
	free(from);
	free(whose);
	free(vol);
	free(orig);
	free(src);
	free(helper);
	free(app);
	free(ref);
	free(id);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key docker_extract_volume_keys[] = {
	{ "image_tag", SK_STRING, 0 },
	{ "image_id", SK_STRING, 0 },
	WORKSPACE_ROLE_KEYS,
	{ "docker", SK_OBJECT, 0 },
	{ "app_folder", SK_STRING, 0 },
	{ "files", SK_ARRAY | SK_OBJECT, 0 },
	{ "triggers", SK_OBJECT, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_extract_volume = {
	.keys = docker_extract_volume_keys,
	.name = "docker_extract_volume",
	.run = extract_run,
	.inputs = extract_inputs,
	.still_fresh = extract_still_fresh,
};
