#ifndef STEPS_RUBRIC_STEP_H
#define STEPS_RUBRIC_STEP_H

#include <jansson.h>

#include "core/rubric.h"
#include "steps/step.h"

/*
 * The parts rubric_set and dynamic_rubric, the two child generators,
 * share around rubric_reconcile (steps/rubric_children.h).
 */

/*
 * Load the rubric file f (relative to the task folder, or absolute)
 * into r, *path (owned) its full path. 0, or -1 with the step's result
 * set: the file cannot be used, or it has no criteria
 * (rubric_refuse_empty).
 */
int rubric_step_load(struct step_exec *x, const char *f, struct rubric *r,
		     char **path);

/*
 * Reconcile the children with r (extra and summary as for
 * rubric_reconcile), then set the step's result, "N criteria[ from F]:
 * C created, U updated, D deleted, K kept" (from may be NULL), and the
 * run's detail: summary, "criteria" and the skipped items. 0, or -1
 * with the step's result an error and nothing changed.
 */
int rubric_step_apply(struct step_exec *x, const struct rubric *r,
		      const json_t *extra, json_t *summary, const char *from);

#endif
