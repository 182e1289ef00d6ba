/* helpers shared by step types: settings updates, image resolution */
#include "steps/step.h"
#include "steps/image_fetch.h"
#include "core/deps.h"
#include "core/hash.h"
#include "core/hash_memo.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct conf_update {
	const char *type;
	void (*fn)(json_t *conf, void *data);
	void *data;
};

static int conf_cb(struct step *s, void *data)
{
	struct conf_update *u = data;
	json_t *conf = json_object_get(s->settings, u->type);
	if (!json_is_object(conf)) {
		conf = json_object();
		json_object_set_new(s->settings, u->type, conf);
	}
	u->fn(conf, u->data);
	return 0;
}

int step_update_conf(struct step_exec *x, void (*fn)(json_t *conf, void *data),
		     void *data)
{
	struct conf_update u = { x->type, fn, data };
	return store_step_edit(x->st, x->step->id, conf_cb, &u);
}

struct task_update {
	void (*fn)(json_t *settings, void *data);
	void *data;
};

static int task_cb(struct task *t, void *data)
{
	struct task_update *u = data;
	if (!json_is_object(t->settings)) {
		json_decref(t->settings);
		t->settings = json_object();
	}
	u->fn(t->settings, u->data);
	return 0;
}

int step_update_task_settings(struct step_exec *x,
			      void (*fn)(json_t *settings, void *data),
			      void *data)
{
	struct task_update u = { fn, data };
	return store_task_edit(x->st, x->step->task_id, task_cb, &u);
}

static void set_hashes(json_t *conf, void *data)
{
	json_object_set(conf, "hashes", (json_t *)data);
}

int step_store_hashes(struct step_exec *x, json_t *hashes)
{
	return step_update_conf(x, set_hashes, hashes);
}

void step_hash_into(json_t *hashes, const char *key, const char *base,
		    const char *rel)
{
	char hex[SHA256_HEX_LEN + 1];
	char *p = hash_resolve_path(base, rel);
	struct stat st;
	if (!stat(p, &st) && S_ISREG(st.st_mode) && !hash_file(p, hex))
		json_object_set_new(hashes, key, json_string(hex));
	free(p);
}

json_t *step_task_settings(struct step_exec *x)
{
	struct task t = { 0 };
	json_t *s = NULL;
	if (!store_task_get(x->st, x->step->task_id, &t) &&
	    json_is_object(t.settings))
		s = json_incref(t.settings);
	task_release(&t);
	return s ? s : json_object();
}

json_t *step_dependency_results(struct step_exec *x)
{
	json_t *out = json_array();
	long long *ids = NULL;
	size_t nr = 0, i;

	if (!step_depends_on(x->step->settings, &ids, &nr, NULL)) {
		for (i = 0; i < nr; i++) {
			struct step d = { 0 };
			if (store_step_get(x->st, ids[i], &d))
				continue;
			json_t *e = json_object();
			json_object_set_new(e, "id", json_integer(d.id));
			json_object_set(e, "settings", d.settings);
			json_object_set(e, "results",
					d.results ? d.results : json_null());
			json_array_append_new(out, e);
			step_release(&d);
		}
	}
	free(ids);
	return out;
}

/*
 * The image for a step: its own image_id / image_tag (also under a
 * "docker" object), then a docker_build or docker_pull dependency's
 * recorded image, then the task's docker.image_id / docker.image_tag.
 */
char *step_image_tag(struct step_exec *x)
{
	const char *t = json_str(x->conf, "image_tag");
	json_t *ts;
	char *ret = NULL;
	if (t && *t)
		return xstrdup(t);
	ts = step_task_settings(x);
	t = json_str(json_object_get(ts, "docker"), "image_tag");
	if (t && *t)
		ret = xstrdup(t);
	json_decref(ts);
	return ret;
}

void step_no_image(struct step_exec *x)
{
	step_set_result(x, "failure",
			"no image: set image_id or image_tag, "
			"depend on a docker_build or docker_pull step, or set "
			"the task's docker.image_tag");
}

int step_check_folders(struct step_exec *x, const char *app, const char *ref,
		       struct stat *st)
{
	if (!*x->base || x->base[0] != '/' || stat(x->base, st) < 0 ||
	    !S_ISDIR(st->st_mode)) {
		step_set_result(x, "failure",
				"the task folder '%s' is not a "
				"directory: set the task's local_path",
				x->base);
		return -1;
	}
	if (app[0] != '/') {
		step_set_result(x, "failure",
				"app_folder '%s' must be an "
				"absolute path inside the image",
				app);
		return -1;
	}
	if (!ref) {
		step_no_image(x);
		return -1;
	}
	return 0;
}

