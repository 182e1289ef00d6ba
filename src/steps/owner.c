/* whose a container is: the one test of every step that touches one */
#include "steps/owner.h"
#include "os/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *owner_db(struct step_exec *x)
{
	const char *db = NULL;

	if (store_identity(x->st, 1, &db) || !db) {
		step_set_result(x, "failure",
				"cannot read or store the "
				"database identity, which names this "
				"database's containers (see the error above)");
		return NULL;
	}
	return db;
}

static const char *present(const char *v)
{
	return v && *v ? v : NULL;
}

static char *describe(const char *db, const char *dbl, const char *task,
		      const char *step)
{
	char *who, *ret;

	if (!dbl && !task && !step)
		return xstrdup("no task-sync labels");
	if (!dbl)
		who = xstrdup("no database label: made by an older task-sync");
	else if (!strcmp(dbl, db))
		who = xstrdup("this database");
	else
		who = xstrfmt("database %.*s", OWNER_SHORT_LEN, dbl);
	ret = xstrfmt("%s, task %s, step %s", who, task ? task : "none",
		      step ? step : "none");
	free(who);
	return ret;
}

/* a label's value is an ID written by %lld: compare it as text */
static int is_id(const char *label, long long id)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", id);
	return label && !strcmp(label, buf);
}

int owner_check_labels(const struct step_exec *x, const char *db,
		       const char *db_label, const char *task_label,
		       const char *step_label, unsigned flags, char **whose)
{
	const char *dbl = present(db_label), *task = present(task_label);
	const char *step = present(step_label);

	*whose = NULL;
	if (dbl && !strcmp(dbl, db) && is_id(task, x->step->task_id) &&
	    (!(flags & OWNER_STEP) || is_id(step, x->step->id)))
		return 0;
	if ((flags & OWNER_USER_OK) && !dbl && !task && !step)
		return 0;
	*whose = describe(db, dbl, task, step);
	return 1;
}

int owner_check(const struct step_exec *x, const char *db,
		const struct docker_container *c, unsigned flags, char **whose)
{
	return owner_check_labels(x, db, c->db_label,
				  docker_container_label(c, DOCKER_LABEL_TASK),
				  docker_container_label(c, DOCKER_LABEL_STEP),
				  flags, whose);
}

int owner_inspect_user(const struct step_exec *x, const char *db,
		       const char *ref, struct docker_container *c,
		       struct strbuf *why)
{
	struct strbuf fail = STRBUF_INIT;
	char *whose = NULL;
	int r = docker_inspect_container(ref, c, &fail);

	if (r < 0) {
		strbuf_addf(why, "cannot inspect container '%s': %s", ref,
			    fail.buf);
		strbuf_release(&fail);
		return -1;
	}
	strbuf_release(&fail);
	if (!r)
		return 0;
	if (owner_check(x, db, c, OWNER_USER_OK, &whose)) {
		strbuf_addf(why,
			    "container '%s' is not this task's (%s): "
			    "task-sync runs nothing in another database's "
			    "or task's container",
			    ref, whose);
		free(whose);
		docker_container_release(c);
		return -1;
	}
	return 1;
}

char *owner_pool_name(const struct step_exec *x, const char *db,
		      const char *role)
{
	return xstrfmt("task_%lld_volume_%s_%.*s", x->step->task_id, role,
		       OWNER_SHORT_LEN, db);
}

int owner_pool_check(const struct step_exec *x, const char *db,
		     const char *role, struct owner_pool_seen *seen,
		     const char *fail, struct strbuf *problems)
{
	char *whose = NULL;

	if (seen->found < 0) {
		strbuf_addf(problems, "%s: %s; ", role, fail);
		return -1;
	}
	if (seen->found && owner_check(x, db, &seen->c, 0, &whose)) {
		strbuf_addf(problems,
			    "%s: a container named '%s' exists "
			    "that is not this task's (%s): left alone; "
			    "remove or rename it; ",
			    role, seen->name, whose);
		free(whose);
		docker_container_release(&seen->c);
		return -1;
	}
	return seen->found;
}

struct owner_pool_seen *owner_pool_inspect(const struct step_exec *x,
					   const char *db,
					   const char *const *roles, size_t n,
					   struct strbuf *fail)
{
	struct owner_pool_seen *seen = xcalloc(n + 1, sizeof(*seen));
	const char **names = xcalloc(n + 1, sizeof(*names));
	struct docker_container *c = xcalloc(n + 1, sizeof(*c));
	int *found = xcalloc(n + 1, sizeof(*found));
	int r = 0;
	size_t i;

	for (i = 0; i < n; i++)
		names[i] = seen[i].name = owner_pool_name(x, db, roles[i]);
	if (n)
		r = docker_inspect_containers(names, n, c, found, fail);
	for (i = 0; i < n; i++) {
		seen[i].found = r < 0 ? -1 : found[i];
		seen[i].c = c[i];
	}
	free(names);
	free(c);
	free(found);
	return seen;
}

void owner_pool_seen_free(struct owner_pool_seen *seen, size_t n)
{
	size_t i;

	for (i = 0; seen && i < n; i++) {
		docker_container_release(&seen[i].c);
		free(seen[i].name);
	}
	free(seen);
}
