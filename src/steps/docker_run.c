/*
 * docker_run: start a container from an image and keep track of it.
 *
 * Settings: image_tag / image_id (also under "docker"; else a
 * docker_build or docker_pull dependency's image, else the task's
 * docker.image_id / image_tag), command (an array is the argv, a string
 * runs under `sh -c`), container_name (default tasksync_<db>_step<ID>,
 * db the first 8 hex digits of the database's identity),
 * parameters (extra `docker run` arguments; %%IMAGETAG%% is the image,
 * and an element that is exactly %%IMAGETAG%% splits options from
 * command arguments, as the original wrote them), keep_forever (keep it
 * up: --init, `--rm` dropped, `sleep infinity` when there is no
 * command).
 *
 * `--network none` is added unless the parameters pick a network or
 * publish ports. The container carries the step's labels (database,
 * task, step) and a spec label (a digest of what it was started with);
 * the step reuses it only when those labels are this database's and
 * this step's (steps/owner.h), it runs the same image with the same
 * spec, and it is running. A container with the name that is not this
 * step's is never touched: the step fails naming it and its owner.
 * A command that exits non-zero right away is a failure with the
 * container's last log lines, and the container is removed.
 *
 * Calls: `docker run -d` comes first; the ID it prints goes to the
 * results. Only a name conflict leads to an inspect (whose container
 * is it? is it up to date?), then to reuse, a failure, or `docker rm`
 * and a second run. A container with its own command is inspected once
 * SETTLE_MS after the start: exited is judged by its code, running is
 * what the daemon said then (never assumed from a wait that ran out).
 *
 * Results: container_id, container_name, image_id, state.
 */
#include "steps/step.h"
#include "steps/owner.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LABEL_SPEC "task-sync.spec"
/*
 * When a fresh container with its own command is looked at: a command
 * that exits before then failed "right away". The inspect itself comes
 * on top (a docker CLI call), so the daemon answers later than this.
 */
#define SETTLE_MS 150L

static int has_opt(const struct strvec *opts, const char *flag)
{
	size_t i;
	for (i = 0; i < opts->nr; i++)
		if (step_is_flag(opts->v[i], flag))
			return 1;
	return 0;
}

struct run_spec {
	struct strvec opts; /* docker run options from parameters */
	struct strvec cmd;  /* command after the image */
	int keep_forever;
	int own_keepalive; /* cmd is our `sleep infinity` */
};

/*
 * Split parameters into options and arguments, add the command, and
 * apply keep_forever. Returns 0, or -1 with the reason appended to err.
 */
static int build_spec(const json_t *conf, const char *ref, struct run_spec *rs,
		      struct strbuf *err)
{
	const json_t *cmd = json_object_get(conf, "command");
	struct strvec raw = STRVEC_INIT;
	int after_image = 0;
	size_t i;
	json_t *v;

	rs->keep_forever = json_is_true(json_object_get(conf, "keep_forever"));
	docker_add_params(&raw, json_object_get(conf, "parameters"), NULL);
	for (i = 0; i < raw.nr; i++) {
		char *a;
		if (!after_image && !strcmp(raw.v[i], DOCKER_IMAGETAG)) {
			after_image = 1;
			continue;
		}
		/* a kept container must survive stopping */
		if (!after_image && rs->keep_forever &&
		    !strcmp(raw.v[i], "--rm"))
			continue;
		a = docker_replace_imagetag(raw.v[i], ref);
		strvec_push(after_image ? &rs->cmd : &rs->opts, a);
		free(a);
	}
	strvec_clear(&raw);
	if (json_is_string(cmd) && *json_string_value(cmd)) {
		strvec_pushl(&rs->cmd, "sh", "-c", json_string_value(cmd),
			     NULL);
	} else if (json_is_array(cmd)) {
		json_array_foreach(cmd, i, v)
		{
			if (!json_is_string(v)) {
				strbuf_addf(err,
					    "docker_run.command[%zu] is not "
					    "a string",
					    i);
				return -1;
			}
			strvec_push(&rs->cmd, json_string_value(v));
		}
	} else if (cmd && !json_is_null(cmd) && !json_is_string(cmd)) {
		strbuf_addstr(err, "docker_run.command must be an array of "
				   "strings or a shell command string");
		return -1;
	}
	if (rs->keep_forever && !rs->cmd.nr) {
		strvec_pushl(&rs->cmd, "sleep", "infinity", NULL);
		rs->own_keepalive = 1;
	}
	return 0;
}

static char *default_name(struct step_exec *x, const char *db)
{
	const char *n = json_str(x->conf, "container_name");
	return n && *n ? xstrdup(n)
		       : xstrfmt("tasksync_%.*s_step%lld", OWNER_SHORT_LEN, db,
				 x->step->id);
}