char *step_resolve_image(struct step_exec *x, const json_t *conf)
{
	const json_t *d = json_object_get(conf, "docker");
	const char *v;
	json_t *deps, *e, *ts;
	size_t i;
	char *ret = NULL;

	if ((v = json_str(conf, "image_id")) && *v)
		return xstrdup(v);
	if ((v = json_str(conf, "image_tag")) && *v)
		return xstrdup(v);
	if ((v = json_str(d, "image_id")) && *v)
		return xstrdup(v);
	if ((v = json_str(d, "image_tag")) && *v)
		return xstrdup(v);
	deps = step_dependency_results(x);
	json_array_foreach(deps, i, e)
	{
		json_t *r = json_object_get(e, "results");
		if ((v = json_str(r, "image_id")) && *v) {
			ret = xstrdup(v);
			break;
		}
		if ((v = json_str(r, "image")) && *v) {
			ret = xstrdup(v);
			break;
		}
	}
	json_decref(deps);
	if (ret)
		return ret;
	ts = step_task_settings(x);
	if ((v = json_str(json_object_get(ts, "docker"), "image_id")) && *v)
		ret = xstrdup(v);
	else if ((v = json_str(json_object_get(ts, "docker"), "image_tag")) &&
		 *v)
		ret = xstrdup(v);
	json_decref(ts);
	return ret;
}

int step_image_id(struct step_exec *x, const char *ref, char **id)
{
	struct strbuf why = STRBUF_INIT;
	int r = docker_image_id(ref, id, &why);

	/* a worker fetches an image ID the task recorded (image_fetch.h) */
	if (!r && json_str(x->origin, "worker") &&
	    !strncmp(ref, "sha256:", 7)) {
		strbuf_reset(&why);
		if (step_image_fetch(x, ref, &why)) {
			step_set_result(x, "failure", "%s", why.buf);
			strbuf_release(&why);
			return -1;
		}
		r = docker_image_id(ref, id, &why);
	}
	if (!r)
		step_set_result(x, "failure",
				"image '%s' not found: build or "
				"pull it first",
				ref);
	else if (r < 0)
		step_set_result(x, "failure", "cannot inspect image '%s': %s",
				ref, why.buf);
	strbuf_release(&why);
	return r == 1 ? 0 : -1;
}

int step_regular_file(const char *base, const char *rel)
{
	char *p = hash_resolve_path(base, rel);
	struct stat st;
	int ok = !stat(p, &st) && S_ISREG(st.st_mode);
	free(p);
	return ok;
}

const char *step_held_out_patch(const char *base, const json_t *conf)
{
	return step_held_out_patch_memo(NULL, base, conf);
}

const char *step_held_out_patch_memo(struct hash_memo *memo, const char *base,
				     const json_t *conf)
{
	const char *h = json_str(conf, "held_out_test");

	if (h && *h)
		return h;
	if (!hash_memo_regular(memo, base, "held_out_tests.patch") &&
	    hash_memo_regular(memo, base, "held_out_test.patch"))
		return "held_out_test.patch";
	return "held_out_tests.patch";
}

int step_is_flag(const char *arg, const char *flag)
{
	size_t n = strlen(flag);
	return !strncmp(arg, flag, n) && (!arg[n] || arg[n] == '=');
}

int step_picks_network(const struct strvec *opts)
{
	size_t i;
	for (i = 0; i < opts->nr; i++) {
		const char *a = opts->v[i];
		if (step_is_flag(a, "--network") || step_is_flag(a, "--net") ||
		    step_is_flag(a, "--publish") ||
		    step_is_flag(a, "--publish-all") || !strcmp(a, "-P") ||
		    !strncmp(a, "-p", 2))
			return 1;
	}
	return 0;
}

void step_record_pool(struct step_exec *x, json_t *list, json_t *map,
		      const char *image_id, const char *app)
{
	json_object_set(x->results, "containers", list);
	if (map)
		json_object_set(x->results, "containers_map", map);
	json_object_set_new(x->results, "image_id", json_string(image_id));
	json_object_set_new(x->results, "app_folder", json_string(app));
}
