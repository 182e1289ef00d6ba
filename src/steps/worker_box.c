/*
 * A worker's own grading containers (steps/worker_box.h).
 */
#include "steps/worker_box.h"
#include "steps/owner.h"
#include "os/docker.h"
#include "os/xalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t box_lock = PTHREAD_MUTEX_INITIALIZER;

/* one item per box at a time: a mutex per hash of the box's name */
#define BOX_SLOTS 64
static pthread_mutex_t box_held[BOX_SLOTS];
static pthread_once_t box_once = PTHREAD_ONCE_INIT;

static void box_init(void)
{
	int i;
	for (i = 0; i < BOX_SLOTS; i++)
		pthread_mutex_init(&box_held[i], NULL);
}

static pthread_mutex_t *held_lock(const char *box)
{
	unsigned h = 5381;
	for (; *box; box++)
		h = h * 33 + (unsigned char)*box;
	pthread_once(&box_once, box_init);
	return &box_held[h % BOX_SLOTS];
}

void worker_box_release(const char *box)
{
	pthread_mutex_unlock(held_lock(box));
}

/* what a Docker name may hold: [a-zA-Z0-9_.-] */
static void add_safe(struct strbuf *sb, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n && s[i]; i++)
		strbuf_addch(sb, isalnum((unsigned char)s[i]) || s[i] == '_' ||
						 s[i] == '.' || s[i] == '-'
					 ? s[i]
					 : '-');
}

static char *box_name(const struct step_exec *x, const char *db,
		      const char *worker, const char *role)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "task_%lld_worker_", x->step->task_id);
	add_safe(&sb, worker, 64);
	strbuf_addch(&sb, '_');
	add_safe(&sb, role, 64);
	strbuf_addch(&sb, '_');
	add_safe(&sb, db, OWNER_SHORT_LEN);
	return strbuf_detach(&sb, NULL);
}

static int create(struct step_exec *x, const char *db, const char *worker,
		  const char *role, const char *name, const char *image_id,
		  const char *app, struct strbuf *why)
{
	struct strvec a = STRVEC_INIT;
	struct strbuf o = STRBUF_INIT;
	int rc;

	strvec_pushl(&a, "run", "-d", "--init", "--name", name, NULL);
	docker_labels(&a, db, x->step->task_id, x->step->id);
	strvec_push(&a, "--label");
	strvec_pushf(&a, "%s=%s", DOCKER_LABEL_ROLE, role);
	strvec_push(&a, "--label");
	strvec_pushf(&a, "%s=%s", DOCKER_LABEL_WORKER, worker);
	strvec_pushl(&a, "--network", "none", "-w", app, image_id, "sleep",
		     "infinity", NULL);
	rc = docker_call(&a, 120000, &o, why);
	if (rc)
		docker_remove(name, NULL);
	strbuf_release(&o);
	strvec_clear(&a);
	return rc ? -1 : 0;
}

int worker_box(struct step_exec *x, const char *db, const char *worker,
	       const char *key, const char *image_id, const char *app,
	       char **id, char **box, struct strbuf *why)
{
	size_t rl = strlen(key);
	char *role, *name;
	struct docker_container dc;
	struct strbuf err = STRBUF_INIT;
	char *whose = NULL;
	int r, ret = -1;

	memset(&dc, 0, sizeof(dc));
	*id = NULL;
	*box = NULL;
	if (rl > 6 && !strcmp(key + rl - 6, ".patch"))
		rl -= 6;
	role = xstrndup(key, rl);
	name = box_name(x, db, worker, role);
	pthread_mutex_lock(held_lock(name));
	pthread_mutex_lock(&box_lock);
	r = docker_inspect_container(name, &dc, &err);
	if (r < 0) {
		strbuf_addf(why, "cannot inspect %s: %s", name, err.buf);
		goto out;
	}
	if (r == 1 && owner_check(x, db, &dc, 0, &whose)) {
		strbuf_addf(why, "%s is not this database's and task's (%s)",
			    name, whose);
		goto out;
	}
	if (r == 1 && (strcmp(dc.image, image_id) || !dc.running)) {
		/* another image, or stopped: made again */
		docker_container_release(&dc);
		memset(&dc, 0, sizeof(dc));
		if (docker_remove(name, NULL)) {
			strbuf_addf(why, "cannot remove %s", name);
			goto out;
		}
		r = 0;
	}
	if (r == 0) {
		strbuf_reset(&err);
		if (create(x, db, worker, role, name, image_id, app, &err)) {
			strbuf_addf(why, "%s: docker run failed: %s", name,
				    err.buf);
			goto out;
		}
		if (docker_inspect_container(name, &dc, &err) != 1) {
			strbuf_addf(why, "cannot inspect %s: %s", name,
				    err.buf);
			goto out;
		}
	}
	*id = xstrdup(dc.id);
	*box = xstrdup(name);
	ret = 0;
out:
	pthread_mutex_unlock(&box_lock);
	if (ret)
		pthread_mutex_unlock(held_lock(name));
	docker_container_release(&dc);
	strbuf_release(&err);
	free(whose);
	free(role);
	free(name);
	return ret;
}
