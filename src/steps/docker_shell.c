/*
 * docker_shell: run labelled shell commands in an existing, running
 * container. It never creates or starts containers.
 *
 * The container: container_id / container_name (at the top of the type
 * object or under its "docker" object), else a dependency's results
 * (container_id / container_name of docker_run, the first of
 * docker_pool's containers), else a running container of image_tag
 * (docker ps --filter ancestor=...) whose image ID is image_id when
 * that is given. A container the settings name, or one found by its
 * image, is used only when it carries no task-sync label (the user's
 * own) or is this database's and this task's (steps/owner.h): the
 * step never runs commands in another database's or task's container.
 *
 * command: an array of {label: "shell command"} objects (plain strings
 * are labelled cmd1..N), run in array order, each as
 *   docker exec C sh -c 'echo $$ >PGIDFILE; exec timeout -k 5 LIMIT sh -c "$1"' _ CMD
 * All commands run; the step fails when any failed. LIMIT is
 * timeout_seconds, else TIMEOUT_SECONDS from task.conf. The exec'd
 * shell is its process group leader, so timeout(1) kills the whole
 * group; the host keeps its own deadline (LIMIT + 10 s), and after a
 * timeout the container is swept: every process outside session 1 (the
 * init and main command) and the sweeper's own is killed, so nothing
 * the command started keeps running (docs/environment.md §6).
 *
 * No inspect before the first exec when a dependency's results (or the
 * image_tag search) give the container's ID and name; when they give
 * one half only, a thread inspects for the other while the first
 * command runs, and that inspect's failure to reach the daemon stops
 * the exec. A container_id or container_name from the settings is
 * inspected first (whose is it?), and the commands run in the ID that
 * inspect saw. An exec that
 * fails with the daemon's own error ("No such container", "is not
 * running") is checked with an inspect, so the failure names the
 * container and its state.
 *
 * Results: outputs [{label, exit_code, output, duration_ms[,
 * timed_out]}], container_id, container_name.
 */
#include "steps/step.h"
#include "steps/owner.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_CAP (16 * 1024)
#define HOST_MARGIN_S 10

static const char sweep_script[] =
	"me=$$; ps -eo pid=,sid= | while read -r p s; do "
	"[ \"$s\" = 1 ] || [ \"$s\" = \"$me\" ] || kill -KILL \"$p\" "
	"2>/dev/null; done; exit 0";

static const char *first_str(const json_t *o, const char *a, const char *b)
{
	const char *v = json_str(o, a);
	if (v && *v)
		return v;
	v = b ? json_str(o, b) : NULL;
	return v && *v ? v : NULL;
}

/* the container to use: ref for docker, id and name when known */
struct target {
	char *ref, *id, *name;
	int named; /* by the settings: inspected before use */
};

