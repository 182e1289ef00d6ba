#ifndef STEPS_STEP_H
#define STEPS_STEP_H

#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/config.h"
#include "os/strbuf.h"
#include "os/strvec.h"
#include "steps/settings_check.h"
#include "store/store.h"

struct hash_memo;

/*
 * What a step type implements. The engine (engine/) decides
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
	RUN_GOLDEN_ONLY = 1 << 4,   /* step golden, task golden */
	RUN_ORIGINAL_ONLY = 1 << 5, /* step original */
};

struct step_exec {
	/* in: borrowed */
	struct store *st;
	const struct config *cfg;
	const struct step *step;
	const char *type;
	json_t *conf;     /* settings[type] */
	const char *base; /* the task's local_path ("" when unset) */
	unsigned flags;
	/* attempts per grading cell (core/attempts.h); 0: the task's */
	int repeat;
	FILE *out; /* progress lines */
	/*
	 * A worker's item (engine_opts): grade only this candidate of a
	 * rubric_shell step (and regrade it), or NULL for all; guard, when
	 * set, is called inside each transaction that writes a result and
	 * must return 1 (the claim holds) for the write to go on; origin
	 * (may be NULL), {"worker", "host"}, goes into each result as
	 * "graded_on".
	 */
	const char *only_candidate;
	int (*guard)(struct store *st, void *data);
	void *guard_data;
	const json_t *origin;

	/* out: owned by the engine, released after recording */
	json_t *results;   /* must get "result" and "message" */
	struct strbuf log; /* captured output for step_runs */
	int exit_code;     /* of the main process, -1 when none */
	json_t *detail;    /* step_runs.detail, may stay NULL */
	/*
	 * items that failed for the machinery's sake, not their own (a
	 * daemon gone, a container not running, a write that failed):
	 * counted in the run's summary; the step must not succeed
	 */
	int infra_failures;
};

struct step_type {
	const char *name;
	/*
	 * The settings keys the type reads and their kinds, checked by
	 * `step create` and `step edit` (steps/settings_check.h); NULL:
	 * none declared. check_settings, when set, checks settings[type]
	 * itself instead (a type whose value need not be an object).
	 */
	const struct setting_key *keys;
	int (*check_settings)(const json_t *conf, struct strbuf *err);
	/* do the work; returns 0, or <0 for an internal error (recorded) */
	int (*run)(struct step_exec *x);
	/*
	 * Input files for change detection (relative to the task folder
	 * or absolute). NULL: the step always runs.
	 */
	int (*inputs)(const json_t *conf, json_t *files_out,
		      struct strbuf *err);
	/*
	 * Called when the inputs say "fresh": is what the last run made
	 * still there (the image, the containers)? Returns 1 yes, 0 no
	 * (the reason appended to why) so the step runs again. NULL: trust
	 * the inputs.
	 */
	int (*still_fresh)(struct step_exec *x, struct strbuf *why);
};

const struct step_type *step_type_find(const char *name);

/* the settings keys step_resolve_image reads, for a type's key table */
#define STEP_IMAGE_KEYS                                              \
	{ "image_tag", SK_STRING, 0 }, { "image_id", SK_STRING, 0 }, \
	{                                                            \
		"docker", SK_OBJECT, 0                               \
	}

/* set results.result and results.message (printf-style) */
void step_set_result(struct step_exec *x, const char *result, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

/*
 * Change the step's own settings in one locked transaction: fn gets the
 * type object (created when missing). Used for keys a type maintains
 * (hashes, prevent_run_before); never to drop the user's keys.
 */
int step_update_conf(struct step_exec *x, void (*fn)(json_t *conf, void *data),
		     void *data);
/* read-modify-write of the task's settings, the row locked */
int step_update_task_settings(struct step_exec *x,
			      void (*fn)(json_t *settings, void *data),
			      void *data);
/* set the step's own "hashes" to hashes (step_update_conf) */
int step_store_hashes(struct step_exec *x, json_t *hashes);
/*
 * hashes[key] = the SHA-256 of rel (relative to base, or absolute) when
 * it is a regular file; nothing otherwise
 */
void step_hash_into(json_t *hashes, const char *key, const char *base,
		    const char *rel);
/* a copy of the task's settings ({} when NULL); new reference */
json_t *step_task_settings(struct step_exec *x);
/*
 * The tag to give an image: conf's image_tag, else the task's
 * docker.image_tag; NULL when neither (owned).
 */
char *step_image_tag(struct step_exec *x);
/* the image a step should use: conf, then dependencies, then task */
char *step_resolve_image(struct step_exec *x, const json_t *conf);
/* set the step's failure for step_resolve_image finding no image */
void step_no_image(struct step_exec *x);
/*
 * The checks of a step that mounts the task folder into containers of
 * image ref at app: the task folder an absolute directory, app an
 * absolute path, ref set. 0 with *st the task folder's, or -1 with the
 * step's failure set.
 */
int step_check_folders(struct step_exec *x, const char *app, const char *ref,
		       struct stat *st);
/*
 * The ID of image ref (*id owned by the caller); when there is none, or
 * docker cannot say, the step's result says why and -1 is returned.
 * In a worker's run an image ID the engine lacks is fetched first
 * (steps/image_fetch.h).
 */
int step_image_id(struct step_exec *x, const char *ref, char **id);
/* the app folder in containers: conf, then task settings, then /app */
char *step_app_folder(struct step_exec *x, const json_t *task_settings);
/* whether rel (relative to base, or absolute) is a regular file */
int step_regular_file(const char *base, const char *rel);
/*
 * The held-out tests patch, relative to base: conf's held_out_test when
 * set, else held_out_tests.patch, else held_out_test.patch when only
 * that one exists (the README names it so). Points into conf or is a
 * static string.
 */
const char *step_held_out_patch(const char *base, const json_t *conf);
/* the same, its lookups through memo (core/hash_memo.h; NULL: none) */
const char *step_held_out_patch_memo(struct hash_memo *memo, const char *base,
				     const json_t *conf);
/* the results of the step's dependencies, in order (new reference) */
json_t *step_dependency_results(struct step_exec *x);

/*
 * A pool's results: containers (list), containers_map (map, unless
 * NULL), image_id and app_folder; list and map are borrowed.
 */
void step_record_pool(struct step_exec *x, json_t *list, json_t *map,
		      const char *image_id, const char *app);
/* docker run option arg is flag, alone or as "flag=value" */
int step_is_flag(const char *arg, const char *flag);
/*
 * Whether docker run options opts choose a network or publish ports
 * (--network, --net, --publish, --publish-all, -p, -P): else the
 * container gets none.
 */
int step_picks_network(const struct strvec *opts);

/* the step types */
extern const struct step_type step_file_exists;
extern const struct step_type step_docker_build;
extern const struct step_type step_docker_pull;
extern const struct step_type step_docker_run;
extern const struct step_type step_docker_shell;
extern const struct step_type step_docker_pool;
extern const struct step_type step_docker_volume_pool;
extern const struct step_type step_docker_extract_volume;
extern const struct step_type step_rubric_shell;
extern const struct step_type step_rubric_set;
extern const struct step_type step_rubrics_import;
extern const struct step_type step_dynamic_rubric;
extern const struct step_type step_model_task_check;

#endif
