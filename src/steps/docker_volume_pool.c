/*
 * docker_volume_pool: one long-lived container per candidate, each
 * working on its own host folder (spec §7.7).
 *
 * Settings: image_id / image_tag (else a dependency's image, else the
 * task's docker.image_id / image_tag), roles / pool_size (original,
 * golden, solution1..4), app_folder (the mount point; else the task's
 * app_folder, a dependency's recorded app_folder, /app), parameters
 * (extra `docker run` arguments), held_out_test_file and
 * grading_setup_script (patches relative to the task folder, applied in
 * every container).
 *
 * Each role's container is task_<task>_volume_<role>_<db> (db: the first
 * 8 hex digits of the database's identity): labelled, --init, `sleep
 * infinity`, --network none unless the parameters pick one, and
 * LP/original (original) or LP/volume_<role> bind-mounted at APP. It is
 * reused while it runs the same image with the same mount and
 * parameters, else recreated; a container with that name that is not
 * this database's and this task's (steps/owner.h) is never touched.
 * Then, in each container, as the owner of its folder (no root-owned files appear on
 * the host): the repository is reset (git reset --hard, git clean -fd)
 * and the patches applied, grading_setup_script first, then the role's
 * patch (golden.patch, solutionN.patch; none for original), then
 * held_out_test_file. Failures are recorded per container.
 *
 * Results: containers [{role, container_id, container_name, patches,
 * error}], containers_map; the task's containers_map is set to the
 * containers that run.
 */
#include "steps/step.h"
#include "steps/owner.h"
#include "steps/workspace.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LABEL_SPEC "task-sync.spec"

static const char reset_script[] =
	"cd \"$1\" || exit 1; rm -f .git/index.lock; "
	"git -c safe.directory=\"$1\" reset -q --hard HEAD && "
	"git -c safe.directory=\"$1\" clean -fdq";

struct vpool {
	struct step_exec *x;
	const char *image_ref, *image_id, *app;
	struct strvec opts; /* from parameters, --rm dropped */
	struct strbuf problems;
	const char *db; /* the database's identity */
};

/* a --mount value; CSV quoting keeps commas and quotes in paths */
static char *mount_arg(const char *src, const char *dst)
{
	struct strbuf sb = STRBUF_INIT;
	const char *parts[2] = { src, dst }, *keys[2] = { "source", "target" };
	const char *p;
	int i;
	strbuf_addstr(&sb, "type=bind");
	for (i = 0; i < 2; i++) {
		strbuf_addf(&sb, ",\"%s=", keys[i]);
		for (p = parts[i]; *p; p++) {
			if (*p == '"')
				strbuf_addch(&sb, '"');
			strbuf_addch(&sb, *p);
		}
		strbuf_addch(&sb, '"');
	}
	return strbuf_detach(&sb, NULL);
}

static void spec_of(struct vpool *v, const char *host,
		    char out[SHA256_HEX_LEN + 1])
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	strbuf_addf(&sb, "%s%c%s%c%s", v->image_id, 0, host, 0, v->app);
	for (i = 0; i < v->opts.nr; i++)
		strbuf_addf(&sb, "%c%s", 0, v->opts.v[i]);
	hash_string(sb.buf, sb.len, out);
	strbuf_release(&sb);
}

static int create(struct vpool *v, const char *name, const char *role,
		  const char *host, const char *spec,
		  struct docker_container *out)
{
	struct strvec a = STRVEC_INIT;
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	char *mnt = mount_arg(host, v->app);
	size_t i;
	int rc;

	strvec_pushl(&a, "run", "-d", "--init", "--name", name, NULL);
	docker_labels(&a, v->db, v->x->step->task_id, v->x->step->id);
	strvec_push(&a, "--label");
	strvec_pushf(&a, "%s=%s", DOCKER_LABEL_ROLE, role);
	strvec_push(&a, "--label");
	strvec_pushf(&a, "%s=%s", LABEL_SPEC, spec);
	if (!step_picks_network(&v->opts))
		strvec_pushl(&a, "--network", "none", NULL);
	strvec_pushl(&a, "-w", v->app, "--mount", mnt, NULL);
	for (i = 0; i < v->opts.nr; i++)
		strvec_push(&a, v->opts.v[i]);
	strvec_pushl(&a, v->image_id, "sleep", "infinity", NULL);
	rc = docker_call(&a, 120000, &o, &why);
	if (rc) {
		char *t = text_tail(o.buf, 500);
		strbuf_addf(&v->problems, "%s: docker run failed: %s; ", role,
			    rc < 0 || !*t ? why.buf : t);
		free(t);
		/* never leak a half-made container */
		docker_remove(name, NULL);
	} else if (docker_inspect_container(name, out, NULL) != 1 ||
		   !out->running) {
		strbuf_addf(&v->problems, "%s: container %s did not stay up; ",
			    role, name);
		docker_container_release(out);
		docker_remove(name, NULL);
		rc = -1;
	}
	strbuf_release(&o);
	strbuf_release(&why);
	strvec_clear(&a);
	free(mnt);
	return rc ? -1 : 0;
}

