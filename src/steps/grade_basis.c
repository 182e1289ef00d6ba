/*
 * grade_basis: what decided a rubric_shell verdict, worked out for
 * today and compared with what a cell was graded under (see
 * grade_basis.h). rubric_shell records and checks it; `task report`
 * shows the cells whose basis no longer holds.
 */
#include "steps/grade_basis.h"
#include "steps/step.h"
#include "core/hash.h"
#include "core/hash_memo.h"
#include "core/jsonutil.h"
#include "core/model.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

int grade_basis_timeout(const struct config *cfg, const json_t *ts,
			const json_t *conf)
{
	const json_t *t = json_object_get(conf, "timeout_seconds");
	if (!json_is_integer(t))
		t = json_object_get(ts, "timeout_seconds");
	if (json_is_integer(t) && json_integer_value(t) > 0)
		return (int)json_integer_value(t);
	return cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 120;
}

const char *grade_basis_pre_patch(const json_t *conf)
{
	const json_t *files = json_object_get(conf, "files");
	if (json_is_true(json_object_get(conf, "pre_patch")) ||
	    (json_is_object(files) &&
	     json_object_get(files, "pre_patch.patch")))
		return "pre_patch.patch";
	return NULL;
}

const char *grade_basis_patch(const json_t *conf, const char *key)
{
	const char *rel;
	if (!strcmp(key, "original"))
		return NULL;
	if (!strcmp(key, "golden")) {
		rel = json_str(conf, "golden_patch");
		if (json_is_false(json_object_get(conf, "apply_golden")))
			return NULL;
		return rel ? rel : "golden.patch";
	}
	rel = json_str(json_object_get(conf, "patches"), key);
	return rel ? rel : key;
}

/* the containers_map role of a candidate: solution1.patch -> solution1 */
static char *role_of(const char *key)
{
	return xstrndup(key, candidate_role_len(key));
}

static const char *map_ref(const json_t *e)
{
	const char *n = json_str(e, "container_name");
	if (!n || !*n)
		n = json_str(e, "container_id");
	if (!n && json_is_string(e))
		n = json_string_value(e);
	return n && *n ? n : NULL;
}

/* the assigned container of key (a name or an ID), or NULL */
static const char *assigned(const struct grade_basis_env *env, const char *key)
{
	const json_t *a = json_object_get(env->conf, "assign_containers");
	const char *n;
	char *role;
	if (strcmp(key, "golden") && strcmp(key, "original") &&
	    json_is_object(a) && json_object_size(a)) {
		n = json_string_value(json_object_get(a, key));
		return n && *n ? n : NULL;
	}
	role = role_of(key);
	n = map_ref(json_object_get(json_object_get(env->ts, "containers_map"),
				    role));
	free(role);
	return n;
}

/* the containers_map entry naming container ref (name or ID), or NULL */
static const json_t *map_entry(const json_t *map, const char *ref)
{
	const char *role;
	json_t *e;
	json_object_foreach((json_t *)map, role, e)
	{
		const char *n = json_str(e, "container_name");
		const char *id = json_str(e, "container_id");
		if ((n && !strcmp(n, ref)) || (id && !strcmp(id, ref)))
			return e;
	}
	return NULL;
}

/*
 * One `docker container inspect` of every ref in refs: each found one
 * gets {"id", "image"}, each other null. Nothing when docker cannot be
 * asked.
 */
static void inspect_all(json_t *into, const json_t *refs)
{
	struct strvec a = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	const char *ref;
	json_t *v;
	int rc;

	strvec_pushl(&a, "container", "inspect", "--format",
		     "{{.Id}} {{.Image}} {{.Name}}", NULL);
	json_object_foreach((json_t *)refs, ref, v) strvec_push(&a, ref);
	rc = docker_call(&a, DOCKER_QUICK_MS, &out, NULL);
	if (rc < 0)
		goto out;
	json_object_foreach((json_t *)refs, ref, v)
	{
		const char *line = out.buf;
		json_t *found = json_null();
		size_t rl = strlen(ref);
		while (*line) {
			const char *nl = strchrnul(line, '\n');
			const char *sp1 =
				memchr(line, ' ', (size_t)(nl - line));
			const char *sp2 = sp1 ? memchr(sp1 + 1, ' ',
						       (size_t)(nl - sp1 - 1))
					      : NULL;
			if (sp2 && sp2[1] == '/' &&
			    (((size_t)(nl - sp2 - 2) == rl &&
			      !strncmp(sp2 + 2, ref, rl)) ||
			     ((size_t)(sp1 - line) >= rl &&
			      !strncmp(line, ref, rl)))) {
				found = json_object();
				json_object_set_new(
					found, "id",
					json_stringn(line,
						     (size_t)(sp1 - line)));
				json_object_set_new(
					found, "image",
					json_stringn(sp1 + 1,
						     (size_t)(sp2 - sp1 - 1)));
				break;
			}
			line = *nl ? nl + 1 : nl;
		}
		json_object_set_new(into, ref, found);
	}
out:
	strvec_clear(&a);
	strbuf_release(&out);
}

