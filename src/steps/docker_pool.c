/*
 * docker_pool: keep pool_size long-lived containers from one image.
 *
 * Roles are original, golden, solution1..N (pool_size 6 gives the
 * grading set; `roles` may list them explicitly). Containers are named
 * task_<task>_volume_<role>_<db> (db: the first 8 hex digits of the
 * database's identity), labelled, started with --init and a keep-alive,
 * and recreated when the image changed or they died. A container with
 * that name that is not this database's and this task's (steps/owner.h)
 * is never touched: the step fails naming its owner. A health check
 * (the tools the grading harness needs are there: bash, timeout,
 * base64, mktemp, git; no .git/index.lock; `git status` works in the
 * app folder) gates success. It also records the repository's HEAD as the container's
 * base_commit, the commit rubric_shell resets to, the first time it
 * sees that container (a later check keeps it, so a test that commits
 * cannot move it). The healthy roles are merged into the task's
 * containers_map (container_id, container_name, image_id, base_commit,
 * app_folder; a role that failed this time keeps its old entry) and
 * listed in the results.
 */
#include "steps/step.h"
#include "steps/owner.h"
#include "steps/workspace.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

char *step_app_folder(struct step_exec *x, const json_t *ts)
{
	const char *a = json_str(x->conf, "app_folder");
	if (!a || !*a)
		a = json_str(ts, "app_folder");
	return xstrdup(a && *a ? a : "/app");
}

static int has_flag(const struct strvec *args, const char *flag)
{
	size_t i, n = strlen(flag);
	for (i = 0; i < args->nr; i++)
		if (!strncmp(args->v[i], flag, n) &&
		    (!args->v[i][n] || args->v[i][n] == '='))
			return 1;
	return 0;
}

struct pool_ctx {
	struct step_exec *x;
	const char *image_ref, *image_id, *app;
	const json_t *params;
	const json_t *old_map; /* the task's containers_map before */
	struct strbuf problems;
	const char *db;   /* the database's identity */
	const char *fail; /* why the pool's inspect failed */
};

static int create(struct pool_ctx *c, const char *name, const char *role,
		  struct docker_container *out)
{
	struct strvec a = STRVEC_INIT, extra = STRVEC_INIT;
	const json_t *cmd = json_object_get(c->x->conf, "command");
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;
	int rc;

	strvec_pushl(&a, "run", "-d", "--init", "--name", name, NULL);
	docker_labels(&a, c->db, c->x->step->task_id, c->x->step->id);
	strvec_push(&a, "--label");
	strvec_pushf(&a, "%s=%s", DOCKER_LABEL_ROLE, role);
	docker_add_params(&extra, c->params, c->image_ref);
	/* --rm would make a kept container vanish when it stops */
	for (i = 0; i < extra.nr; i++)
		if (strcmp(extra.v[i], "--rm"))
			strvec_push(&a, extra.v[i]);
	if (!has_flag(&extra, "--network") && !has_flag(&extra, "--net"))
		strvec_pushl(&a, "--network", "none", NULL);
	if (!has_flag(&extra, "-w") && !has_flag(&extra, "--workdir"))
		strvec_pushl(&a, "-w", c->app, NULL);
	strvec_push(&a, c->image_id);
	if (json_is_array(cmd) && json_array_size(cmd)) {
		json_t *v;
		json_array_foreach(cmd, i, v) if (json_is_string(v))
			strvec_push(&a, json_string_value(v));
	} else {
		strvec_pushl(&a, "sleep", "infinity", NULL);
	}
	rc = docker_call(&a, 120000, &o, &why);
	if (rc) {
		char *t = text_tail(o.buf, 500);
		strbuf_addf(&c->problems, "%s: docker run failed: %s; ", role,
			    rc < 0 ? why.buf : t);
		free(t);
		/* never leak a half-made container */
		docker_remove(name, NULL);
	} else {
		rc = docker_inspect_container(name, out, NULL) == 1 ? 0 : -1;
	}
	strbuf_release(&o);
	strbuf_release(&why);
	strvec_clear(&a);
	strvec_clear(&extra);
	return rc ? -1 : 0;
}

/*
 * make sure role's container is up: seen->c, what the pool's inspect
 * found, is then the container's
 */
