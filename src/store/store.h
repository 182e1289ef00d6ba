#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "core/config.h"
#include "core/hash.h"

/*
 * The one storage interface. Commands and step types call these; no SQL
 * lives outside src/store. Backends: the embedded SQLite file and
 * PostgreSQL, chosen by the configuration.
 *
 * Errors: functions return 0, TS_ENOTFOUND (after printing what was not
 * found), or TS_EFAIL (after printing the database error).
 * Ownership: structs filled by store_* own their strings and JSON and
 * are released with task_release()/step_release(); JSON arguments are
 * borrowed.
 */

struct task {
	long long id;
	char *name;
	char *status;
	char *local_path; /* NULL when unset */
	json_t *settings; /* NULL when the column is NULL */
	char *created_at; /* RFC 3339, UTC */
	char *updated_at;
	/*
	 * NULL, or why the stored settings cannot be read ("its stored
	 * settings cannot be read (...)"): settings is then NULL, and
	 * store_task_edit refuses to write the row.
	 */
	char *unreadable;
};

struct step {
	long long id;
	long long task_id;
	char *title;
	json_t *settings;       /* always an object or other JSON value */
	json_t *results;        /* NULL when the column is NULL */
	long long generated_by; /* 0 when none */
	char *created_at;
	char *updated_at;
	char *task_local_path; /* the task's, filled by get and list */
	char *task_status;
	/*
	 * For the engine's no-change check (engine/), filled by get
	 * and list: the settings column's text as stored (NULL when not
	 * loaded, or when that text does not parse), whose SHA-256
	 * store_step_settings_sha() computes on first use into
	 * settings_sha (a command that only shows or edits a step never
	 * hashes), and the fresh_key
	 * and output_digest columns (NULL when NULL).
	 * store_step_edit hands fn a NULL fresh_key, so every edit clears
	 * the column unless fn sets it (owned, malloc'ed), and it sets
	 * output_digest from the results it writes (hash_outputs).
	 */
	char *settings_text;
	char settings_sha[SHA256_HEX_LEN + 1];
	char *fresh_key;
	char *output_digest;
	/*
	 * NULL, or why the stored settings or results cannot be read ("its
	 * stored results cannot be read (...)"): they read as {} and NULL
	 * then, and store_step_edit refuses to write the row.
	 */
	char *unreadable;
};

struct store;

enum store_open_flags {
	/* do not check or apply migrations (the migrate command) */
	STORE_NO_MIGRATE = 1 << 0,
	/* the command only reads: SQLite it cannot write is opened read-only */
	STORE_READ_ONLY = 1 << 1,
};

/*
 * The SHA-256 of s's settings text as loaded (settings_text), computed
 * once and kept in s->settings_sha; "" when the text was not loaded or
 * does not parse. Not thread safe for one step.
 */
const char *store_step_settings_sha(struct step *s);

int store_open(const struct config *cfg, unsigned flags, struct store **out);
void store_close(struct store *st);
const char *store_backend_name(const struct store *st);

/*
 * The schema, for the migrate command (store/migrations.c holds the
 * migrations): the newest version this task-sync knows; the database's
 * version and dirty flag; apply the pending ones (*applied may be NULL);
 * revert `steps` (all when <= 0); record a version and clear the dirty
 * flag; drop task-sync's own tables and migrate up. 0 or -1 (reported).
 */
int store_schema_latest(void);
int store_schema_version(struct store *st, int *version, int *dirty);
int store_migrate_up(struct store *st, int *applied);
int store_migrate_down(struct store *st, int steps, int *reverted);
int store_migrate_force(struct store *st, int version);
int store_migrate_reset(struct store *st);

/*
 * The database's identity: 32 lowercase hex digits (128 random bits),
 * made once and kept in the database (table database_identity), so
 * that the Docker objects of two databases on one engine never meet
 * (steps/owner.h). Read on the first call only, then cached in st;
 * *out is borrowed from st. With create set, a database that has none
 * gets one (two processes doing so at once agree on one); without,
 * *out is NULL then and nothing is written (nor on a schema older
 * than migration 14). Not thread-safe: call it before starting
 * threads.
 */
int store_identity(struct store *st, int create, const char **out);

