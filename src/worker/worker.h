#ifndef WORKER_WORKER_H
#define WORKER_WORKER_H

#include <stdio.h>

#include "core/config.h"

/*
 * task-sync worker (docs/workers.md): claim items of the work queue
 * (store.h, PostgreSQL), run each with the engine, record it as a run
 * does, heartbeat. Threads: one per slot (its own connection) and one
 * heartbeat (its own connection).
 *
 * - An idle slot waits on its connection for the queue's NOTIFY, looking
 *   at the queue every poll_ms besides, and when the first lease of a
 *   running item ends (its claim says when): a dead worker's item is
 *   taken over as its lease ends.
 * - A claim is FOR UPDATE SKIP LOCKED, guarded on state; the lease is two
 *   heartbeat intervals: a worker that stops heartbeating (killed, its
 *   machine or network gone) loses its items to the others.
 * - Every result write checks, in its transaction, that this worker
 *   still holds the claim (owner and epoch): a late writer records
 *   nothing.
 * - worker_stop() (async-signal-safe: SIGTERM) stops claiming; the items
 *   running finish and are recorded, and worker_run returns.
 */

struct worker_opts {
	const char *name; /* the owner written on claims: unique */
	const char *host;
	int concurrency;
	int heartbeat_ms;
	/*
	 * how often an idle slot looks at the queue without a wake-up
	 * (LISTEN/NOTIFY brings new and freed items at once; an expired
	 * claim sends none, but a slot also wakes when the first lease
	 * ends)
	 */
	int poll_ms;
	const long long *tasks; /* NULL: every task */
	size_t ntasks;
	int once; /* return when nothing in scope is queued or running */
	FILE *out;
};

struct worker_stats {
	long long claimed, succeeded, failed, lost, released, reclaimed;
};

/* 0, or TS_EFAIL (a connection could not be opened; reported) */
int worker_run(const struct config *cfg, const struct worker_opts *o,
	       struct worker_stats *stats);
void worker_stop(void);

#endif
