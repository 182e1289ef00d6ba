#ifndef STEPS_RUBRIC_CHILDREN_H
#define STEPS_RUBRIC_CHILDREN_H

#include <jansson.h>

#include "core/rubric.h"
#include "steps/step.h"

/*
 * Reconcile a generator step's rubric_shell children with a rubric, in
 * one transaction: one child per criterion (matched by criterion_id),
 * created when missing, kept with its ID and results when nothing
 * changed, updated otherwise. An update clears the child's results only
 * when its command changed (they graded another command); a change of
 * what a run does (timeout, candidate patches, held-out test,
 * containers) keeps them until the next run regrades the child; a change
 * of what the report shows only (counter, title, score, required, text)
 * keeps them and the child stays fresh. Duplicates and children of
 * vanished criteria are deleted. The task's rubric_set map
 * (criterion_id -> criterion_hash) is replaced in the same transaction.
 *
 * extra: keys copied into every child's rubric_shell object (files,
 * patches, held_out_test, assign_containers); borrowed.
 * summary: gets created/updated/deleted/kept/results_cleared counts and
 * "children".
 */
int rubric_reconcile(struct step_exec *x, const struct rubric *r,
		     const json_t *extra, json_t *summary);

/* the task's rubric_set map for r (new reference) */
json_t *rubric_hash_map(const struct rubric *r);

/* note parser-skipped items (as skipped_items) and the parser's
 * warnings (as warnings, when any) in into and on the progress stream */
/*
 * An empty rubric (no criteria, or every item skipped) is far likelier a
 * mistake than a wish to drop every criterion and its verdicts: unless
 * the run is forced, fail the step saying so and why ("no criteria in
 * rubrics.json: no item has a command; ..."; file is the rubric's name)
 * and return 1, so the caller changes no child.
 */
int rubric_refuse_empty(struct step_exec *x, const struct rubric *r,
			const char *file);
void rubric_report_skipped(struct step_exec *x, const struct rubric *r,
			   json_t *into);

#endif
