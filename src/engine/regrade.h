#ifndef ENGINE_REGRADE_H
#define ENGINE_REGRADE_H

#include "core/config.h"
#include "store/store.h"

/*
 * Regrade: decide a task's stored rubric_shell results again under the
 * current PASS_MARKER, FAIL_MARKER and TIMEOUT_MARKER, running nothing.
 * Only cells whose verdict came from the markers (grade_from_markers)
 * are re-decided, from the output kept in their runs (its head and
 * tail). Each step is one transaction with its row locked
 * (store_step_edit); a re-decided cell's basis records today's markers.
 * With dry_run nothing is written.
 */

/* one cell whose status changed */
struct regrade_change {
	long long step_id;
	const char *key;  /* the candidate, as stored */
	const char *from; /* the stored status */
	const char *to;   /* the new one (grade_status_name) */
};

struct regrade_counts {
	int changed, up, down; /* up: towards PASS (ERROR < TIMEOUT < FAIL) */
	int recorded;          /* cells whose basis now records today's
				   markers */
};

/*
 * Called with each changed cell once its step's transaction is over
 * (written, or with dry_run not written), step by step in id order and
 * in each step the grid's order of candidates, then other keys by name.
 * The strings are valid during the call only.
 */
typedef void (*regrade_change_fn)(const struct regrade_change *c, void *data);

/*
 * Regrade the steps of one task (steps: a task's, sorted by id, as
 * store_step_list gives them; not changed) under cfg's markers. Stops
 * at the first step that cannot be written. 0 with *counts filled, or
 * TS_E* (printed); on an error, fn has been called for the steps
 * before it.
 */
int regrade_steps(struct store *st, const struct config *cfg,
		  const struct step *steps, size_t nr, int dry_run,
		  regrade_change_fn fn, void *data,
		  struct regrade_counts *counts);

/* regrade_steps on the steps of task id, loaded from st */
int regrade_task(struct store *st, const struct config *cfg, long long id,
		 int dry_run, regrade_change_fn fn, void *data,
		 struct regrade_counts *counts);

#endif