/* explicit transactions for multi-row changes */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

void task_release(struct task *t);
void step_release(struct step *s);
void task_list_free(struct task *v, size_t nr);
void step_list_free(struct step *v, size_t nr);

int store_task_create(struct store *st, const char *name, const char *status,
		      const char *local_path, long long *id);
int store_task_get(struct store *st, long long id, struct task *out);
int store_task_list(struct store *st, struct task **out, size_t *nr);
/*
 * Resolve a task reference: digits are an ID (checked to exist),
 * anything else an exact name; a name matching several tasks is a
 * TS_EUSAGE error listing their IDs.
 */
int store_task_resolve(struct store *st, const char *ref, long long *id);
int store_task_delete(struct store *st, long long id);

/*
 * Read-modify-write of one task in one transaction (the caller's when
 * one is open), the row locked:
 * fn may change name, status, local_path and settings of *t; returning
 * non-zero rolls back and is passed through.
 * Nothing is lost: a row whose stored settings cannot be read is not
 * written (TS_EFAIL, "task N: its stored settings cannot be read (...);
 * nothing changed"), nor are settings that could not be read back
 * (json_compact_stored). The same holds for steps and their results.
 */
typedef int (*task_edit_fn)(struct task *t, void *data);
int store_task_edit(struct store *st, long long id, task_edit_fn fn,
		    void *data);

int store_step_create(struct store *st, long long task_id, const char *title,
		      json_t *settings, long long generated_by, long long *id);
int store_step_get(struct store *st, long long id, struct step *out);
/* store_step_get, but a missing step is TS_ENOTFOUND with no message */
int store_step_find(struct store *st, long long id, struct step *out);
/* task_id 0: every step; ordered by id */
int store_step_list(struct store *st, long long task_id, struct step **out,
		    size_t *nr);
int store_step_delete(struct store *st, long long id);
int store_step_copy(struct store *st, long long id, long long to_task,
		    long long *new_id);

/* same contract as store_task_edit, for title, settings and results */
typedef int (*step_edit_fn)(struct step *s, void *data);
int store_step_edit(struct store *st, long long id, step_edit_fn fn,
		    void *data);
/*
 * The same for an edit of title and settings alone (step edit), outside
 * any transaction, in one statement: the step is read without a lock,
 * fn changes s->title and s->settings (nothing else is written), and
 * one UPDATE writes them, clears fresh_key and sets updated_at, but
 * only while the row still holds the title and settings that were read
 * (a compare-and-set, so a concurrent write is never overwritten
 * unseen). When another write came between, fn is applied again to
 * the step read anew by store_step_edit, in a transaction with the row
 * locked. Otherwise results are neither written nor hashed.
 */
int store_step_edit_settings(struct store *st, long long id, step_edit_fn fn,
			     void *data);

/* one execution of a step (step_runs) */
struct step_run {
	long long id;
	long long step_id;
	char *started_at;
	char *finished_at;
	char *status;
	int exit_code; /* -1 when none */
	long long duration_ms;
	char *output;   /* NULL unless asked for */
	json_t *detail; /* NULL when none */
};

void step_run_list_free(struct step_run *v, size_t nr);
/*
 * Record a finished execution. started_ms is wall-clock ms since the
 * epoch. Runs inside the caller's transaction when one is open.
 */
int store_run_add(struct store *st, long long step_id, long long started_ms,
		  long long duration_ms, const char *status, int exit_code,
		  const char *output, json_t *detail, long long *run_id);
/* newest first; with_output fills output */
int store_run_list(struct store *st, long long step_id, int with_output,
		   struct step_run **out, size_t *nr);
/* run_id 0: the newest run of step_id */
int store_run_get(struct store *st, long long step_id, long long run_id,
		  struct step_run *out);

/*
 * The output stored with run run_id of step_id: *output owned, NULL
 * when the run has none or is gone (*found 0; nothing printed).
 */
int store_run_output(struct store *st, long long step_id, long long run_id,
		     char **output, int *found);
/*
 * A rubric_shell step's results keep each candidate's output once, in
 * its run (the "run_id" of the candidate's entry): give every entry of
 * results (an object of candidate objects, changed in place) that has a
 * run_id and no "output" the output of that run, for the readers that
 * show it (step info, task regrade). An entry whose run is gone gets
 * none.
 */
