#include "os/docker.h"
#include "os/error.h"
#include "os/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *docker_bin(void)
{
	const char *b = getenv("TASK_SYNC_DOCKER");
	return b && *b ? b : "docker";
}

void docker_proc_init(struct proc *p)
{
	strvec_push(&p->argv, docker_bin());
	/* the legacy builder's deprecation notice only clutters logs */
	strvec_push(&p->env, "DOCKER_CLI_HINTS=false");
}

/* where OUT says the daemon is down, or NULL */
static const char *daemon_down(const char *out)
{
	static const char *const says[] = {
		"Cannot connect to the Docker daemon",
		"error during connect",
		"Is the docker daemon running",
	};
	const char *at;
	size_t i;

	for (i = 0; i < sizeof(says) / sizeof(*says); i++)
		if ((at = strstr(out, says[i])))
			return at;
	return NULL;
}

/*
 * The line of OUT at AT (NULL: OUT's first line that says something: an
 * inspect prints "[]" before its error, and stdout and stderr are one
 * stream here) into BUF.
 */
static void line_at(const char *out, const char *at, char *buf, size_t n)
{
	size_t len;

	if (at) {
		while (at > out && at[-1] != '\n')
			at--;
	} else {
		at = out;
		while (*at == '\n' || !strncmp(at, "[]\n", 3))
			at += *at == '\n' ? 1 : 3;
	}
	len = strcspn(at, "\n");
	if (len >= n)
		len = n - 1;
	memcpy(buf, at, len);
	buf[len] = '\0';
}

long docker_quick_ms(void)
{
	const char *v = getenv("TASK_SYNC_DOCKER_TIMEOUT_MS");
	char *end;
	long ms;

	if (!v || !*v)
		return 60000L;
	ms = strtol(v, &end, 10);
	return *end || ms <= 0 ? 60000L : ms;
}

static int call_proc(struct proc *p, long timeout_ms, int own_deadline,
		     struct strbuf *err)
{
	char line[512];
	const char *down;

	p->timeout_ms = timeout_ms;
	if (err)
		strbuf_reset(err);
	if (proc_run(p) < 0)
		return error_into(err, "docker not available: cannot run '%s'",
				  p->argv.v[0]);
	if (p->timed_out && own_deadline)
		return p->exit_code;
	if (p->timed_out)
		return error_into(err,
				  "docker daemon not reachable: 'docker %s' "
				  "did not answer within %ld s",
				  p->argv.nr > 1 ? p->argv.v[1] : "",
				  timeout_ms / 1000);
	if (p->interrupted)
		return -1;
	if (p->exit_code && (down = daemon_down(p->out.buf))) {
		line_at(p->out.buf, down, line, sizeof(line));
		return error_into(err, "docker daemon not reachable: %s", line);
	}
	if (p->exit_code && err) {
		line_at(p->out.buf, NULL, line, sizeof(line));
		strbuf_addstr(err, line);
	}
	return p->exit_code;
}

int docker_call_proc(struct proc *p, long timeout_ms, struct strbuf *err)
{
	return call_proc(p, timeout_ms, 0, err);
}

int docker_exec_proc(struct proc *p, long timeout_ms, struct strbuf *err)
{
	return call_proc(p, timeout_ms, 1, err);
}

int docker_call(const struct strvec *args, long timeout_ms, struct strbuf *out,
		struct strbuf *err)
{
	struct proc p = PROC_INIT;
	int ret;

	docker_proc_init(&p);
	strvec_pushv(&p.argv, (const char *const *)args->v);
	ret = docker_call_proc(&p, timeout_ms, err);
	if (out) {
		strbuf_reset(out);
		strbuf_add(out, p.out.buf, p.out.len);
	}
	proc_release(&p);
	return ret;
}

