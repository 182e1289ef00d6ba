#ifndef ENGINE_EXPORT_H
#define ENGINE_EXPORT_H

#include <stdio.h>

#include "engine/grid.h"

/*
 * A task's grid for other tools, one cell (criterion x candidate) per
 * record: `task report --junit` and `--csv`.
 */

/*
 * JUnit XML: a testsuite per candidate, a testcase per criterion;
 * FAIL, TIMEOUT and FLAKY are failures, ERROR an error, a cell not
 * graded is skipped. A repeated cell's attempts are its properties.
 */
void export_junit(FILE *out, const struct grid *g);

/*
 * CSV (RFC 4180, a header row): task_id, task, step_id, criterion_id,
 * title, candidate, status (empty: not graded), stale, attempts,
 * passes, duration_ms, exit_code, reason.
 */
void export_csv(FILE *out, const struct grid *g);

#endif
