/*
 * The work queue's commands (docs/workers.md): task run --queue and
 * run-steps --queue (cmd_queue_task), task status, task cancel.
 * PostgreSQL only: on SQLite they are refused before the database is
 * opened (exit 3).
 */
#include "cmd/cmd.h"
#include "cmd/queue.h"
#include "engine/engine.h"
#include "os/error.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int cmd_queue_refuse(struct cmd_ctx *ctx, const char *prog)
{
	const struct config *cfg = cmd_load_config(ctx);

	if (!cfg)
		return CMD_DB_FAILED;
	if (cfg->db_kind == CONFIG_DB_POSTGRES)
		return 0;
	error("%s: the work queue needs PostgreSQL (set DATABASE_URL); "
	      "this database is SQLite",
	      prog);
	return EXIT_CONFIG;
}

int cmd_queue_task(struct cmd_ctx *ctx, struct store *st, long long task_id,
		   unsigned flags)
{
	long long items = 0, batch = 0;
	int ret = engine_enqueue_task(st, cmd_load_config(ctx), task_id, flags,
				      &items, &batch);

	if (ret)
		return ret;
	fprintf(ctx->out,
		"Queued %lld item%s for task ID %lld (batch %lld): run "
		"'task-sync worker' to work on them\n",
		items, items == 1 ? "" : "s", task_id, batch);
	return 0;
}

static int task_exists(struct store *st, long long id)
{
	struct task t = { 0 };
	int ret = store_task_get(st, id, &t);
	task_release(&t);
	return ret;
}

static void print_status(FILE *out, long long id, const json_t *doc)
{
	static const char *const states[] = { "queued", "running", "succeeded",
					      "failed", "blocked", "cancelled" };
	const json_t *counts = json_object_get(doc, "counts");
	const json_t *running = json_object_get(doc, "running"), *r;
	size_t i;

	if (json_is_null(json_object_get(doc, "batch"))) {
		fprintf(out, "Task %lld has nothing in the queue\n", id);
		return;
	}
	fprintf(out, "Task %lld, batch %lld:", id,
		(long long)json_integer_value(json_object_get(doc, "batch")));
	for (i = 0; i < sizeof(states) / sizeof(*states); i++)
		fprintf(out, " %s %lld%s", states[i],
			(long long)json_integer_value(
				json_object_get(counts, states[i])),
			i + 1 < sizeof(states) / sizeof(*states) ? "," : "");
	fputc('\n', out);
	if (!json_array_size(running))
		return;
	fprintf(out, "%-8s %-8s %-18s %-24s %-10s %s\n", "ITEM", "STEP",
		"CANDIDATE", "WORKER", "HELD", "HEARTBEAT");
	json_array_foreach(running, i, r)
	{
		const char *c =
			json_string_value(json_object_get(r, "candidate"));
		fprintf(out, "%-8lld %-8lld %-18s %-24s %-10.1f %.1fs ago\n",
			(long long)json_integer_value(json_object_get(r, "id")),
			(long long)json_integer_value(
				json_object_get(r, "step_id")),
			c ? c : "-",
			json_string_value(json_object_get(r, "owner")),
			json_integer_value(json_object_get(r, "held_ms")) /
				1000.0,
			json_integer_value(json_object_get(r, "heartbeat_ms")) /
				1000.0);
	}
}

int cmd_task_status(int argc, const char **argv, struct cmd_ctx *ctx)
{
	long long id = 0;
	int json = 0, ret;
	const struct option opts[] = OPT_JSON_ONLY(&json);
	const struct cmd_usage u = {
		"task status ID [--json]",
		"Show the task's work queue (its newest batch): items per "
		"state, and which worker holds each running item and for how "
		"long. PostgreSQL only.",
		1, 1, "  task-sync task status 3\n"
	};
	struct store *st;
	json_t *doc = NULL;

	ret = parse_one_id(argc, argv, &u, opts, "task status", "task", &id);
	if (ret < 0)
		return PARSE_EXIT(ret);
	if ((ret = cmd_queue_refuse(ctx, "task status")))
		return ret;
	st = cmd_store(ctx, STORE_READ_ONLY);
	if (!st)
		return CMD_DB_FAILED;
	ret = task_exists(st, id);
	if (!ret)
		ret = store_queue_status(st, id, &doc);
	if (ret)
		return ts_exit_code(ret);
	if (json)
		cmd_print_json(ctx->out, doc);
	else {
		print_status(ctx->out, id, doc);
		json_decref(doc);
	}
	return 0;
}

int cmd_task_cancel(int argc, const char **argv, struct cmd_ctx *ctx)
{
	long long id = 0, n = 0;
	int ret;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = {
		"task cancel ID",
		"Withdraw the task's queued items (what no worker has "
		"started); running items finish. PostgreSQL only.",
		1, 1, "  task-sync task cancel 3\n"
	};
	struct store *st;

	ret = parse_one_id(argc, argv, &u, opts, "task cancel", "task", &id);
	if (ret < 0)
		return PARSE_EXIT(ret);
	if ((ret = cmd_queue_refuse(ctx, "task cancel")))
		return ret;
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	ret = task_exists(st, id);
	if (!ret)
		ret = store_queue_cancel(st, id, &n);
	if (ret)
		return ts_exit_code(ret);
	fprintf(ctx->out, "Cancelled %lld queued item%s of task ID %lld\n", n,
		n == 1 ? "" : "s", id);
	return 0;
}