static int ensure(struct pool_ctx *c, const char *role,
		  struct owner_pool_seen *seen)
{
	const char *name = seen->name;
	struct docker_container *out = &seen->c;
	int r = owner_pool_check(c->x, c->db, role, seen, c->fail,
				 &c->problems);
	int ret = -1;

	if (r < 0)
		goto done;
	/* from here r is 1 while the container can stay, 0 to create it */
	if (r == 1 && strcmp(out->image, c->image_id)) {
		fprintf(c->x->out, "  %s: image changed, recreating %s\n", role,
			name);
		docker_container_release(out);
		if (docker_remove(name, NULL))
			goto done;
		r = 0;
	}
	if (r == 1 && !out->running) {
		struct strbuf o = STRBUF_INIT;
		int s = docker_callv(&o, NULL, DOCKER_QUICK_MS, "start", name,
				     NULL);
		strbuf_release(&o);
		docker_container_release(out);
		if (s || docker_inspect_container(name, out, NULL) != 1 ||
		    !out->running) {
			if (!s)
				docker_container_release(out);
			if (docker_remove(name, NULL))
				goto done;
			r = 0;
		}
	}
	if (r == 0 && create(c, name, role, out))
		goto done;
	ret = 0;
done:
	return ret;
}

/*
 * The health check (src/steps/docker_pool_health.sh, compiled in by
 * scripts/embed.sh); $1 is the app folder. A container with no git
 * repository there prints NO_REPO: a plain worker pool, not checked.
 */
extern const char pool_health_sh[];
#define NO_REPO "#task-sync-no-repository#"

/* the last line of text, if it is a commit ID (40 or 64 hex digits) */
static char *last_commit(const char *text)
{
	const char *end = text + strlen(text), *line;
	size_t n;
	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	line = end;
	while (line > text && line[-1] != '\n')
		line--;
	n = (size_t)(end - line);
	if ((n != 40 && n != 64) || strspn(line, "0123456789abcdef") < n)
		return NULL;
	return xstrndup(line, n);
}

/*
 * Health check; *base gets the commit to record: the old entry's when
 * it is the same container, else the current HEAD (NULL without one).
 */
static int healthy(struct pool_ctx *c, const char *role, const char *id,
		   char **base, int *no_repo)
{
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	const json_t *old = json_object_get(c->old_map, role);
	const char *old_id = json_str(old, "container_id");
	const char *old_base = json_str(old, "base_commit");
	int rc = docker_callv(&o, &why, DOCKER_QUICK_MS, "exec", id, "sh", "-c",
			      pool_health_sh, "sh", c->app, NULL);
	*base = NULL;
	*no_repo = !rc && strstr(o.buf, NO_REPO) != NULL;
	if (rc) {
		char *t = text_tail(o.buf, 300);
		strbuf_addf(&c->problems, "%s: health check failed in %s: %s; ",
			    role, c->app, rc < 0 ? why.buf : t);
		free(t);
	} else if (*no_repo) {
		;
	} else if (old_id && !strcmp(old_id, id) && old_base) {
		*base = xstrdup(old_base);
	} else {
		*base = last_commit(o.buf);
	}
	strbuf_release(&o);
	strbuf_release(&why);
	return rc ? -1 : 0;
}

struct pool_slot {
	struct pool_ctx c; /* a copy with its own problems buffer */
	const char *role;
	struct owner_pool_seen *seen; /* its container, then the one up */
	char *base;                   /* base commit, or NULL */
	int ok, started, no_repo;
	pthread_t thread;
};

static void *pool_member(void *arg)
{
	struct pool_slot *s = arg;
	if (proc_was_interrupted() || ensure(&s->c, s->role, s->seen))
		return NULL;
	if (healthy(&s->c, s->role, s->seen->c.id, &s->base, &s->no_repo))
		return NULL;
	s->ok = 1;
	return NULL;
}

/* merge: a role that is not healthy this time keeps its entry */
static void save_map(json_t *settings, void *data)
{
	json_t *cur = json_object_get(settings, "containers_map");
	json_t *m = json_is_object(cur) ? json_deep_copy(cur) : json_object();
	json_object_update(m, (json_t *)data);
	json_object_set_new(settings, "containers_map", m);
}

