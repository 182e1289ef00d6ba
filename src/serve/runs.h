#ifndef SERVE_RUNS_H
#define SERVE_RUNS_H

#include <jansson.h>

#include "serve/events.h"

struct strbuf;

/*
 * Runs the API starts (docs/serve.md, "Runs"): each is `task-sync task
 * run ID` or `step run ID` with the CLI's flags, a child process of this
 * same binary (/proc/self/exe, the same environment, so the same
 * database), which takes the CLI's run lock itself: a run started here
 * and one from a shell never overlap. The child says on a side channel
 * whether it took the lock (cmd/run.c); a busy task is refused. Each
 * child is supervised by a thread of its own (os/proc.h: it dies with
 * that thread, and is stopped on runs_stop). Events "run-started" and
 * "run-finished" go to /events.
 */
struct runs;

struct run_request {
	long long task_id;
	long long step_id; /* 0: the whole task (task run) */
	int force, golden, original;
};

struct runs *runs_new(struct events *ev);
/*
 * Start a run. Returns the HTTP status: 202 once the child holds the
 * lock (running), 200 when it ended without needing it (every step
 * fresh, or an error before the lock: see the job's state), 409 when
 * another process holds the lock (err says so), 500 when the child
 * could not start. *job (owned) describes the job, except on 409/500.
 */
unsigned runs_start(struct runs *rs, const struct run_request *rq, json_t **job,
		    struct strbuf *err);
/* the job with this id (owned), NULL when unknown */
json_t *runs_job(struct runs *rs, long long id);
/* every job, newest first (owned) */
json_t *runs_list(struct runs *rs);
/* the output of a finished job (owned), NULL when unknown or running */
char *runs_output(struct runs *rs, long long id);
/* stop every child (SIGTERM, SIGKILL 3 s later) and wait for them */
void runs_stop(struct runs *rs);
void runs_free(struct runs *rs);

#endif
