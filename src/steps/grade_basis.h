#ifndef STEPS_GRADE_BASIS_H
#define STEPS_GRADE_BASIS_H

#include <jansson.h>

#include "core/config.h"

struct hash_memo;

/*
 * What decided a rubric_shell verdict (its "basis"), and whether it
 * still holds. Each candidate's result entry keeps the basis it was
 * graded under in results[candidate]["basis"]:
 *
 *   {"image_id": "sha256:...", "container_id": "...",
 *    "base_commit": "..."|null, "app_folder": "/app", "timeout_s": 120,
 *    "pass_marker": ..., "fail_marker": ..., "timeout_marker": ...,
 *    "command": "...", "pre_patch": SHA|null, "patch": SHA|null,
 *    "held_out_tests": SHA|null, "task_sync": "0.1.0"}
 *
 * (SHA: the SHA-256 of the file's content, 64 hex digits; null: none.)
 * Today's basis is worked out without grading: the markers and the
 * timeout from task.conf and the task's and step's settings, the patch
 * hashes from the files, the container's ID, image ID and base commit
 * from the task's containers_map (docker_pool writes them), and for a
 * container that has no entry there (assign_containers) from one
 * `docker container inspect` of all of them. A key whose value cannot
 * be known today (docker not answering) is left out of today's basis
 * and not compared.
 *
 * rubric_shell regrades a cell whose basis differs from today's, and
 * `task report` marks it stale; both use this file and nothing else.
 */

struct grade_basis_env {
	const struct config *cfg; /* borrowed */
	const json_t *ts;         /* the task's settings (borrowed) */
	const json_t *conf;       /* the step's rubric_shell settings */
	const char *base;         /* the task folder ("" when unset) */
	char *app;                /* the app folder in containers */
	int timeout_s;            /* the timeout in force */
	/*
	 * container ref -> {"id", "image"}, or null when docker says there
	 * is no such container; a ref docker could not be asked about is
	 * absent. Only for containers without an ID in containers_map.
	 */
	json_t *inspected;
	/*
	 * The task folder's lookups and patch digests (core/hash_memo.h),
	 * borrowed: NULL after grade_basis_env_init, set by a caller that
	 * checks many steps of one task in one pass (engine/grid.c) so each
	 * patch is read once.
	 */
	struct hash_memo *files;
};

/*
 * Fill env for one rubric_shell step: its settings conf, the task's
 * settings ts and folder base (all borrowed for env's life). Runs one
 * `docker container inspect` when some assigned container has no ID in
 * containers_map; never fails (what docker cannot tell stays unknown).
 */
void grade_basis_env_init(struct grade_basis_env *env, const struct config *cfg,
			  const json_t *ts, const json_t *conf,
			  const char *base);
/*
 * The same for one of many steps of a task checked in one pass
 * (engine/grid.c): the containers docker already told about in seen (a
 * JSON object of ref -> as in inspected; NULL: none) are not asked
 * about again, and what this call learns is added to seen, so a pass
 * runs one `docker container inspect` for its task, not one per step.
 */
void grade_basis_env_init_seen(struct grade_basis_env *env,
			       const struct config *cfg, const json_t *ts,
			       const json_t *conf, const char *base,
			       json_t *seen);
void grade_basis_env_release(struct grade_basis_env *env);

/* the timeout in force: the step's, the task's, TIMEOUT_SECONDS, 120 */
int grade_basis_timeout(const struct config *cfg, const json_t *ts,
			const json_t *conf);
/* the pre_patch file the step applies (relative), or NULL */
const char *grade_basis_pre_patch(const json_t *conf);
/*
 * The patch a candidate applies, relative to the task folder (or
 * absolute): NULL for the original and for golden with apply_golden
 * false. Points into conf, or to key.
 */
const char *grade_basis_patch(const json_t *conf, const char *key);

/* where a candidate is graded */
struct grade_where {
	const char *name;        /* as assigned (name or ID), or NULL */
	const char *id;          /* its container ID, or NULL */
	const char *image_id;    /* the image ID it runs, or NULL */
	const char *base_commit; /* from containers_map, or NULL */
	int known;               /* 0: docker could not be asked */
};

/*
 * The container of candidate key: assign_containers[key] (solutions
 * only) or the containers_map entry of its role (key without
 * ".patch"). Strings borrowed from env.
 */
void grade_basis_where(const struct grade_basis_env *env, const char *key,
		       struct grade_where *w);

/*
 * A basis (new reference) for candidate key graded in w with patches
 * of the given content hashes (64 hex digits, or NULL for none).
 */
json_t *grade_basis_make(const struct grade_basis_env *env,
			 const struct grade_where *w, const char *pre_patch,
			 const char *patch, const char *held_out);
/* today's basis of candidate key (new reference) */
json_t *grade_basis_today(const struct grade_basis_env *env, const char *key);

/*
 * What differs between the basis a cell was graded under (old, may be
 * NULL) and today's (now): "image sha256:ab12cd34ef56… →
 * sha256:0f1e2d3c4b5a…", every differing field joined by ", ", or
 * NULL when nothing does. Owned by the caller.
 */
char *grade_basis_diff(const json_t *old, const json_t *now);

/*
 * Whether the stored entry of candidate key was graded under today's
 * basis: NULL when it was, else why not (owned). The entry's status
 * is not looked at.
 */
char *grade_basis_stale(const struct grade_basis_env *env, const char *key,
			const json_t *entry);

/* set the three markers of cfg in basis (a result entry's "basis") */
void grade_basis_set_markers(json_t *basis, const struct config *cfg);

#endif
