#ifndef CMD_QUEUE_H
#define CMD_QUEUE_H

#include "cmd/cmd.h"

/*
 * The work queue's commands (cmd/queue.c, docs/workers.md).
 */

/* 0 on PostgreSQL; else EXIT_CONFIG after one line naming prog */
int cmd_queue_refuse(struct cmd_ctx *ctx, const char *prog);
/* enqueue task_id's runnable work and say so; a TS_E* code */
int cmd_queue_task(struct cmd_ctx *ctx, struct store *st, long long task_id,
		   unsigned flags);
/* task status, task cancel */
int cmd_task_status(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_task_cancel(int argc, const char **argv, struct cmd_ctx *ctx);
/* task-sync worker (cmd/worker.c) */
int cmd_worker(int argc, const char **argv, struct cmd_ctx *ctx);

#endif