static void target_release(struct target *t)
{
	free(t->ref);
	free(t->id);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/*
 * A running container of tag (with image ID want, when set) that is
 * this task's or nobody's; another database's or task's is skipped.
 */
static int by_image(struct step_exec *x, const char *db, const char *tag,
		    const char *want, struct target *t, struct strbuf *err)
{
	struct strvec a = STRVEC_INIT;
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	char *line, *nl;
	size_t foreign = 0;
	int rc;

	strvec_pushl(&a, "ps", "--no-trunc", "--filter", "status=running",
		     "--filter", NULL);
	strvec_pushf(&a, "ancestor=%s", tag);
	strvec_pushl(&a, "--format",
		     "{{.ID}}\t{{.Label \"" DOCKER_LABEL_DB
		     "\"}}\t{{.Label \"" DOCKER_LABEL_TASK
		     "\"}}\t{{.Label \"" DOCKER_LABEL_STEP "\"}}\t{{.Names}}",
		     NULL);
	rc = docker_call(&a, DOCKER_QUICK_MS, &o, &why);
	strvec_clear(&a);
	if (rc) {
		strbuf_addf(err, "cannot list containers of %s: %s", tag,
			    why.buf);
		goto out;
	}
	for (line = o.buf; *line && !t->ref; line = nl) {
		struct docker_container c;
		const char *w = want, *h, *f[5];
		char *whose = NULL, *p = line;
		int k;
		nl = line + strcspn(line, "\n");
		if (*nl)
			*nl++ = '\0';
		if (!*line)
			continue;
		for (k = 0; k < 5; k++) {
			f[k] = p;
			p += strcspn(p, "\t");
			if (*p)
				*p++ = '\0';
		}
		if (owner_check_labels(x, db, f[1], f[2], f[3], OWNER_USER_OK,
				       &whose)) {
			free(whose);
			foreign++;
			continue;
		}
		if (!w) {
			if (*f[4] && !strchr(f[4], ','))
				t->name = xstrdup(f[4]);
			t->ref = xstrdup(f[0]);
			t->id = xstrdup(f[0]);
			break;
		}
		if (docker_inspect_container(f[0], &c, NULL) != 1)
			continue;
		h = c.image;
		if (!strncmp(w, "sha256:", 7))
			w += 7;
		if (!strncmp(h, "sha256:", 7))
			h += 7;
		if (strlen(w) >= 12 && !strncmp(h, w, strlen(w))) {
			t->ref = xstrdup(c.id);
			t->id = xstrdup(c.id);
			t->name = xstrdup(c.name);
		}
		docker_container_release(&c);
	}
	if (!t->ref)
		strbuf_addf(
			err, "no running container of %s%s%s%s", tag,
			want ? " with image ID " : "", want ? want : "",
			foreign ? " that is this task's or nobody's "
				  "(those of other databases or tasks are never "
				  "used)"
				: "");
out:
	strbuf_release(&o);
	strbuf_release(&why);
	return t->ref ? 0 : -1;
}

/* which container to use: 0, or -1 with the reason appended to err */
static int find_container(struct step_exec *x, const char *db, struct target *t,
			  struct strbuf *err)
{
	const json_t *d = json_object_get(x->conf, "docker");
	const char *v, *tag, *want;
	json_t *deps, *e;
	size_t i;

	if ((v = first_str(x->conf, "container_id", "container_name")) ||
	    (v = first_str(d, "container_id", "container_name"))) {
		/* the rest comes from an inspect */
		t->ref = xstrdup(v);
		t->named = 1;
		return 0;
	}
	deps = step_dependency_results(x);
	json_array_foreach(deps, i, e)
	{
		const json_t *r = json_object_get(e, "results");
		const json_t *list = json_object_get(r, "containers");
		if (!first_str(r, "container_id", "container_name"))
			r = json_array_get(list, 0);
		if ((v = first_str(r, "container_id", "container_name"))) {
			const char *id = first_str(r, "container_id", NULL);
			const char *name = first_str(r, "container_name", NULL);
			t->ref = xstrdup(v);
			/* task-sync recorded both: no inspect needed */
			if (id && name) {
				t->id = xstrdup(id);
				t->name = xstrdup(name);
			}
			break;
		}
	}
	json_decref(deps);
	if (t->ref)
		return 0;
	tag = first_str(x->conf, "image_tag", NULL);
	if (!tag)
		tag = first_str(d, "image_tag", NULL);
	want = first_str(x->conf, "image_id", NULL);
	if (!want)
		want = first_str(d, "image_id", NULL);
	if (tag)
		return by_image(x, db, tag, want, t, err);
	strbuf_addstr(err, "no container: set container_name or container_id, "
			   "depend on a docker_run or docker_pool step, or set "
			   "image_tag");
	return -1;
}

/*
 * The inspect that runs beside the first exec when the settings name
 * the container: it gives the ID and name for the results, and when it
 * cannot reach the daemon it sets cancel, which stops the exec.
 */
struct lookup {
	pthread_t thread;
	int started;
	const char *ref;
	struct docker_container c;
	int r;             /* 1 found, 0 no such container, -1 error */
	struct strbuf err; /* why, when r < 0 */
	_Atomic int cancel;
};

static void *lookup_main(void *arg)
{
	struct lookup *l = arg;
	l->r = docker_inspect_container(l->ref, &l->c, &l->err);
	if (l->r < 0)
		atomic_store(&l->cancel, 1);
	return NULL;
}

static void lookup_start(struct lookup *l, const char *ref)
{
	l->ref = ref;
	atomic_store(&l->cancel, 0);
	if (!pthread_create(&l->thread, NULL, lookup_main, l)) {
		l->started = 1;
		return;
	}
	lookup_main(l); /* no thread: inspect first */
}

static void lookup_join(struct lookup *l)
{
	if (l->started)
		pthread_join(l->thread, NULL);
	l->started = 0;
}

/* the exec failed with the daemon's words, not the command's */
static int exec_refused(int r, const struct strbuf *out)
{
	return r == 1 &&
	       (!strncmp(out->buf, "Error response from daemon:", 27) ||
		!strncmp(out->buf, "Error: No such container", 24));
}

struct cmd {
	char *label;
	const char *text; /* borrowed from the settings */
};

static int parse_commands(const json_t *cmd, struct cmd **out, size_t *nr,
			  struct strbuf *err)
{
	struct cmd *v = NULL;
	size_t n = 0, alloc = 0, i;
	const char *key;
	json_t *e, *val;

	*out = NULL;
	*nr = 0;
	if (json_is_string(cmd)) {
		v = xcalloc(1, sizeof(*v));
		v[0].label = xstrdup("cmd1");
		v[0].text = json_string_value(cmd);
		*out = v;
		*nr = 1;
		return 0;
	}
	if (!json_is_array(cmd) || !json_array_size(cmd)) {
		strbuf_addstr(err,
			      "docker_shell.command must be a non-empty array "
			      "of {\"label\": \"shell command\"} objects");
		return -1;
	}
	json_array_foreach(cmd, i, e)
	{
		if (json_is_string(e)) {
			ALLOC_GROW(v, n + 1, alloc);
			v[n].label = xstrfmt("cmd%zu", i + 1);
			v[n++].text = json_string_value(e);
			continue;
		}
		if (!json_is_object(e) || !json_object_size(e)) {
			strbuf_addf(err,
				    "docker_shell.command[%zu] must be a "
				    "{\"label\": \"shell command\"} object "
				    "or a string",
				    i);
			goto fail;
		}
		json_object_foreach(e, key, val)
		{
			if (!json_is_string(val)) {
				strbuf_addf(err,
					    "docker_shell.command[%zu].%s "
					    "must be a string",
					    i, key);
				goto fail;
			}
			ALLOC_GROW(v, n + 1, alloc);
			v[n].label = xstrdup(key);
			v[n++].text = json_string_value(val);
		}
	}
	*out = v;
	*nr = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(v[i].label);
	free(v);
	return -1;
}

static void sweep(struct step_exec *x, const char *cid, const char *pgid_file,
		  int kill_group)
{
	struct strbuf o = STRBUF_INIT;
	if (kill_group)
		/* the host deadline passed: timeout(1) itself may be stuck */
		docker_callv(&o, NULL, DOCKER_QUICK_MS, "exec", cid, "sh", "-c",
			     "[ -s \"$1\" ] && kill -KILL -\"$(cat \"$1\")\" "
			     "2>/dev/null; exit 0",
			     "_", pgid_file, NULL);
	docker_callv(&o, NULL, DOCKER_QUICK_MS, "exec", cid, "sh", "-c",
		     sweep_script, NULL);
	docker_callv(&o, NULL, DOCKER_QUICK_MS, "exec", cid, "rm", "-f",
		     pgid_file, NULL);
	fprintf(x->out, "  swept container %.12s after the timeout\n", cid);
	strbuf_release(&o);
}

static long limit_of(struct step_exec *x)
{
	const json_t *t = json_object_get(x->conf, "timeout_seconds");
	if (json_is_integer(t) && json_integer_value(t) > 0)
		return (long)json_integer_value(t);
	if (x->cfg && x->cfg->timeout_seconds > 0)
		return x->cfg->timeout_seconds;
	return 120;
}

/*
 * After the first exec: 0 to go on, or -1 with the step's failure set
 * when the container is missing, stopped, or the daemon cannot be
 * reached. refused: the exec itself failed with the daemon's error.
 */
static int check_container(struct step_exec *x, struct target *t,
			   struct lookup *l, int need_lookup, int refused)
{
	if (refused && !need_lookup) {
		l->r = docker_inspect_container(t->ref, &l->c, &l->err);
	}
	if ((need_lookup || refused) && l->r < 0) {
		step_set_result(x, "failure",
				"cannot inspect container '%s': "
				"%s",
				t->ref, l->err.buf);
		return -1;
	}
	if (refused && l->r == 0) {
		step_set_result(x, "failure", "container '%s' does not exist",
				t->ref);
		return -1;
	}
	if (refused && !l->c.running) {
		step_set_result(x, "failure",
				"container '%s' is not running "
				"(exited with code %d)",
				l->c.name, l->c.exit_code);
		return -1;
	}
	if (l->r == 1 && (!t->id || !t->name)) {
		free(t->id);
		free(t->name);
		t->id = xstrdup(l->c.id);
		t->name = xstrdup(l->c.name);
	}
	/* it ran the command, then vanished: keep what we know */
	if (!t->id)
		t->id = xstrdup(t->ref);
	if (!t->name)
		t->name = xstrdup(t->ref);
	return 0;
}

/*
 * A container the settings name: inspected before anything runs in
 * it, and refused when it is another database's or task's. 0, or -1
 * with the step's failure set.
 */
static int check_named(struct step_exec *x, const char *db, struct target *t)
{
	struct docker_container c = { 0 };
	struct strbuf why = STRBUF_INIT;
	int r = owner_inspect_user(x, db, t->ref, &c, &why);

	if (r < 0)
		step_set_result(x, "failure", "%s", why.buf);
	else if (!r)
		step_set_result(x, "failure", "container '%s' does not exist",
				t->ref);
	else if (!c.running)
		step_set_result(x, "failure",
				"container '%s' is not running "
				"(exited with code %d)",
				c.name, c.exit_code);
	if (r == 1 && c.running) {
		t->id = xstrdup(c.id);
		t->name = xstrdup(c.name);
	}
	if (r == 1)
		docker_container_release(&c);
	strbuf_release(&why);
	return r == 1 && t->id ? 0 : -1;
}

static int shell_run(struct step_exec *x)
{
	struct target t = { 0 };
	struct lookup l = { .err = STRBUF_INIT };
	struct cmd *cmds = NULL;
	struct strbuf failed = STRBUF_INIT, why = STRBUF_INIT;
	json_t *outputs = json_array();
	const char *workdir = json_str(x->conf, "workdir");
	struct strbuf err = STRBUF_INIT;
	const char *db = NULL;
	long limit = limit_of(x);
	size_t nr = 0, i, nfailed = 0;
	int r, broken = 0, need_lookup;

	if (parse_commands(json_object_get(x->conf, "command"), &cmds, &nr,
			   &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	if (!(db = owner_db(x)))
		goto out;
	if (find_container(x, db, &t, &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	if (t.named && check_named(x, db, &t))
		goto out;
	need_lookup = !t.id || !t.name;
	if (need_lookup)
		lookup_start(&l, t.ref);

	for (i = 0; i < nr; i++) {
		struct proc p = PROC_INIT;
		json_t *e;
		char *pgid_file = xstrfmt("/tmp/task-sync-shell-%lld-%zu.pgid",
					  x->step->id, i + 1);
		int timed_out = 0;

		if (broken) {
			e = json_object();
			json_object_set_new(e, "label",
					    json_string(cmds[i].label));
			json_object_set_new(e, "exit_code", json_null());
			json_object_set_new(e, "output",
					    json_string(
						    "not run: "
						    "docker is not usable"));
			strbuf_addf(&failed, "%s (not run); ", cmds[i].label);
			nfailed++;
			json_array_append_new(outputs, e);
			free(pgid_file);
			continue;
		}
		fprintf(x->out, "  [%s] %s\n", cmds[i].label, cmds[i].text);
		docker_proc_init(&p);
		strvec_push(&p.argv, "exec");
		if (workdir && *workdir)
			strvec_pushl(&p.argv, "-w", workdir, NULL);
		strvec_pushl(&p.argv, t.id ? t.id : t.ref, "sh", "-c", NULL);
		strvec_pushf(&p.argv,
			     "echo $$ > %s; exec timeout -k 5 %ld "
			     "sh -c \"$1\"",
			     pgid_file, limit);
		strvec_pushl(&p.argv, "_", cmds[i].text, NULL);
		p.capture_cap = OUTPUT_CAP;
		if (l.started)
			p.cancel = &l.cancel;
		r = docker_exec_proc(&p, (limit + HOST_MARGIN_S) * 1000, &why);
		if (i == 0) {
			lookup_join(&l);
			/* Ctrl-C is no refusal: keep what the command said */
			if (check_container(x, &t, &l, need_lookup,
					    (r < 0 && !p.interrupted) ||
						    exec_refused(r, &p.out))) {
				proc_release(&p);
				free(pgid_file);
				goto out;
			}
		}
		e = json_object();
		json_object_set_new(e, "label", json_string(cmds[i].label));
		if (r < 0) {
			broken = 1;
			json_object_set_new(e, "exit_code", json_null());
			json_object_set_new(e, "output", json_string(why.buf));
			strbuf_addf(&failed, "%s (%s); ", cmds[i].label,
				    why.buf);
		} else {
			/* 124/137 alone could be the command's own code */
			timed_out = p.timed_out ||
				    ((r == 124 || r == 137) &&
				     p.duration_ms >= limit * 1000 - 100);
			json_object_set_new(e, "exit_code", json_integer(r));
			json_object_set_new(e, "output",
					    json_string(p.out.buf));
			if (timed_out) {
				json_object_set_new(e, "timed_out",
						    json_true());
				json_object_set_new(e, "timeout_seconds",
						    json_integer(limit));
				strbuf_addf(&failed,
					    "%s (TIMEOUT after %lld s); ",
					    cmds[i].label,
					    (p.duration_ms + 500) / 1000);
			} else if (r) {
				strbuf_addf(&failed, "%s (exit %d); ",
					    cmds[i].label, r);
			}
			x->exit_code = r;
		}
		if (r)
			nfailed++;
		json_object_set_new(e, "duration_ms",
				    json_integer(p.duration_ms));
		strbuf_addf(&x->log, "== %s (%s) ==\n", cmds[i].label,
			    timed_out ? "timed out"
			    : r       ? "failed"
				      : "ok");
		strbuf_add(&x->log, p.out.buf, p.out.len);
		if (p.out.len && p.out.buf[p.out.len - 1] != '\n')
			strbuf_addch(&x->log, '\n');
		json_array_append_new(outputs, e);
		if (timed_out)
			sweep(x, t.id, pgid_file, p.timed_out);
		proc_release(&p);
		free(pgid_file);
	}
	if (nfailed) {
		strbuf_setlen(&failed, failed.len - 2);
		step_set_result(x, "failure",
				"%zu of %zu commands failed in %s: "
				"%s",
				nfailed, nr, t.name, failed.buf);
	} else {
		step_set_result(x, "success", "%zu command%s ran in %s", nr,
				nr == 1 ? "" : "s", t.name);
		x->exit_code = 0;
	}
	json_object_set(x->results, "outputs", outputs);
	json_object_set_new(x->results, "container_id", json_string(t.id));
	json_object_set_new(x->results, "container_name", json_string(t.name));
out:
	lookup_join(&l);
	for (i = 0; i < nr; i++)
		free(cmds[i].label);
	free(cmds);
	docker_container_release(&l.c);
	strbuf_release(&l.err);
	target_release(&t);
	strbuf_release(&failed);
	strbuf_release(&why);
	json_decref(outputs);
	strbuf_release(&err);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key docker_shell_keys[] = {
	{ "docker", SK_OBJECT, 0 },
	{ "command", SK_STRING | SK_ARRAY, SK_STRING | SK_OBJECT },
	{ "timeout_seconds", SK_INTEGER, 0 },
	{ "workdir", SK_STRING, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_shell = {
	.keys = docker_shell_keys,
	.name = "docker_shell",
	.run = shell_run,
};