int docker_callv(struct strbuf *out, struct strbuf *err, long timeout_ms, ...)
{
	struct strvec args = STRVEC_INIT;
	const char *a;
	va_list ap;
	int ret;

	va_start(ap, timeout_ms);
	while ((a = va_arg(ap, const char *)))
		strvec_push(&args, a);
	va_end(ap);
	ret = docker_call(&args, timeout_ms, out, err);
	strvec_clear(&args);
	return ret;
}

void docker_labels(struct strvec *args, const char *db, long long task_id,
		   long long step_id)
{
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%s", DOCKER_LABEL_DB, db);
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%lld", DOCKER_LABEL_TASK, task_id);
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%lld", DOCKER_LABEL_STEP, step_id);
}

static int no_such(const char *out)
{
	return strstr(out, "No such") || strstr(out, "no such");
}

/*
 * An inspect that failed with out and the reason why: 0 when ref does
 * not exist (the answer "no"), else -1
 */
static int inspect_failed(const char *what, const char *ref, const char *out,
			  const char *why)
{
	if (no_such(out))
		return 0;
	return error("%s '%s': %s", what, ref, why);
}

int docker_image_id(const char *ref, char **id, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, local = STRBUF_INIT;
	struct strbuf *why = err ? err : &local;
	int ret;

	*id = NULL;
	ret = docker_callv(&out, why, DOCKER_QUICK_MS, "image", "inspect",
			   "--format", "{{.Id}}", ref, NULL);
	if (ret > 0) {
		ret = inspect_failed("docker image inspect", ref, out.buf,
				     why->buf);
	} else if (!ret) {
		strbuf_trim(&out);
		*id = strbuf_detach(&out, NULL);
		ret = 1;
	}
	strbuf_release(&out);
	strbuf_release(&local);
	return ret;
}

/* "host:5000/a/b:tag" and "host:5000/a/b@sha256:..." are "host:5000/a/b" */
static size_t repo_len(const char *ref)
{
	const char *at = strchr(ref, '@');
	const char *slash = strrchr(ref, '/');
	const char *colon;
	size_t n = at ? (size_t)(at - ref) : strlen(ref);

	colon = memrchr(ref, ':', n);
	if (colon && (!slash || colon > slash))
		n = (size_t)(colon - ref);
	return n;
}

int docker_repo_digest(const char *id, const char *tag, char **digest,
		       struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, local = STRBUF_INIT;
	struct strbuf *why = err ? err : &local;
	size_t n = repo_len(tag), i;
	json_t *j = NULL, *v;
	int ret;

	*digest = NULL;
	ret = docker_callv(&out, why, DOCKER_QUICK_MS, "image", "inspect",
			   "--format", "{{json .RepoDigests}}", id, NULL);
	if (ret > 0)
		ret = inspect_failed("docker image inspect", id, out.buf,
				     why->buf);
	if (ret)
		goto out;
	j = json_loads(out.buf, 0, NULL);
	json_array_foreach(j, i, v)
	{
		const char *d = json_string_value(v);
		if (d && repo_len(d) == n && !strncmp(d, tag, n) &&
		    d[n] == '@') {
			*digest = xstrdup(d);
			ret = 1;
			break;
		}
	}
out:
	json_decref(j);
	strbuf_release(&out);
	strbuf_release(&local);
	return ret;
}

static const char *str_or_empty(const json_t *j)
{
	const char *s = json_string_value(j);
	return s ? s : "";
}

static long long label_num(json_t *labels, const char *key)
{
	const char *v = json_string_value(json_object_get(labels, key));
	return v ? strtoll(v, NULL, 10) : 0;
}

