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
/* a pool's container as owner_pool_inspect found it */
struct owner_pool_seen {
	char *name; /* owner_pool_name (owned) */
	int found;  /* 1 there (c filled), 0 not, -1 the inspect failed */
	struct docker_container c;
};
/*
 * One `docker container inspect` of the pool containers of roles[0..n-1]:
 * an array of n (owner_pool_seen_free); fail says why when the inspect
 * failed. Then owner_pool_check each.
 */
struct owner_pool_seen *owner_pool_inspect(const struct step_exec *x,
					   const char *db,
					   const char *const *roles, size_t n,
					   struct strbuf *fail);
/* free the names and release each c still held */
void owner_pool_seen_free(struct owner_pool_seen *seen, size_t n);
/*
 * Role's pool container as owner_pool_inspect saw it (fail: that
 * inspect's reason): is it there and this task's? A question
 * (os/error.h): 1 yes (seen->c filled, release it); 0 no such
 * container; -1 docker failed or it is another database's or task's
 * (seen->c released), "<role>: <why>; " added to problems.
 */
int owner_pool_check(const struct step_exec *x, const char *db,
		     const char *role, struct owner_pool_seen *seen,
		     const char *fail, struct strbuf *problems);

/*
 * owner_check from the three label values alone (NULL or "": absent),
 * as `docker ps --format` gives them.
 */
int owner_check_labels(const struct step_exec *x, const char *db,
		       const char *db_label, const char *task_label,
		       const char *step_label, unsigned flags, char **whose);

#endif
