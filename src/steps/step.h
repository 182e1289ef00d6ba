#ifndef STEPS_STEP_H
#define STEPS_STEP_H

#include <jansson.h>
#include <stdio.h>

#include "core/config.h"
#include "os/strbuf.h"
#include "store/store.h"

/*
 * What a step type implements. The engine (core/engine.c) decides
 * whether a step runs (task active, dependencies successful, inputs
 * changed); the type only does the work and fills x->results.
 *
 * A type never spawns processes itself: it calls os/proc.h or
 * os/docker.h. It never prints to stdout except through x->out.
 */

enum run_flags {
	RUN_FORCE = 1 << 0,
	RUN_GOLDEN = 1 << 1,
	RUN_ORIGINAL = 1 << 2,
	RUN_DRY = 1 << 3,
};

struct step_exec {
	/* in: borrowed */
	struct store *st;
	const struct config *cfg;
	const struct step *step;
	const char *type;
	json_t *conf;            /* settings[type] */
	const char *base;        /* the task's local_path ("" when unset) */
	unsigned flags;
	FILE *out;               /* progress lines */

	/* out: owned by the engine, released after recording */
	json_t *results;         /* must get "result" and "message" */
	struct strbuf log;       /* captured output for step_runs */
	int exit_code;           /* of the main process, -1 when none */
	json_t *detail;          /* step_runs.detail, may stay NULL */
};

struct step_type {
	const char *name;
	/* do the work; returns 0, or <0 for an internal error (recorded) */
	int (*run)(struct step_exec *x);
	/*
	 * Input files for change detection (relative to the task folder
	 * or absolute). NULL: the step always runs.
	 */
	int (*inputs)(const json_t *conf, json_t *files_out, char **err);
};

const struct step_type *step_type_find(const char *name);

/* set results.result and results.message (printf-style) */
void step_set_result(struct step_exec *x, const char *result,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* the step types */
extern const struct step_type step_file_exists;

#endif