void grade_basis_env_init(struct grade_basis_env *env, const struct config *cfg,
			  const json_t *ts, const json_t *conf,
			  const char *base)
{
	grade_basis_env_init_seen(env, cfg, ts, conf, base, NULL);
}

void grade_basis_env_init_seen(struct grade_basis_env *env,
			       const struct config *cfg, const json_t *ts,
			       const json_t *conf, const char *base,
			       json_t *seen)
{
	const json_t *a = json_object_get(conf, "assign_containers");
	const json_t *map = json_object_get(ts, "containers_map");
	json_t *refs = json_object(), *v, *known;
	struct step_exec x;
	const char *key;
	void *tmp;

	memset(env, 0, sizeof(*env));
	env->cfg = cfg;
	env->ts = ts;
	env->conf = conf;
	env->base = base ? base : "";
	memset(&x, 0, sizeof(x));
	x.conf = (json_t *)conf;
	env->app = step_app_folder(&x, ts);
	env->timeout_s = grade_basis_timeout(cfg, ts, conf);
	env->inspected = json_object();
	/* the containers whose ID and image only docker can tell */
	json_object_foreach((json_t *)a, key, v)
	{
		const char *ref = json_string_value(v);
		if (ref && *ref &&
		    !json_str(map_entry(map, ref), "container_id"))
			json_object_set(refs, ref, json_true());
	}
	json_object_foreach((json_t *)map, key, v)
	{
		const char *ref = map_ref(v);
		if (ref && !json_str(v, "container_id"))
			json_object_set(refs, ref, json_true());
	}
	/* what an earlier step of the pass learnt is not asked again */
	json_object_foreach_safe(refs, tmp, key, v)
	{
		if ((known = json_object_get(seen, key))) {
			json_object_set(env->inspected, key, known);
			json_object_del(refs, key);
		}
	}
	if (json_object_size(refs))
		inspect_all(env->inspected, refs);
	json_object_foreach(refs, key, v)
	{
		if (seen && (known = json_object_get(env->inspected, key)))
			json_object_set(seen, key, known);
	}
	json_decref(refs);
}

void grade_basis_env_release(struct grade_basis_env *env)
{
	free(env->app);
	json_decref(env->inspected);
	env->app = NULL;
	env->inspected = NULL;
}

void grade_basis_where(const struct grade_basis_env *env, const char *key,
		       struct grade_where *w)
{
	const json_t *map = json_object_get(env->ts, "containers_map");
	const json_t *e, *seen;
	const char *folder;

