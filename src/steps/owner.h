#ifndef STEPS_OWNER_H
#define STEPS_OWNER_H

#include "os/docker.h"
#include "os/strbuf.h"
#include "steps/step.h"

/*
 * Whose a container is. Everything task-sync creates carries the
 * labels task-sync.db (the database's identity, store_identity),
 * task-sync.task and task-sync.step, and its default names carry the
 * identity's first OWNER_SHORT_LEN hex digits. A step adopts,
 * restarts, recreates, removes or execs into a container only when it
 * is this database's and this task's: two databases on one Docker
 * engine (SQLite and PostgreSQL, two users) share task IDs, never
 * containers.
 */

#define OWNER_SHORT_LEN 8

/*
 * This database's identity (borrowed from the store), made on first
 * use; NULL after setting the step's failure. Call it before starting
 * threads.
 */
const char *owner_db(struct step_exec *x);

enum owner_flags {
	/* the container must also carry x's step */
	OWNER_STEP = 1 << 0,
	/*
	 * a container without any task-sync label is the user's own, and
	 * allowed: one the user named (docker_shell, assign_containers)
	 */
	OWNER_USER_OK = 1 << 1,
};

/*
 * 0 when step x may use container c: labelled with database db and x's
 * task (and x's step with OWNER_STEP), or, with OWNER_USER_OK, without
 * any of the labels task-sync.db, task-sync.task, task-sync.step.
 * Otherwise 1, with *whose (owned) saying whose it is, e.g.
 * "database 3fa9c2d1, task 12, step 40" or "no task-sync labels".
 */
int owner_check(const struct step_exec *x, const char *db,
		const struct docker_container *c, unsigned flags, char **whose);
/*
 * Inspect ref, a container the user named (docker_shell's
 * container_name, rubric_shell's assign_containers), and check it with
 * OWNER_USER_OK: may it be used? A question (os/error.h): 1 yes (*c
 * filled, release it); 0 no such container; -1 another database's or
 * task's, or docker failed, with the reason appended to why (not
 * printed).
 */
int owner_inspect_user(const struct step_exec *x, const char *db,
		       const char *ref, struct docker_container *c,
		       struct strbuf *why);

/*
 * A pool's container for role (docker_pool and docker_volume_pool
 * share it): "task_<task>_volume_<role>_<db short>". Owned.
 */
char *owner_pool_name(const struct step_exec *x, const char *db,
		      const char *role);
/*
 * One `docker container inspect` of the pool containers of roles[0..n-1]:
 * names[i] gets each one's owner_pool_name (owned), c[i] and found[i]
 * what docker_inspect_containers found (found[i] -1 for every one when
 * docker failed, fail saying why). Then owner_pool_check each.
 */
void owner_pool_inspect(const struct step_exec *x, const char *db,
			const char *const *roles, size_t n, char **names,
			struct docker_container *c, int *found,
			struct strbuf *fail);
/*
 * Role's pool container, name, as owner_pool_inspect found it: is it
 * there and this task's? r is found[i], fail the inspect's reason, *c
 * the container when r is 1. A question (os/error.h): 1 yes (*c filled,
 * release it); 0 no such container; -1 docker failed or it is another
 * database's or task's (*c released), "<role>: <why>; " added to
 * problems.
 */
int owner_pool_check(const struct step_exec *x, const char *db,
		     const char *role, const char *name, int r,
		     const char *fail, struct docker_container *c,
		     struct strbuf *problems);

/*
 * owner_check from the three label values alone (NULL or "": absent),
 * as `docker ps --format` gives them.
 */
int owner_check_labels(const struct step_exec *x, const char *db,
		       const char *db_label, const char *task_label,
		       const char *step_label, unsigned flags, char **whose);

#endif