/* fill c from one container's `docker container inspect` object */
static void container_from_json(struct docker_container *c, json_t *j)
{
	json_t *o, *labels;
	const char *name;

	c->id = xstrdup(str_or_empty(json_object_get(j, "Id")));
	name = str_or_empty(json_object_get(j, "Name"));
	c->name = xstrdup(name[0] == '/' ? name + 1 : name);
	c->image = xstrdup(str_or_empty(json_object_get(j, "Image")));
	o = json_object_get(j, "State");
	c->running = json_is_true(json_object_get(o, "Running"));
	c->exit_code = (int)json_integer_value(json_object_get(o, "ExitCode"));
	labels = json_object_get(json_object_get(j, "Config"), "Labels");
	c->task_label = label_num(labels, DOCKER_LABEL_TASK);
	c->step_label = label_num(labels, DOCKER_LABEL_STEP);
	name = json_string_value(json_object_get(labels, DOCKER_LABEL_ROLE));
	c->role_label = name ? xstrdup(name) : NULL;
	name = json_string_value(json_object_get(labels, DOCKER_LABEL_DB));
	c->db_label = name ? xstrdup(name) : NULL;
	c->labels = json_is_object(labels) ? json_deep_copy(labels)
					   : json_object();
}

/*
 * Which of refs[0..n-1] not found yet names c: its name or ID, else a
 * prefix of its ID (docker's order); n when none
 */
static size_t ref_of(const char *const *refs, size_t n, const int *found,
		     const struct docker_container *c)
{
	size_t i, len;

	for (i = 0; i < n; i++)
		if (!found[i] &&
		    (!strcmp(refs[i], c->name) || !strcmp(refs[i], c->id)))
			return i;
	for (i = 0; i < n; i++) {
		len = strlen(refs[i]);
		if (!found[i] && len && !strncmp(c->id, refs[i], len))
			return i;
	}
	return n;
}

int docker_inspect_containers(const char *const *refs, size_t n,
			      struct docker_container *c, int *found,
			      struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, local = STRBUF_INIT;
	struct strbuf *why = err ? err : &local;
	struct strvec a = STRVEC_INIT;
	const char *line, *nl;
	size_t i, missing = 0;
	int ret;

	memset(c, 0, n * sizeof(*c));
	memset(found, 0, n * sizeof(*found));
	strvec_pushl(&a, "container", "inspect", "--format", "{{json .}}",
		     NULL);
	for (i = 0; i < n; i++)
		strvec_push(&a, refs[i]);
	ret = docker_call(&a, DOCKER_QUICK_MS, &out, why);
	if (ret < 0)
		goto out;
	/*
	 * One JSON line per container found, in any order with the "No such
	 * container" lines of those not found (stdout and stderr are one
	 * stream); any other line of a failed call is a failure.
	 */
	for (line = out.buf; *line; line = *nl ? nl + 1 : nl) {
		struct docker_container one = { 0 };
		json_t *j;

		nl = strchrnul(line, '\n');
		if (nl == line)
			continue;
		if (*line != '{') {
			char *l = xstrndup(line, (size_t)(nl - line));
			int gone = no_such(l);

			missing += gone;
			if (ret && !gone)
				ret = error_into(why,
						 "docker inspect '%s'%s: %s",
						 refs[0],
						 n > 1 ? " and others" : "", l);
			free(l);
			if (ret < 0)
				goto out;
			continue;
		}
		j = json_loadb(line, (size_t)(nl - line), 0, NULL);
		if (!j) {
			ret = error_into(
				why, "docker inspect '%s'%s: unreadable output",
				refs[0], n > 1 ? " and others" : "");
			goto out;
		}
		container_from_json(&one, j);
		json_decref(j);
		i = ref_of(refs, n, found, &one);
		if (i < n) {
			c[i] = one;
			found[i] = 1;
		} else {
			docker_container_release(&one);
		}
	}
	/* a failed call must say why: which containers are missing */
	if (ret && !missing) {
		char *first = xstrdup(why->len ? why->buf : "failed");
		ret = error_into(why, "docker inspect '%s'%s: %s", refs[0],
				 n > 1 ? " and others" : "", first);
		free(first);
	} else {
		ret = 0;
	}
out:
	if (ret < 0)
		for (i = 0; i < n; i++)
			if (found[i]) {
				docker_container_release(&c[i]);
				found[i] = 0;
			}
	strvec_clear(&a);
	strbuf_release(&out);
	strbuf_release(&local);
	return ret;
}