/* everything that decides the container, hashed */
static void spec_digest(const char *image_id, const struct run_spec *rs,
			char out[SHA256_HEX_LEN + 1])
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	strbuf_addf(&sb, "%s%c%d", image_id, 0, rs->keep_forever);
	for (i = 0; i < rs->opts.nr; i++)
		strbuf_addf(&sb, "%co%s", 0, rs->opts.v[i]);
	for (i = 0; i < rs->cmd.nr; i++)
		strbuf_addf(&sb, "%cc%s", 0, rs->cmd.v[i]);
	hash_string(sb.buf, sb.len, out);
	strbuf_release(&sb);
}

static void fill_results(struct step_exec *x, const char *cid,
			 const char *cname, const char *image_id,
			 const char *state)
{
	json_object_set_new(x->results, "container_id", json_string(cid));
	json_object_set_new(x->results, "container_name", json_string(cname));
	json_object_set_new(x->results, "image_id", json_string(image_id));
	json_object_set_new(x->results, "state", json_string(state));
}

/* the container ID `docker run -d` printed (its last line); owned or NULL */
static char *printed_id(const char *out)
{
	const char *line = out, *nl;
	char *ret = NULL;
	size_t n, i;

	for (; *line; line = *nl ? nl + 1 : nl) {
		nl = line + strcspn(line, "\n");
		n = (size_t)(nl - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (n != 64)
			continue;
		for (i = 0; i < n && isxdigit((unsigned char)line[i]); i++)
			;
		if (i == n) {
			free(ret);
			ret = xstrndup(line, n);
		}
	}
	return ret;
}

static int name_conflict(const char *out)
{
	return strstr(out, "is already in use by container") != NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && !proc_was_interrupted())
		;
}

static char *logs_tail(const char *name)
{
	struct strbuf o = STRBUF_INIT;
	char *t;
	if (docker_callv(&o, NULL, DOCKER_QUICK_MS, "logs", "--tail", "50",
			 name, NULL) < 0)
		strbuf_reset(&o);
	t = text_tail(o.buf, 4000);
	strbuf_release(&o);
	return t;
}

/* docker run -d ...; the exit code (or -1), output in *o, why in *err */
static int start_container(struct step_exec *x, const char *db,
			   const char *name, const char *id, const char *spec,
			   const struct run_spec *rs, struct strbuf *o,
			   struct strbuf *err)
{
	struct strvec a = STRVEC_INIT;
	size_t i;
	int r;

	strvec_pushl(&a, "run", "-d", "--name", name, NULL);
	docker_labels(&a, db, x->step->task_id, x->step->id);
	strvec_push(&a, "--label");
	strvec_pushf(&a, "%s=%s", LABEL_SPEC, spec);
	if (rs->keep_forever && !has_opt(&rs->opts, "--init"))
		strvec_push(&a, "--init");
	if (!step_picks_network(&rs->opts))
		strvec_pushl(&a, "--network", "none", NULL);
	for (i = 0; i < rs->opts.nr; i++)
		strvec_push(&a, rs->opts.v[i]);
	strvec_push(&a, id);
	for (i = 0; i < rs->cmd.nr; i++)
		strvec_push(&a, rs->cmd.v[i]);
	r = docker_call(&a, 120000, o, err);
	strvec_clear(&a);
	return r;
}

/*
 * The name is taken: 1 when the step is done (reused, or a failure
 * set), 0 when the old container was ours and is gone now (run again).
 */
static int take_over(struct step_exec *x, const char *db, const char *name,
		     const char *ref, const char *id, const char *spec)
{
	struct docker_container c = { 0 };
	struct strbuf why = STRBUF_INIT;
	const char *old;
	char *whose = NULL;
	int r = docker_inspect_container(name, &c, &why);

	if (r < 0)
		step_set_result(x, "failure",
				"cannot inspect container '%s': "
				"%s",
				name, why.buf);
	strbuf_release(&why);
	if (r < 0)
		return 1;
	if (!r)
		return 0; /* removed meanwhile */
	if (owner_check(x, db, &c, OWNER_STEP, &whose)) {
		step_set_result(x, "failure",
				"a container named '%s' (%.12s) "
				"exists that is not this step's (%s): left "
				"alone; remove or rename it, or set "
				"docker_run.container_name",
				name, c.id, whose);
		docker_container_release(&c);
		free(whose);
		return 1;
	}
	old = docker_container_label(&c, LABEL_SPEC);
	if (c.running && !strcmp(c.image, id) && old && !strcmp(old, spec)) {
		step_set_result(x, "success",
				"container %s already running "
				"from %s",
				name, ref);
		fill_results(x, c.id, c.name, id, "running");
		docker_container_release(&c);
		return 1;
	}
	fprintf(x->out, "  recreating %s (%s)\n", name,
		!c.running            ? "not running"
		: strcmp(c.image, id) ? "image changed"
				      : "settings changed");
	docker_container_release(&c);
	r = docker_remove(name, &why);
	if (r)
		step_set_result(x, "failure",
				"cannot remove old container "
				"'%s': %s",
				name, why.buf);
	strbuf_release(&why);
	return r ? 1 : 0;
}

/*
 * rm -f the container a failed run may have left: by its ID, else by
 * name only when the container of that name is this database's and
 * this step's (a failed run says nothing about whose the name is).
 */
