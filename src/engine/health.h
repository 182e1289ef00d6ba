#ifndef ENGINE_HEALTH_H
#define ENGINE_HEALTH_H

#include <jansson.h>

#include "engine/grid.h"

/*
 * Criterion health: whether each criterion of a task's grid tells good
 * patches from bad ones, read from the cells graded so far. A criterion
 * is flagged, with why, when golden does not pass it on every attempt
 * (or was not graded), the original passes it (or was not graded), it
 * separates nothing (every graded candidate got one status), its
 * attempts disagree somewhere, or golden's run took more than half its
 * time limit. A task is valid when no criterion is flagged and it has
 * at least one.
 *
 * `task report` shows it under the grid and `task check` alone.
 */

struct health {
	const struct grid_criterion *c;
	/* golden's cell: duration of its last attempt (ms, -1: unknown)
	 * and the time limit it ran under (s, 0: unknown) */
	long long golden_ms;
	int limit_s;
	int suggested_s;     /* a timeout from golden's time, 0: none */
	int flips, repeated; /* cells whose attempts disagree; with >1 */
	/* candidates by status: those that passed, those graded and not */
	unsigned passed_mask, failed_mask; /* bit col */
	json_t *flags;                     /* ["why", ...] (owned) */
};

/* the health of every criterion of g, in grid order (h[g->nr]) */
struct health *health_of(const struct grid *g);
void health_free(struct health *h, size_t nr);

/* whether the task is valid: criteria, and none flagged */
int health_valid(const struct health *h, size_t nr);

/*
 * The document of `task check --json`, and "health" in `task report
 * --json` (new reference):
 * {"valid": bool, "criteria": [{"step_id", "criterion_id", "ok",
 *   "flags": [why], "golden": {"status", "attempts", "passes",
 *   "duration_ms", "timeout_s"}, "original": {"status"},
 *   "separates": {"pass": [candidate], "fail": [candidate]},
 *   "flip_rate": k/n | null, "suggested_timeout_s": n | null}]}
 */
json_t *health_json(const struct grid *g, const struct health *h);

#endif