int store_results_add_output(struct store *st, long long step_id,
			     json_t *results);

/* the runs of one step that store_runs_prune removed (or would) */
struct run_prune {
	long long step_id, task_id;
	long long removed;
};

/*
 * Delete the runs of every step (or of task_id's steps) but the newest
 * keep of each and every run the step's current results refer to (their
 * "run_id", and each candidate's), one step per transaction with its row
 * locked; a step whose results cannot be read keeps all its runs. With
 * dry_run only count. *out (owned, free()) lists the steps that lost
 * runs, by step id.
 */
int store_runs_prune(struct store *st, long long task_id, long long keep,
		     int dry_run, struct run_prune **out, size_t *nr);

/*
 * Every step of every active task (or of one task when task_id is set,
 * whatever its status), ordered by task then step id.
 */
int store_step_list_active(struct store *st, struct step **out, size_t *nr);

/*
 * The no-change check of the engine: per step of every active task
 * (task_id 0) or of one task (whatever its status), ordered by task
 * then step id, only the columns that check reads, and no JSON parsed.
 * The strings live until store_fresh_rows_free.
 */
struct fresh_row {
	long long id;
	long long task_id;
	const char *title;         /* NULL unless with_titles */
	const char *settings;      /* the column's text, as stored */
	const char *fresh_key;     /* NULL when NULL */
	const char *output_digest; /* NULL when NULL */
	const char *local_path;    /* the task's; NULL when unset */
};

struct fresh_rows {
	struct fresh_row *v;
	size_t nr;
	void *res; /* owns the strings */
};

int store_fresh_rows(struct store *st, long long task_id, int with_titles,
		     struct fresh_rows *out);
void store_fresh_rows_free(struct fresh_rows *r);
/*
 * steps.output_digest of step id: *digest owned, NULL when the column
 * is NULL or there is no such step (*found 0; nothing printed).
 */
int store_step_output_digest(struct store *st, long long id, char **digest,
			     int *found);
/*
 * Set fresh_key and output_digest of step id, only while the row still
 * holds old_key and old_digest (NULL: NULL); updated_at is left alone.
 * *changed (may be NULL) says whether the row was written.
 */
int store_step_set_fresh(struct store *st, long long id, const char *key,
			 const char *digest, const char *old_key,
			 const char *old_digest, int *changed);

/*
 * The per-task run lock: 1 taken, 0 held by another process, <0 error.
 * Released by store_unlock_task or when the process ends, however it
 * ends (PostgreSQL advisory lock / fcntl lock beside the SQLite file).
 */
/*
 * How many stored JSON values (settings, results) this process could not
 * parse: each was reported and read as empty. A command that read one
 * exits non-zero (main.c).
 */
int store_unreadable_rows(void);
/*
 * While on, reading a step whose stored JSON cannot be read prints
 * nothing (the row is still counted and s->unreadable set): the engine
 * turns it on and reports each such step once, in one line, itself.
 */
void store_quiet_unreadable_steps(int on);

/*
 * Take task_id's run lock: was it taken? A question (os/error.h): 1
 * taken, 0 another run holds it, -1 error (reported).
 */
int store_lock_task(struct store *st, long long task_id);
void store_unlock_task(struct store *st, long long task_id);

/*
 * The work queue (store/queue.c, docs/workers.md): PostgreSQL only;
 * every function below refuses SQLite (store_queue_supported says so
 * first). An item is a whole step (candidate NULL) or one candidate of
 * a rubric_shell step, in a batch (one `task run --queue`); it waits for
 * the items of the steps in deps (same batch) to succeed. States:
 * queued, running, succeeded, failed, blocked (a dependency did not
 * succeed), cancelled. Every change of a running item is conditional on
 * owner and epoch (the claim): a writer whose claim was taken changes
 * nothing.
 */
struct work_item {
	long long id, batch, task_id, step_id;
	long long epoch;      /* the claim: bumped by every claim */
	char *candidate;      /* NULL: the whole step */
	unsigned flags;       /* RUN_* of the enqueueing run */
	char *reclaimed_from; /* the owner whose expired claim this took */
	long long silent_ms;  /* then: how long since its last heartbeat */
};