int docker_inspect_container(const char *ref, struct docker_container *c,
			     struct strbuf *err)
{
	int found;

	if (docker_inspect_containers(&ref, 1, c, &found, err) < 0)
		return -1;
	return found;
}

void docker_container_release(struct docker_container *c)
{
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->role_label);
	free(c->db_label);
	json_decref(c->labels);
	memset(c, 0, sizeof(*c));
}

const char *docker_container_label(const struct docker_container *c,
				   const char *key)
{
	return json_string_value(json_object_get(c->labels, key));
}

int docker_wait_exit(const char *ref, long ms, int *code, struct strbuf *err)
{
	struct proc p = PROC_INIT;
	struct strbuf local = STRBUF_INIT;
	struct strbuf *why = err ? err : &local;
	int ret;

	*code = -1;
	docker_proc_init(&p);
	strvec_pushl(&p.argv, "wait", ref, NULL);
	/* the deadline is ours: a container still running is no error */
	ret = docker_exec_proc(&p, ms, why);
	if (ret >= 0 && p.timed_out) {
		ret = 0;
	} else if (ret == 0) {
		strbuf_trim(&p.out);
		*code = (int)strtol(p.out.buf, NULL, 10);
		ret = 1;
	} else if (ret > 0) {
		ret = error("docker wait '%s': %s", ref, why->buf);
	}
	proc_release(&p);
	strbuf_release(&local);
	return ret;
}

int docker_remove(const char *ref, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, local = STRBUF_INIT;
	struct strbuf *why = err ? err : &local;
	int ret =
		docker_callv(&out, why, DOCKER_QUICK_MS, "rm", "-f", ref, NULL);
	if (ret > 0 && no_such(out.buf))
		ret = 0;
	if (ret > 0)
		ret = error("docker rm -f '%s': %s", ref, why->buf);
	strbuf_release(&out);
	strbuf_release(&local);
	return ret;
}

char *docker_replace_imagetag(const char *s, const char *tag)
{
	struct strbuf sb = STRBUF_INIT;
	const char *hit;
	while ((hit = strstr(s, DOCKER_IMAGETAG))) {
		strbuf_add(&sb, s, (size_t)(hit - s));
		strbuf_addstr(&sb, tag);
		s = hit + strlen(DOCKER_IMAGETAG);
	}
	strbuf_addstr(&sb, s);
	return strbuf_detach(&sb, NULL);
}

static void add_param(struct strvec *args, const char *s, const char *tag)
{
	char *a = tag ? docker_replace_imagetag(s, tag) : NULL;
	strvec_push(args, a ? a : s);
	free(a);
}

void docker_add_params(struct strvec *args, const json_t *params,
		       const char *tag)
{
	size_t i;
	json_t *v;

	if (json_is_string(params)) {
		add_param(args, json_string_value(params), tag);
		return;
	}
	json_array_foreach(params, i, v)
	{
		const char *s = json_string_value(v);
		const char *sp;
		if (!s)
			continue;
		sp = strchr(s, ' ');
		/* "--flag=a b" stays whole; "-e K=V" is split */
		if (s[0] == '-' && sp && !memchr(s, '=', (size_t)(sp - s))) {
			char *flag = xstrndup(s, (size_t)(sp - s));
			add_param(args, flag, tag);
			add_param(args, sp + 1, tag);
			free(flag);
		} else {
			add_param(args, s, tag);
		}
	}
}

char *text_tail(const char *s, size_t max)
{
	size_t n = strlen(s);
	const char *p;
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (n <= max)
		return xstrndup(s, n);
	p = s + n - max;
	while (*p && *p != '\n' && p < s + n)
		p++;
	if (*p == '\n')
		p++;
	return xstrndup(p, (size_t)(s + n - p));
}
