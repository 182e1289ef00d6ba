#ifndef CORE_ATTEMPTS_H
#define CORE_ATTEMPTS_H

#include <jansson.h>

#include "core/grade.h"

/*
 * Repeated grading: a cell (one criterion x one candidate) graded N
 * times, each attempt fresh (reset, apply, run), never retried until
 * green. Attempts that agree give their status; attempts that disagree
 * make the cell FLAKY, which never counts as a pass.
 *
 * The policy is a number of attempts, 1 to ATTEMPTS_MAX, or
 * ATTEMPTS_AUTO: two, and when they disagree up to ATTEMPTS_AUTO_MAX,
 * stopping as soon as the first two agree.
 */

#define ATTEMPTS_MAX 20
#define ATTEMPTS_AUTO (-1)
#define ATTEMPTS_AUTO_MAX 5

/*
 * "auto" or a whole number 1..ATTEMPTS_MAX (what --repeat and the task
 * setting "repeat" read): 0 with *repeat set, or -1.
 */
int attempts_parse(const char *text, int *repeat);
/* the same for a JSON value: a number, or a string attempts_parse reads */
int attempts_parse_json(const json_t *v, int *repeat);

/* whether a cell graded n times under policy repeat needs another */
int attempts_more(int repeat, const int *status, int n);

/*
 * The verdict of n attempts (n >= 1; statuses of enum grade_status):
 * the common status, or GRADE_FLAKY; *passes the PASS attempts.
 */
enum grade_status attempts_verdict(const int *status, int n, int *passes);

/* the fewest attempts policy repeat asks for (1, N, or 2 for auto) */
int attempts_wanted(int repeat);

#endif