void work_item_release(struct work_item *w);
/* 1 when st can hold a queue (PostgreSQL), else 0 */
int store_queue_supported(const struct store *st);
/* how many items of task_id are queued or running */
int store_queue_open_items(struct store *st, long long task_id, long long *n);
/*
 * A worker's connection: a transaction left open longer than ms (its
 * worker cut off between two statements) is ended by the server, so
 * the row locks it took never keep its items from the other workers.
 * The session LISTENs for the queue's wake-ups: adding, releasing,
 * finishing and cancelling items NOTIFY in their transaction.
 */
int store_queue_session(struct store *st, int ms);
/*
 * On a session of store_queue_session: wait up to ms for a wake-up.
 * 1 one came, 0 none, TS_EFAIL (the connection was lost; reported).
 */
int store_queue_wait(struct store *st, int ms);
/* a new batch number */
int store_queue_batch(struct store *st, long long *batch);
int store_queue_add(struct store *st, long long batch, long long task_id,
		    long long step_id, const char *candidate, unsigned flags,
		    const long long *deps, size_t ndeps);
/*
 * Claim one item (FOR UPDATE SKIP LOCKED): a queued item whose
 * dependencies all succeeded, or a running one whose heartbeat is older
 * than its lease (its owner died). tasks (ntasks 0: any) limits the
 * tasks. images (an array literal "{sha256:...,...}", or NULL): the
 * image IDs the worker's engine holds; the items whose task's image is
 * among them come first, then by ID. 1 claimed (*out filled), 0 none,
 * TS_EFAIL. With none, *next_ms is how long (by the database's clock,
 * at least 1) until the first lease of a running item in scope expires,
 * when it may be claimed; -1 when nothing in scope runs.
 */
int store_queue_claim(struct store *st, const char *owner, const char *host,
		      int lease_ms, const long long *tasks, size_t ntasks,
		      const char *images, struct work_item *out,
		      long long *next_ms);
/*
 * Heartbeat now the running items owner holds among ids (with their
 * epochs; n of each): only the claims this process made, so a worker
 * started again under a dead one's name never keeps its items alive.
 * *changed how many were renewed.
 */
int store_queue_heartbeat(struct store *st, const char *owner,
			  const long long *ids, const long long *epochs,
			  size_t n, long long *changed);
/*
 * Inside the caller's transaction: lock the item's row and check the
 * claim still holds, then lock its step's row (before the caller adds a
 * run of it). 1 held, 0 taken (or the item is gone), TS_EFAIL.
 */
int store_queue_guard(struct store *st, long long id, const char *owner,
		      long long epoch);
/*
 * End a running item as state (succeeded, failed) with message, only
 * while owner holds it with epoch; a failure blocks the queued items
 * that wait on it (and theirs). 1 written, 0 the claim was taken.
 */
int store_queue_finish(struct store *st, const struct work_item *w,
		       const char *owner, const char *state,
		       const char *message);
/* how many steps generator made that batch holds no item of */
int store_queue_unqueued_children(struct store *st, long long batch,
				  long long generator, long long *n);
/* whether batch holds an item of step_id (*has 1 or 0) */
int store_queue_has_step(struct store *st, long long batch, long long step_id,
			 int *has);
/* give an item not started back to the queue (claim-guarded) */
int store_queue_release(struct store *st, const struct work_item *w,
			const char *owner);
/* withdraw task_id's queued items; *n how many */
int store_queue_cancel(struct store *st, long long task_id, long long *n);
/* items queued or running among tasks (ntasks 0: every task) */
int store_queue_pending(struct store *st, const long long *tasks, size_t ntasks,
			long long *n);
/*
 * task_id's items (its newest batch): {"batch": N, "counts": {state:
 * n}, "running": [{"id", "step_id", "candidate", "owner", "host",
 * "held_ms", "heartbeat_ms", "attempts"}]} (new reference in *out)
 */
int store_queue_status(struct store *st, long long task_id, json_t **out);

/* "2026-01-02 03:04:05.12+00" -> "2026-01-02T03:04:05.120Z": milliseconds
 * always three digits, whichever backend wrote it (owned) */
char *store_format_ts(const char *db_ts);

#endif