static int pool_run(struct step_exec *x)
{
	struct pool_ctx c = { .x = x, .problems = STRBUF_INIT };
	struct strvec roles = STRVEC_INIT;
	struct strbuf fail = STRBUF_INIT;
	json_t *ts = step_task_settings(x);
	json_t *map = json_object(), *list = json_array();
	char *ref = step_resolve_image(x, x->conf), *id = NULL, *app = NULL;
	struct pool_slot *slots = NULL;
	struct owner_pool_seen *seen = NULL;
	size_t i, no_repo = 0;

	if (!ref) {
		step_no_image(x);
		goto out;
	}
	if (step_image_id(x, ref, &id) || !(c.db = owner_db(x)))
		goto out;
	app = step_app_folder(x, ts);
	c.image_ref = ref;
	c.image_id = id;
	c.app = app;
	c.params = json_object_get(x->conf, "parameters");
	if (!c.params || !json_array_size(c.params))
		c.params = json_object_get(ts, "docker_run_parameters");
	c.old_map = json_object_get(ts, "containers_map");
	workspace_roles(x->conf, &roles);
	/* the whole pool in one inspect (a docker call costs 0.1 s of CPU) */
	seen = owner_pool_inspect(x, c.db, (const char *const *)roles.v,
				  roles.nr, &fail);
	c.fail = fail.buf;
	slots = xcalloc(roles.nr + 1, sizeof(*slots));
	/* the containers are independent: bring them up in parallel */
	for (i = 0; i < roles.nr; i++) {
		slots[i].c = c;
		strbuf_init(&slots[i].c.problems, 0);
		slots[i].role = roles.v[i];
		slots[i].seen = &seen[i];
		slots[i].started = !pthread_create(&slots[i].thread, NULL,
						   pool_member, &slots[i]);
		if (!slots[i].started)
			pool_member(&slots[i]);
	}
	for (i = 0; i < roles.nr; i++) {
		json_t *e;
		if (slots[i].started)
			pthread_join(slots[i].thread, NULL);
		strbuf_addstr(&c.problems, slots[i].c.problems.buf);
		strbuf_release(&slots[i].c.problems);
		if (!slots[i].ok)
			continue;
		no_repo += slots[i].no_repo;
		e = json_object();
		json_object_set_new(e, "container_id",
				    json_string(slots[i].seen->c.id));
		json_object_set_new(e, "container_name",
				    json_string(slots[i].seen->c.name));
		/* what a verdict graded in it records (steps/grade_basis.h) */
		json_object_set_new(e, "image_id",
				    json_string(slots[i].seen->c.image));
		json_object_set_new(e, "base_commit",
				    slots[i].base ? json_string(slots[i].base)
						  : json_null());
		/* the folder base_commit is the HEAD of */
		json_object_set_new(e, "app_folder", json_string(app));
		free(slots[i].base);
		json_object_set(map, roles.v[i], e);
		json_object_set_new(e, "role", json_string(roles.v[i]));
		json_array_append(list, e);
		json_decref(e);
	}
	free(slots);
	if (c.problems.len) {
		strbuf_setlen(&c.problems, c.problems.len - 2);
		step_set_result(x, "failure", "%s", c.problems.buf);
	} else if (no_repo) {
		step_set_result(x, "success",
				"%zu containers running from %s; "
				"no git repository in %s, so no grading check",
				roles.nr, ref, app);
	} else {
		step_set_result(x, "success",
				"%zu containers running from %s; "
				"git status OK in all",
				roles.nr, ref);
	}
	/* record what runs, even on partial failure: nothing is lost */
	step_record_pool(x, list, NULL, id, app);
	for (i = 0; i < json_array_size(list); i++)
		json_object_del(json_array_get(list, i), "role");
	step_update_task_settings(x, save_map, map);
out:
	owner_pool_seen_free(seen, roles.nr);
	strbuf_release(&c.problems);
	strbuf_release(&fail);
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
static const struct setting_key docker_pool_keys[] = {
	STEP_IMAGE_KEYS,
	WORKSPACE_ROLE_KEYS,
	{ "parameters", SK_STRING | SK_ARRAY, SK_STRING },
	{ "keep_forever", SK_BOOL, 0 },
	{ "app_folder", SK_STRING, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_pool = {
	.keys = docker_pool_keys,
	.name = "docker_pool",
	.run = pool_run,
};
