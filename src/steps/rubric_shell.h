#ifndef STEPS_RUBRIC_SHELL_H
#define STEPS_RUBRIC_SHELL_H

#include "os/strvec.h"
#include "steps/step.h"

/*
 * The candidates a rubric_shell step would grade under x->flags (the
 * keys of its results: solution1.patch, golden, original), in order, for
 * the work queue (one item each).
 */
void rubric_shell_candidates(struct step_exec *x, struct strvec *keys);

/*
 * Whether a candidate's stored entry is a verdict on the candidate: any
 * PASS, FAIL or TIMEOUT (or FLAKY), and an ERROR of its own (no verdict,
 * an empty patch, a patch that does not apply; for entries stored before
 * the "infrastructure" mark, the reason says which). Not an ERROR marked
 * "infrastructure": true, the machinery's (a daemon gone, a container not
 * running, a failed reset, Ctrl-C), nor an entry without a status.
 */
int rubric_shell_is_verdict(const json_t *e);

#endif