/*
 * make sure role's container is up with the right mount: seen->c, what
 * the pool's inspect found (fail: why it failed), is then the container's
 */
static int ensure(struct vpool *v, const char *role,
		  struct owner_pool_seen *seen, const char *fail,
		  const char *host)
{
	const char *name = seen->name;
	struct docker_container *out = &seen->c;
	char spec[SHA256_HEX_LEN + 1];
	int r, ret = -1;

	spec_of(v, host, spec);
	r = owner_pool_check(v->x, v->db, role, seen, fail, &v->problems);
	if (r < 0)
		goto done;
	if (r == 1) {
		const char *old = docker_container_label(out, LABEL_SPEC);
		struct strbuf why = STRBUF_INIT;

		if (out->running && !strcmp(out->image, v->image_id) && old &&
		    !strcmp(old, spec)) {
			ret = 0;
			goto done;
		}
		fprintf(v->x->out, "  %s: recreating %s (%s)\n", role, name,
			!out->running ? "not running"
			: strcmp(out->image, v->image_id)
				? "image changed"
				: "mount or parameters changed");
		docker_container_release(out);
		if (docker_remove(name, &why)) {
			strbuf_addf(&v->problems, "%s: cannot remove %s: %s; ",
				    role, name, why.buf);
			strbuf_release(&why);
			goto done;
		}
		strbuf_release(&why);
	}
	ret = create(v, name, role, host, spec, out);
done:
	return ret;
}

/*
 * docker exec as the folder's owner; returns the exit code or -1, the
 * output in *out and why in *err
 */
static int exec_in(struct vpool *v, const char *cid, const struct stat *owner,
		   const char *input, size_t len, struct strbuf *out,
		   struct strbuf *err, const char *const *cmd)
{
	struct proc p = PROC_INIT;
	int rc;

	docker_proc_init(&p);
	strvec_push(&p.argv, "exec");
	if (input)
		strvec_push(&p.argv, "-i");
	if (owner->st_uid || owner->st_gid) {
		strvec_push(&p.argv, "-u");
		strvec_pushf(&p.argv, "%lu:%lu", (unsigned long)owner->st_uid,
			     (unsigned long)owner->st_gid);
	}
	strvec_pushl(&p.argv, "-w", v->app, cid, NULL);
	strvec_pushv(&p.argv, cmd);
	p.input = input;
	p.input_len = len;
	p.capture_cap = 16 * 1024;
	rc = docker_call_proc(&p, 600000, err);
	strbuf_reset(out);
	strbuf_add(out, p.out.buf, p.out.len);
	proc_release(&p);
	return rc;
}

/* reset the repository and apply the patches; 0 or -1 (problem noted) */
static int prepare(struct vpool *v, const char *role, const char *cid,
		   const char *host, json_t *entry)
{
	const json_t *conf = v->x->conf;
	const char *setup = json_str(conf, "grading_setup_script");
	const char *held = json_str(conf, "held_out_test_file");
	json_t *applied = json_array();
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	const char *reset[] = { "sh", "-c", reset_script, "_", v->app, NULL };
	char *own = NULL, *sd = xstrfmt("safe.directory=%s", v->app);
	const char *patches[3] = { NULL, NULL, NULL };
	int required[3] = { 1, 0, 1 };
	struct stat owner;
	int rc, ret = -1, i;

	if (stat(host, &owner) < 0) {
		strbuf_addf(&v->problems, "%s: cannot stat '%s': %s; ", role,
			    host, strerror(errno));
		goto out;
	}
	rc = exec_in(v, cid, &owner, NULL, 0, &o, &why, reset);
	if (rc) {
		char *t = text_tail(o.buf, 500);
		strbuf_addf(&v->problems,
			    "%s: resetting the repository in %s "
			    "failed: %s; ",
			    role, v->app, rc < 0 || !*t ? why.buf : t);
		free(t);
		goto out;
	}
	if (strcmp(role, "original"))
		own = xstrfmt("%s.patch", role);
	patches[0] = setup && *setup ? setup : NULL;
	patches[1] = own;
	patches[2] = held && *held ? held : NULL;
	for (i = 0; i < 3; i++) {
		const char *apply[] = {
			"git", "-c", sd, "apply", "--whitespace=nowarn",
			"-",   NULL
		};
		struct strbuf data = STRBUF_INIT;
		char *path;
		if (!patches[i])
			continue;
		path = hash_resolve_path(v->x->base, patches[i]);
		if (strbuf_read_file(&data, path) < 0) {
			int e = errno;
			/* a candidate without its patch runs unpatched */
			if (required[i] || e != ENOENT)
				strbuf_addf(&v->problems,
					    "%s: cannot read "
					    "'%s': %s; ",
					    role, path, strerror(e));
			free(path);
			strbuf_release(&data);
			if (required[i] || e != ENOENT)
				goto out;
			continue;
		}
		free(path);
		rc = exec_in(v, cid, &owner, data.buf, data.len, &o, &why,
			     apply);
		strbuf_release(&data);
		if (rc) {
			char *t = text_tail(o.buf, 500);
			strbuf_addf(&v->problems,
				    "%s: git apply %s failed: %s; ", role,
				    patches[i], rc < 0 || !*t ? why.buf : t);
			json_object_set_new(entry, "error", json_string(t));
			free(t);
			goto out;
		}
		json_array_append_new(applied, json_string(patches[i]));
	}
	ret = 0;
out:
	json_object_set_new(entry, "patches", applied);
	strbuf_release(&o);
	strbuf_release(&why);
	free(own);
	free(sd);
	return ret;
}

