#ifndef ENGINE_GRID_H
#define ENGINE_GRID_H

#include <jansson.h>
#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

/*
 * The grid of a task's rubric_shell steps: one row per criterion (a
 * rubric_shell step), one column per candidate (GRID_CANDIDATES, in
 * order), each cell the candidate's status under that criterion. A cell
 * graded under other conditions than today's (steps/grade_basis.h) is
 * stale. Then per candidate its totals, and the rubric's own check: the
 * criteria golden does not pass and those the original already passes.
 *
 * `task report` draws it; grid_json() is the document its --json prints,
 * for any other front end to serve as it is.
 */

#define GRID_NCAND 6
/* the columns: solution1.patch .. solution4.patch, original, golden */
extern const char *const grid_cand_keys[GRID_NCAND];
#define GRID_COL_ORIGINAL 4
#define GRID_COL_GOLDEN 5
/* a cell's status when nothing was graded there */
#define GRID_NOT_RUN (-1)

struct grid_criterion {
	const struct step *s;     /* borrowed from the grid's steps */
	const char *criterion_id; /* NULL when the settings have none */
	double score;
	int required;
	int status[GRID_NCAND]; /* enum grade_status or GRID_NOT_RUN */
	/* an ERROR that is the machinery's, not the candidate's
	 * (steps/rubric_shell.h): no verdict, counted as not run */
	int infra[GRID_NCAND];
	char *stale[GRID_NCAND]; /* why the cell is stale (owned), or NULL */
	/* repeated cells (core/attempts.h): attempts graded (1 when not
	 * repeated, 0 when not run) and how many passed */
	int attempts[GRID_NCAND], passes[GRID_NCAND];
	/* the tamper warnings on the cell's patch (core/tamper.h),
	 * borrowed from the step's results; NULL when none */
	const json_t *tamper[GRID_NCAND];
};

struct grid {
	const struct task *task;  /* borrowed (grid_build) or loaded_task */
	const struct step *steps; /* all the task's steps, sorted by id */
	size_t nsteps;
	struct grid_criterion *c; /* the rubric_shell ones, in step order */
	size_t nr;
	int nstale;  /* stale cells in all of c */
	int ntamper; /* cells with tamper warnings */
	int ninfra;  /* cells with an infrastructure ERROR */
	/* what grid_load read, released with the grid */
	struct task loaded_task;
	struct step *loaded_steps;
};

#define GRID_INIT                                            \
	{                                                    \
		NULL, NULL, 0, NULL, 0, 0, 0, 0, { 0 }, NULL \
	}

/*
 * Load task id and its steps from st and build its grid under cfg's
 * markers (cfg borrowed only during the call). 0 or TS_E*; release g
 * either way.
 */
int grid_load(struct grid *g, struct store *st, const struct config *cfg,
	      long long id);

/*
 * Build the grid of steps (a task's, sorted by id; borrowed, with t,
 * for the grid's life). Cell statuses come from each result entry's
 * status, or, for the original's string results, from cfg's PASS and
 * FAIL markers; staleness from grade_basis_stale, for the whole grid
 * at most one `docker container inspect` (of the containers whose IDs
 * containers_map lacks) and each file of the task folder looked up and
 * hashed once (core/hash_memo.h).
 */
void grid_build(struct grid *g, const struct config *cfg, const struct task *t,
		const struct step *steps, size_t nr);
void grid_release(struct grid *g);

/* the cell's verdict: its status, GRID_NOT_RUN for an infrastructure ERROR */
int grid_verdict(const struct grid_criterion *c, int col);

/* whether s is a rubric_shell step */
int grid_is_criterion(const struct step *s);
/* the row of step s, or NULL when it is not a criterion */
const struct grid_criterion *grid_criterion_of(const struct grid *g,
					       const struct step *s);

/* one candidate's column, summed; a cell without a verdict (not graded,
 * or an infrastructure ERROR) counts as not run */
struct grid_totals {
	int passed, not_run;
	double score, max_score; /* as grid_tidy() writes them */
	json_t *required_failed; /* step IDs of the required criteria
				      graded and not passed (owned) */
};

void grid_total(const struct grid *g, int col, struct grid_totals *t);
void grid_totals_release(struct grid_totals *t);

/* a sum of scores as people write it: 3, 4.5, 0.3 (rounded to 1e-6) */
double grid_tidy(double x);

/* the rubric's check: which criteria do not tell good patches from bad */
enum grid_check {
	GRID_FAIL_ON_GOLDEN,   /* golden graded and not PASS */
	GRID_PASS_ON_ORIGINAL, /* the original PASS */
};

/*
 * The step IDs that fail the check (new reference), and in *ungraded
 * the criteria whose cell (golden's or the original's) holds no verdict.
 */
json_t *grid_check(const struct grid *g, enum grid_check which, int *ungraded);

/*
 * The document of `task report --json` (new reference):
 * {"task": {"id", "name"},
 *  "criteria": [{"step_id", "title", "criterion_id", "score", "required",
 *                "results": {candidate: status|null},
 *                "cells": {candidate: {"status", "infrastructure",
 *                                      "stale", "stale_reason",
 *                                      "attempts", "passes",
 *                                      "tamper": [why]}}}],
 *  "candidates": {candidate: {"passed", "total", "not_run", "score",
 *                             "max_score", "required_failed"}},
 *  "check": {"fail_on_golden": [id], "pass_on_original": [id]},
 *  "health": (engine/health.h)}
 */
json_t *grid_json(const struct grid *g);

/* grid_load and grid_json at once: 0 with *out set, or TS_E* */
int grid_task_json(struct store *st, const struct config *cfg, long long id,
		   json_t **out);

#endif
