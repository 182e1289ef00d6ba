/*
 * docker_pull: pull an image from a registry.
 *
 * Settings: image_tag (else the task's docker.image_tag), image_id
 * (optional: the pulled image must have this ID), prevent_run_before
 * (RFC 3339: until then the step is "skipped"; --force ignores it),
 * timeout_seconds (default 1800).
 *
 * After a successful pull prevent_run_before is set to now + 6 h in the
 * step's own settings; no other setting is touched (the original
 * replaced the whole settings object). Results: image_id, image_tag,
 * repo_digest (the "repo@sha256:..." the image was pulled as, for a
 * worker that lacks the image to pull it by digest: docs/workers.md),
 * prevent_run_before_next.
 */
#include "steps/step.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PULL_INTERVAL (6 * 3600)

/*
 * Parse RFC 3339 ("2024-01-01T00:00:00Z", "...T00:00:00.5+02:00", a
 * space instead of T, a lowercase t or z). 0 and *t set, or -1.
 */
static int parse_rfc3339(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
		   &sec, &n) != 6 ||
	    !n)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		off = 0;
	} else if ((*p == '+' || *p == '-') &&
		   sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && !p[1 + n]) {
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = timegm(&tm) - off;
	return 0;
}

static void format_rfc3339(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "sha256:abc..." and "abc..." are the same ID; a prefix of 12+ matches */
static int same_image(const char *want, const char *have)
{
	size_t n;
	if (!strncmp(want, "sha256:", 7))
		want += 7;
	if (!strncmp(have, "sha256:", 7))
		have += 7;
	n = strlen(want);
	return n >= 12 && !strncmp(want, have, n);
}

static void set_next(json_t *conf, void *data)
{
	json_object_set_new(conf, "prevent_run_before",
			    json_string((const char *)data));
}

static int pull_run(struct step_exec *x)
{
	struct proc p = PROC_INIT;
	struct strbuf why = STRBUF_INIT;
	const char *gate = json_str(x->conf, "prevent_run_before");
	const char *want = json_str(x->conf, "image_id");
	const json_t *to = json_object_get(x->conf, "timeout_seconds");
	char *tag = step_image_tag(x), *before = NULL, *id = NULL, *tail = NULL;
	char *digest = NULL;
	char next[64];
	long timeout = 1800;
	time_t now = time(NULL), until;
	int rc;

	if (!tag) {
		step_set_result(x, "failure",
				"no image tag: set "
				"docker_pull.image_tag or the task's "
				"docker.image_tag");
		goto out;
	}
	if (gate && *gate && parse_rfc3339(gate, &until)) {
		step_set_result(x, "failure",
				"prevent_run_before '%s' is not "
				"an RFC 3339 time such as 2024-01-01T00:00:00Z",
				gate);
		goto out;
	}
	if (gate && *gate && until > now && !(x->flags & RUN_FORCE)) {
		const json_t *old = x->step->results;
		step_set_result(x, "skipped",
				"not pulling %s before %s "
				"(prevent_run_before; --force pulls now)",
				tag, gate);
		/* dependents still find the image pulled last time */
		if (json_str(old, "image_id"))
			json_object_set(x->results, "image_id",
					json_object_get(old, "image_id"));
		if (json_str(old, "repo_digest"))
			json_object_set(x->results, "repo_digest",
					json_object_get(old, "repo_digest"));
		json_object_set_new(x->results, "image_tag", json_string(tag));
		goto out;
	}
	if (json_is_integer(to) && json_integer_value(to) > 0)
		timeout = (long)json_integer_value(to);

	/* also tells a dead daemon quickly, before the long call */
	if (docker_image_id(tag, &before, &why) < 0) {
		step_set_result(x, "failure", "cannot pull %s: %s", tag,
				why.buf);
		goto out;
	}
	fprintf(x->out, "  docker pull %s\n", tag);
	docker_proc_init(&p);
	strvec_pushl(&p.argv, "pull", tag, NULL);
	p.capture_cap = 64 * 1024;
	/* the deadline is the pull's own: a slow registry, a hung daemon */
	rc = docker_exec_proc(&p, timeout * 1000, &why);
	strbuf_add(&x->log, p.out.buf, p.out.len);
	x->exit_code = p.exit_code;
	if (p.timed_out) {
		step_set_result(x, "failure",
				"docker pull %s did not finish "
				"within %ld s (docker_pull.timeout_seconds)",
				tag, timeout);
		goto out;
	}
	if (rc) {
		tail = text_tail(p.out.buf, 1000);
		step_set_result(x, "failure", "docker pull %s failed: %s", tag,
				rc < 0 || !*tail ? why.buf : tail);
		goto out;
	}
	if (docker_image_id(tag, &id, &why) != 1) {
		step_set_result(x, "failure",
				"pulled %s but cannot find its "
				"image ID: %s",
				tag, why.buf);
		goto out;
	}
	if (want && *want && !same_image(want, id)) {
		step_set_result(x, "failure",
				"pulled %s has image ID %s, not "
				"the expected %s (docker_pull.image_id)",
				tag, id, want);
		json_object_set_new(x->results, "image_id", json_string(id));
		goto out;
	}
	if (docker_repo_digest(id, tag, &digest, &why) < 0) {
		step_set_result(x, "failure",
				"pulled %s but cannot read its "
				"repo digest: %s",
				tag, why.buf);
		goto out;
	}
	format_rfc3339(now + PULL_INTERVAL, next, sizeof(next));
	step_set_result(x, "success", "pulled %s (%s%s)", tag, id,
			before && !strcmp(before, id) ? ", unchanged" : "");
	json_object_set_new(x->results, "image_id", json_string(id));
	json_object_set_new(x->results, "image_tag", json_string(tag));
	if (digest)
		json_object_set_new(x->results, "repo_digest",
				    json_string(digest));
	json_object_set_new(x->results, "prevent_run_before_next",
			    json_string(next));
	if (step_update_conf(x, set_next, next))
		step_set_result(x, "failure",
				"pulled %s but cannot save "
				"prevent_run_before",
				tag);
out:
	proc_release(&p);
	strbuf_release(&why);
	free(tail);
	free(before);
	free(digest);
	free(id);
	free(tag);
	return 0;
}

/* the settings keys this type reads (steps/settings_check.h) */
static const struct setting_key docker_pull_keys[] = {
	STEP_IMAGE_KEYS,
	{ "prevent_run_before", SK_STRING, 0 },
	{ "timeout_seconds", SK_INTEGER, 0 },
	SETTING_KEYS_END,
};

const struct step_type step_docker_pull = {
	.keys = docker_pull_keys,
	.name = "docker_pull",
	.run = pull_run,
};