/* the mount point: the step, the task, a dependency's, then /app */
static char *app_of(struct step_exec *x, const json_t *ts)
{
	const char *a = json_str(x->conf, "app_folder");
	json_t *deps, *e;
	char *ret = NULL;
	size_t i;

	if ((a && *a) || ((a = json_str(ts, "app_folder")) && *a))
		return xstrdup(a);
	deps = step_dependency_results(x);
	json_array_foreach(deps, i, e)
	{
		a = json_str(json_object_get(e, "results"), "app_folder");
		if (a && *a) {
			ret = xstrdup(a);
			break;
		}
	}
	json_decref(deps);
	return ret ? ret : xstrdup("/app");
}

static void save_map(json_t *settings, void *data)
{
	json_object_set(settings, "containers_map", (json_t *)data);
}

static int vpool_run(struct step_exec *x)
{
	struct vpool v = { x, NULL, NULL, NULL, STRVEC_INIT, STRBUF_INIT, NULL };
	struct strvec roles = STRVEC_INIT, raw = STRVEC_INIT;
	struct strbuf fail = STRBUF_INIT;
	struct owner_pool_seen *seen = NULL;
	json_t *ts = step_task_settings(x);
	json_t *map = json_object(), *list = json_array();
	char *ref = step_resolve_image(x, x->conf), *id = NULL;
	char *app = app_of(x, ts);
	struct stat st;
	size_t i;

	if (step_check_folders(x, app, ref, &st))
		goto out;
	if (step_image_id(x, ref, &id) || !(v.db = owner_db(x)))
		goto out;
	v.image_ref = ref;
	v.image_id = id;
	v.app = app;
	docker_add_params(&raw, json_object_get(x->conf, "parameters"), ref);
	for (i = 0; i < raw.nr; i++)
		if (strcmp(raw.v[i], "--rm"))
			strvec_push(&v.opts, raw.v[i]);

	workspace_roles(x->conf, &roles);
	/* the whole pool in one inspect (a docker call costs 0.1 s of CPU) */
	seen = owner_pool_inspect(x, v.db, (const char *const *)roles.v,
				  roles.nr, &fail);
	for (i = 0; i < roles.nr && !proc_was_interrupted(); i++) {
		const struct docker_container *dc = &seen[i].c;
		char *host = workspace_dir(x->base, roles.v[i]);
		json_t *e;

		if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode)) {
			strbuf_addf(&v.problems,
				    "%s: '%s' does not exist: run "
				    "the docker_extract_volume step first; ",
				    roles.v[i], host);
			free(host);
			continue;
		}
		if (ensure(&v, roles.v[i], &seen[i], fail.buf, host)) {
			free(host);
			continue;
		}
		e = json_object();
		json_object_set_new(e, "container_id", json_string(dc->id));
		json_object_set_new(e, "container_name", json_string(dc->name));
		json_object_set(map, roles.v[i], e);
		json_decref(e);
		e = json_object();
		json_object_set_new(e, "role", json_string(roles.v[i]));
		json_object_set_new(e, "container_id", json_string(dc->id));
		json_object_set_new(e, "container_name", json_string(dc->name));
		json_object_set_new(e, "host_folder", json_string(host));
		prepare(&v, roles.v[i], dc->id, host, e);
		json_array_append_new(list, e);
		free(host);
	}
	if (v.problems.len) {
		strbuf_setlen(&v.problems, v.problems.len - 2);
		step_set_result(x, "failure", "%s", v.problems.buf);
	} else {
		step_set_result(x, "success",
				"%zu containers running from %s, "
				"repositories reset and patches applied",
				roles.nr, ref);
	}
	step_record_pool(x, list, map, id, app);
	step_update_task_settings(x, save_map, map);
out:
	owner_pool_seen_free(seen, roles.nr);
	strbuf_release(&fail);
	strbuf_release(&v.problems);
	strvec_clear(&v.opts);
	strvec_clear(&raw);
	strvec_clear(&roles);
	json_decref(ts);
	json_decref(map);
	json_decref(list);
	free(ref);
	free(id);
	free(app);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key docker_volume_pool_keys[] = {
	STEP_IMAGE_KEYS,
	WORKSPACE_ROLE_KEYS,
	{ "app_folder", SK_STRING, 0 },
	{ "parameters", SK_STRING | SK_ARRAY, SK_STRING },
	{ "held_out_test_file", SK_STRING, 0 },
	{ "grading_setup_script", SK_STRING, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_volume_pool = {
	.keys = docker_volume_pool_keys,
	.name = "docker_volume_pool",
	.run = vpool_run,
};
