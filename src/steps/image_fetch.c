/*
 * A worker fetches the task's image by digest (steps/image_fetch.h).
 */
#include "steps/image_fetch.h"
#include "steps/docker_build.h"
#include "steps/owner.h"
#include "core/jsonutil.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;

#define PULL_MS (1800L * 1000)
#define BUILD_MS (3600L * 1000)

/* the step's settings for type, when it is one and recorded image_id */
static const json_t *recorded(const struct step *s, const char *type,
			      const char *image_id)
{
	const json_t *conf = json_object_get(s->settings, type);
	const char *id = json_str(s->results, "image_id");

	return conf && id && !strcmp(id, image_id) ? conf : NULL;
}

/* is image_id here now? 1 yes, 0 no (why says), -1 docker failed */
static int have(const char *image_id, struct strbuf *why)
{
	char *id = NULL;
	int r = docker_image_id(image_id, &id, why);

	if (r == 1 && strcmp(id, image_id))
		r = 0;
	free(id);
	return r;
}

/* after a pull or build of ref: 0 when it is image_id, else -1 and why */
static int check_id(const char *what, const char *ref, const char *image_id,
		    struct strbuf *why)
{
	char *id = NULL;
	struct strbuf err = STRBUF_INIT;
	int ret = -1;

	if (docker_image_id(ref, &id, &err) != 1)
		strbuf_addf(why, "%s %s but cannot find its image ID: %s", what,
			    ref, err.buf);
	else if (strcmp(id, image_id))
		strbuf_addf(why,
			    "%s %s has image ID %s, not the recorded %s: "
			    "not graded on another image",
			    what, ref, id, image_id);
	else
		ret = 0;
	free(id);
	strbuf_release(&err);
	return ret;
}

static int pull(struct step_exec *x, const char *ref, const char *image_id,
		struct strbuf *tried, struct strbuf *why)
{
	struct proc p = PROC_INIT;
	struct strbuf err = STRBUF_INIT;
	int rc;

	fprintf(x->out, "  docker pull %s\n", ref);
	docker_proc_init(&p);
	strvec_pushl(&p.argv, "pull", ref, NULL);
	p.capture_cap = 64 * 1024;
	rc = docker_exec_proc(&p, PULL_MS, &err);
	if (rc || p.timed_out) {
		char *tail = text_tail(p.out.buf, 300);
		strbuf_addf(tried, "%sdocker pull %s failed: %s",
			    tried->len ? "; " : "", ref,
			    p.timed_out        ? "timed out"
			    : rc < 0 || !*tail ? err.buf
					       : tail);
		free(tail);
		rc = 1;
	} else {
		rc = check_id("pulled", ref, image_id, why) ? -1 : 0;
	}
	proc_release(&p);
	strbuf_release(&err);
	return rc;
}

static int build(struct step_exec *x, const struct step *s, const json_t *conf,
		 const char *image_id, struct strbuf *tried, struct strbuf *why)
{
	struct proc p = PROC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *tag = json_str(s->results, "image_tag");
	const char *db = owner_db(x);
	char *iid = xstrfmt("/tmp/task-sync-fetch-%lld-%ld.iid", s->id,
			    (long)getpid());
	char *id = NULL;
	int rc = 1;

	if (!tag || !db) {
		strbuf_addf(tried,
			    "%sstep %lld (docker_build) recorded no "
			    "image tag",
			    tried->len ? "; " : "", s->id);
		goto out;
	}
	if (docker_build_command(&p, conf, s->task_local_path, tag, db,
				 s->task_id, s->id, iid, &err)) {
		strbuf_addf(tried, "%sbuild of step %lld: %s",
			    tried->len ? "; " : "", s->id, err.buf);
		goto out;
	}
	fprintf(x->out, "  docker build -t %s (step %lld)\n", tag, s->id);
	p.capture_cap = 64 * 1024;
	if (docker_exec_proc(&p, BUILD_MS, &err) || p.timed_out) {
		char *tail = text_tail(p.out.buf, 300);
		strbuf_addf(tried, "%sdocker build of step %lld failed: %s",
			    tried->len ? "; " : "", s->id,
			    p.timed_out ? "timed out"
			    : *tail     ? tail
					: err.buf);
		free(tail);
		goto out;
	}
	if (strbuf_read_file(&err, iid) < 0)
		strbuf_reset(&err);
	strbuf_trim(&err);
	id = strbuf_detach(&err, NULL);
	if (!*id) {
		rc = check_id("built", tag, image_id, why) ? -1 : 0;
	} else if (strcmp(id, image_id)) {
		strbuf_addf(why,
			    "built %s has image ID %s, not the recorded %s: "
			    "not graded on another image",
			    tag, id, image_id);
		rc = -1;
	} else {
		rc = 0;
	}
out:
	unlink(iid);
	free(iid);
	free(id);
	proc_release(&p);
	strbuf_release(&err);
	return rc;
}

/* 0 fetched, 1 not (tried says why), -1 fetched another image (why) */
static int fetch(struct step_exec *x, const char *image_id,
		 struct strbuf *tried, struct strbuf *why)
{
	struct step *v = NULL;
	size_t nr = 0, i;
	int rc = 1;

	if (store_step_list(x->st, x->step->task_id, &v, &nr)) {
		strbuf_addf(tried, "cannot list the task's steps");
		return 1;
	}
	for (i = 0; rc > 0 && i < nr; i++) {
		const char *ref = json_str(v[i].results, "repo_digest");
		if (ref && recorded(&v[i], "docker_pull", image_id))
			rc = pull(x, ref, image_id, tried, why);
	}
	for (i = 0; rc > 0 && i < nr; i++) {
		const json_t *conf = recorded(&v[i], "docker_build", image_id);
		if (conf)
			rc = build(x, &v[i], conf, image_id, tried, why);
	}
	step_list_free(v, nr);
	return rc;
}

int step_image_fetch(struct step_exec *x, const char *image_id,
		     struct strbuf *why)
{
	struct strbuf err = STRBUF_INIT, tried = STRBUF_INIT;
	int r, ret = -1;

	pthread_mutex_lock(&fetch_lock);
	r = have(image_id, &err);
	if (r < 0) {
		strbuf_addf(why, "cannot inspect image %s: %s", image_id,
			    err.buf);
		goto out;
	}
	if (r) {
		ret = 0;
		goto out;
	}
	r = fetch(x, image_id, &tried, why);
	if (r < 0)
		goto out;
	if (r > 0) {
		strbuf_addf(why, "image %s is not on this engine; %s", image_id,
			    tried.len ? tried.buf
				      : "no docker_pull step recorded a "
					"registry digest for it and no "
					"docker_build step built it");
		if (tried.len)
			strbuf_addstr(why, "; no other source");
		goto out;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&fetch_lock);
	strbuf_release(&err);
	strbuf_release(&tried);
	return ret;
}
