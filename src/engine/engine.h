#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include <jansson.h>
#include <stdio.h>

#include "core/config.h"
#include "store/store.h"

/*
 * The step engine: which steps run, in what order, and what is
 * recorded (its parts: engine/internal.h).
 *
 * - Order: topological over depends_on, ties by step id.
 * - A step runs only when every dependency's results.result is
 *   "success"; otherwise it is recorded as "blocked", naming the
 *   dependency. A dependency on a step that does not exist blocks only
 *   the step and its dependants (step run of it: an error). A cycle is
 *   an error before anything runs.
 * - dynamic_rubric runs by step run only: task run and run-steps show
 *   it as skipped; its dependants go by its last stored result.
 * - A step whose stored settings or results cannot be read is not run:
 *   one error line, counted in unreadable; its dependants are blocked.
 * - A step whose type declares inputs is "fresh" (not run, nothing
 *   written) when its last result is success and its settings, input
 *   files (SHA-256 with a stat cache) and dependencies' outputs are
 *   unchanged. RUN_FORCE runs it anyway, clearing the old result first.
 * - Every execution adds a step_runs row and replaces steps.results, in
 *   one transaction with the step row locked.
 * - Each task is run under its run lock (store_lock_task).
 * - Without RUN_* flags, task run and run-steps first check each task
 *   with the no-change keys (steps.fresh_key, core/fingerprint.h) and
 *   without the lock: a task whose steps all match is counted fresh
 *   and not locked (nor read further). Any other task goes through the
 *   full decision above, under its lock.
 */

struct engine_opts {
	unsigned flags;   /* RUN_* of steps/step.h */
	int repeat;       /* attempts per grading cell; 0: the task's */
	FILE *out;        /* progress lines */
	int quiet_fresh;  /* print nothing for fresh steps */
	int lock_wait_ms; /* how long to wait for a busy task */
	/*
	 * When set, called once a task's run lock was tried: taken 1, or 0
	 * when another process holds it (serve waits for this to answer a
	 * run it started, serve/runs.h). Not called on a dry run.
	 */
	void (*on_lock)(long long task_id, int taken, void *data);
	void *on_lock_data;
	/*
	 * A worker's item (worker/, docs/workers.md): no run lock (the
	 * queue's claim stands for it), and the step_exec fields of the
	 * same names (steps/step.h). With only_candidate, a rubric_shell
	 * step grades that candidate again and its result is merged into
	 * the stored results, never replacing the others'.
	 */
	int no_task_lock;
	const char *only_candidate;
	int (*guard)(struct store *st, void *data);
	void *guard_data;
	const json_t *origin;
};

struct engine_stats {
	int ran, succeeded, failed, blocked, fresh;
	int skipped;    /* steps left to step run (dynamic_rubric) */
	int unreadable; /* steps not run: stored JSON unreadable */
	int busy;       /* tasks skipped because another run holds them */
	int broken;     /* run-steps: tasks stopped by an error (a
				 cycle, a malformed depends_on), reported */
	int writes;     /* step rows this run wrote (results, keys) */
	int interrupted;
	int infra;      /* items that failed for the machinery's sake
				 (steps/step.h infra_failures) */
	int unrecorded; /* steps that ran but whose result could not
				 be written */
	int vanished;   /* of those, steps (or their task) deleted
				 while they ran */
};

/* 0 when every step that ran succeeded or was fresh; TS_ESTEP when one
 * failed or was blocked; other TS_E* codes for errors (already printed) */
int engine_run_task(struct store *st, const struct config *cfg,
		    long long task_id, const struct engine_opts *o,
		    struct engine_stats *stats);
int engine_run_step(struct store *st, const struct config *cfg,
		    long long step_id, const struct engine_opts *o,
		    struct engine_stats *stats);
/*
 * task run --queue, run-steps --queue: put task_id's runnable steps in
 * the work queue (store.h) as one batch, a rubric_shell step as one item
 * per candidate, each waiting on its step's dependencies in the task;
 * dynamic_rubric steps are left to step run. *items, *batch filled.
 */
int engine_enqueue_task(struct store *st, const struct config *cfg,
			long long task_id, unsigned flags, long long *items,
			long long *batch);
/*
 * After a worker's item of a generator (rubric_set) succeeded: queue the
 * steps it generated that batch does not hold yet, as
 * engine_enqueue_task would. *added how many items.
 */
int engine_enqueue_generated(struct store *st, const struct config *cfg,
			     long long batch, long long task_id,
			     long long generator, unsigned flags,
			     long long *added);
/* run-steps: every active task, by task id */
int engine_run_all(struct store *st, const struct config *cfg,
		   const struct engine_opts *o, struct engine_stats *stats);

#endif
