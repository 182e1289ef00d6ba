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

#endif