	memset(w, 0, sizeof(*w));
	w->known = 1;
	w->name = assigned(env, key);
	if (!w->name)
		return;
	e = map_entry(map, w->name);
	if (json_str(e, "container_id")) {
		w->id = json_str(e, "container_id");
		w->image_id = json_str(e, "image_id");
	} else if ((seen = json_object_get(env->inspected, w->name))) {
		w->id = json_str(seen, "id");
		w->image_id = json_str(seen, "image");
	} else {
		w->known = 0;
	}
	/* the commit docker_pool recorded, when it is that of the app */
	folder = json_str(e, "app_folder");
	if (folder && !strcmp(folder, env->app))
		w->base_commit = json_str(e, "base_commit");
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *grade_basis_make(const struct grade_basis_env *env,
			 const struct grade_where *w, const char *pre_patch,
			 const char *patch, const char *held_out)
{
	json_t *b = json_object();
	if (w->known) {
		json_object_set_new(b, "image_id", str_or_null(w->image_id));
		json_object_set_new(b, "container_id", str_or_null(w->id));
	}
	json_object_set_new(b, "base_commit", str_or_null(w->base_commit));
	json_object_set_new(b, "app_folder", json_string(env->app));
	json_object_set_new(b, "timeout_s", json_integer(env->timeout_s));
	grade_basis_set_markers(b, env->cfg);
	json_object_set_new(b, "command",
			    str_or_null(json_str(env->conf, "command")));
	json_object_set_new(b, "pre_patch", str_or_null(pre_patch));
	json_object_set_new(b, "patch", str_or_null(patch));
	json_object_set_new(b, "held_out_tests", str_or_null(held_out));
	json_object_set_new(b, "task_sync", json_string(TASK_SYNC_VERSION));
	return b;
}

void grade_basis_set_markers(json_t *basis, const struct config *cfg)
{
	json_object_set_new(basis, "pass_marker",
			    str_or_null(config_get(cfg, CFG_PASS_MARKER)));
	json_object_set_new(basis, "fail_marker",
			    str_or_null(config_get(cfg, CFG_FAIL_MARKER)));
	json_object_set_new(basis, "timeout_marker",
			    str_or_null(config_get(cfg, CFG_TIMEOUT_MARKER)));
}

json_t *grade_basis_today(const struct grade_basis_env *env, const char *key)
{
	char pre[SHA256_HEX_LEN + 1], own[SHA256_HEX_LEN + 1];
	char held[SHA256_HEX_LEN + 1];
	struct grade_where w;
	int has_pre, has_own, has_held;

	/* each: the content hash of a regular file, or none (or unreadable) */
	grade_basis_where(env, key, &w);
	has_pre = hash_memo_sha(env->files, env->base,
				grade_basis_pre_patch(env->conf), pre);
	has_own = hash_memo_sha(env->files, env->base,
				grade_basis_patch(env->conf, key), own);
	has_held = hash_memo_sha(env->files, env->base,
				 step_held_out_patch_memo(env->files, env->base,
							  env->conf),
				 held);
	return grade_basis_make(env, &w, has_pre ? pre : NULL,
				has_own ? own : NULL, has_held ? held : NULL);
}

/* the fields compared, in the order a reason names them */
static const struct {
	const char *key, *label;
} fields[] = {
	{ "image_id", "image" },
	{ "container_id", "container" },
	{ "base_commit", "base commit" },
	{ "app_folder", "app folder" },
	{ "timeout_s", "timeout" },
	{ "pass_marker", "PASS_MARKER" },
	{ "fail_marker", "FAIL_MARKER" },
	{ "timeout_marker", "TIMEOUT_MARKER" },
	{ "command", "command" },
	{ "patch", "patch" },
	{ "pre_patch", "pre_patch" },
	{ "held_out_tests", "held-out tests" },
	{ "task_sync", "task-sync version" },
};

/* a hash or an ID: "sha256:" and 12 hex digits, or 12 hex digits */
static int is_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") >= n;
}

static void show_value(struct strbuf *sb, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n;

	if (!v || json_is_null(v)) {
		strbuf_addstr(sb, "none");
		return;
	}
	if (json_is_integer(v)) {
		strbuf_addf(sb, "%lld s", (long long)json_integer_value(v));
		return;
	}
	if (!s) {
		strbuf_addstr(sb, "?");
		return;
	}
	n = strlen(s);
	if (n > 7 + 12 && !strncmp(s, "sha256:", 7) && is_hex(s + 7, n - 7)) {
		strbuf_add(sb, s, 7 + 12);
		strbuf_addstr(sb, "…");
	} else if (n >= 40 && is_hex(s, n)) {
		strbuf_add(sb, s, 12);
		strbuf_addstr(sb, "…");
	} else if (n > 40) {
		strbuf_addch(sb, '\'');
		strbuf_add(sb, s, 37);
		strbuf_addstr(sb, "…'");
	} else {
		strbuf_addf(sb, "'%s'", s);
	}
}

char *grade_basis_diff(const json_t *old, const json_t *now)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (!json_is_object(old))
		return xstrdup("no record of what decided it");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const json_t *b = json_object_get(now, fields[i].key);
		const json_t *a = json_object_get(old, fields[i].key);
		if (!b || json_equal(a ? a : json_null(), b))
			continue;
		if (sb.len)
			strbuf_addstr(&sb, ", ");
		strbuf_addf(&sb, "%s ", fields[i].label);
		show_value(&sb, a);
		strbuf_addstr(&sb, " → ");
		show_value(&sb, b);
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

char *grade_basis_stale(const struct grade_basis_env *env, const char *key,
			const json_t *entry)
{
	json_t *now = grade_basis_today(env, key);
	char *why = grade_basis_diff(json_object_get(entry, "basis"), now);
	json_decref(now);
	return why;
}