static void remove_left(struct step_exec *x, const char *db, const char *cid,
			const char *name)
{
	struct docker_container c = { 0 };
	char *whose = NULL;

	if (cid) {
		docker_remove(cid, NULL);
		return;
	}
	if (docker_inspect_container(name, &c, NULL) != 1)
		return;
	if (!owner_check(x, db, &c, OWNER_STEP, &whose))
		docker_remove(c.id, NULL);
	free(whose);
	docker_container_release(&c);
}

static int run_run(struct step_exec *x)
{
	struct run_spec rs = { STRVEC_INIT, STRVEC_INIT, 0, 0 };
	struct strbuf o = STRBUF_INIT, why = STRBUF_INIT;
	struct docker_container c = { 0 };
	char *ref = step_resolve_image(x, x->conf), *id = NULL, *cid = NULL;
	char *name = NULL, *tail = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *db = NULL;
	char spec[SHA256_HEX_LEN + 1];
	int r, attempt, created = 0;

	if (!ref) {
		step_no_image(x);
		goto out;
	}
	if (build_spec(x->conf, ref, &rs, &err)) {
		step_set_result(x, "failure", "%s", err.buf);
		goto out;
	}
	if (step_image_id(x, ref, &id) || !(db = owner_db(x)))
		goto out;
	name = default_name(x, db);
	spec_digest(id, &rs, spec);

	/* run first; a name conflict is the only reason to look */
	for (attempt = 0;; attempt++) {
		r = start_container(x, db, name, id, spec, &rs, &o, &why);
		if (r <= 0 || !name_conflict(o.buf) || attempt)
			break;
		if (take_over(x, db, name, ref, id, spec))
			goto out;
	}
	strbuf_add(&x->log, o.buf, o.len);
	x->exit_code = r < 0 ? -1 : r;
	/* a failed run can leave a created container; a conflict is not ours */
	created = !(r > 0 && name_conflict(o.buf));
	cid = r ? NULL : printed_id(o.buf);
	if (r) {
		tail = text_tail(o.buf, 2000);
		step_set_result(x, "failure", "docker run of %s failed: %s",
				ref, r < 0 || !*tail ? why.buf : tail);
		goto out;
	}

	/* our own `sleep infinity` needs no watching */
	if (rs.own_keepalive && cid) {
		created = 0;
		x->exit_code = -1;
		step_set_result(x, "success", "container %s running from %s",
				name, ref);
		fill_results(x, cid, name, id, "running");
		goto out;
	}

	/* an immediate exit is a broken command, not a running container */
	if (!rs.own_keepalive)
		sleep_ms(SETTLE_MS);
	r = docker_inspect_container(cid ? cid : name, &c, &why);
	if (!r && !rs.keep_forever && has_opt(&rs.opts, "--rm")) {
		/* --rm: it finished and removed itself */
		step_set_result(x, "success",
				"container %s ran and was removed "
				"(--rm)",
				name);
		json_object_set_new(x->results, "container_name",
				    json_string(name));
		json_object_set_new(x->results, "image_id", json_string(id));
		created = 0;
		goto out;
	}
	if (r != 1) {
		step_set_result(x, "failure",
				"started %s but cannot inspect "
				"it: %s",
				name, !r ? "it is gone" : why.buf);
		goto out;
	}
	if (!c.running && (c.exit_code != 0 || rs.keep_forever)) {
		free(tail);
		tail = logs_tail(name);
		strbuf_addf(&x->log, "%s\n", tail);
		x->exit_code = c.exit_code;
		step_set_result(x, "failure",
				"container %s exited right away "
				"with code %d%s%s%s",
				name, c.exit_code,
				rs.keep_forever ? " (keep_forever wants it "
						  "running)"
						: "",
				*tail ? "; last log lines:\n" : "", tail);
		goto out;
	}
	created = 0;
	x->exit_code = c.running ? -1 : 0;
	if (!c.running)
		step_set_result(x, "success",
				"container %s ran from %s and "
				"exited 0",
				name, ref);
	else
		step_set_result(x, "success", "container %s running from %s",
				name, ref);
	fill_results(x, c.id, c.name, id, c.running ? "running" : "exited");
out:
	/* never leave a half-made or failed container behind */
	if (created)
		remove_left(x, db, cid, name);
	docker_container_release(&c);
	strvec_clear(&rs.opts);
	strvec_clear(&rs.cmd);
	strbuf_release(&o);
	strbuf_release(&why);
	free(tail);
	strbuf_release(&err);
	free(name);
	free(ref);
	free(id);
	free(cid);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key docker_run_keys[] = {
	STEP_IMAGE_KEYS,
	{ "command", SK_STRING | SK_ARRAY, SK_STRING },
	{ "container_name", SK_STRING, 0 },
	{ "parameters", SK_STRING | SK_ARRAY, SK_STRING },
	{ "keep_forever", SK_BOOL, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_run = {
	.keys = docker_run_keys,
	.name = "docker_run",
	.run = run_run,
};
