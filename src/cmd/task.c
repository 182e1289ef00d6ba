/* task-sync task ...: the task noun */
#include "cmd/cmd.h"
#include "cmd/queue.h"
#include "cmd/table.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "core/keypath.h"
#include "core/model.h"
#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *task_to_json(const struct task *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "status", json_string(t->status));
	json_object_set_new(o, "local_path",
			    t->local_path ? json_string(t->local_path)
					  : json_null());
	json_object_set(o, "settings", t->settings ? t->settings : json_null());
	json_object_set_new(o, "created_at", json_string(t->created_at));
	json_object_set_new(o, "updated_at", json_string(t->updated_at));
	return o;
}

static int task_create(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *name = NULL, *status = TASK_DEFAULT_STATUS, *lp = NULL;
	int quiet = 0, ret;
	long long id;
	char *abs = NULL;
	struct store *st;
	const struct option opts[] = {
		OPT_STRING(0, "name", &name, "NAME", "the task's name"),
		OPT_STRING(0, "status", &status, "STATUS",
			   "one of " TASK_STATUSES " (default active)"),
		{ .long_name = "local_path",
		  .alias = "local-path",
		  .type = OPTION_STRING,
		  .target = &lp,
		  .argh = "PATH",
		  .help = "the task folder; made absolute" },
		OPT_QUIET(&quiet),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"task create --name NAME [--status STATUS] [--local_path PATH]",
		"Create a task and print its ID.",
		0,
		0,
		"  task-sync task create --name demo --local_path ./examples/demo\n",
	};

	ret = parse_no_args(argc, argv, &u, opts, "task create");
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (!name || !*name)
		return usage_error("task create", "--name is required");
	if (!task_status_valid(status))
		return usage_error("task create",
				   "invalid status '%s': must "
				   "be one of " TASK_STATUSES,
				   status);
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	if (lp && *lp)
		abs = absolute_path(lp);
	ret = store_task_create(st, name, status, abs, &id);
	free(abs);
	if (ret)
		return ts_exit_code(ret);
	if (quiet)
		fprintf(ctx->out, "%lld\n", id);
	else
		fprintf(ctx->out, "Task created with ID: %lld\n", id);
	return EXIT_OK;
}

static int task_list(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, ret;
	struct task *tasks = NULL;
	size_t nr = 0, i;
	struct store *st;
	const struct option opts[] = OPT_JSON_ONLY(&as_json);
	const struct cmd_usage u = { "task list [--json]",
				     "List every task, by ID.", 0, 0, NULL };

	ret = parse_no_args(argc, argv, &u, opts, "task list");
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = store_task_list(st, &tasks, &nr);
	if (ret)
		return ts_exit_code(ret);
	if (as_json) {
		json_t *a = json_array();
		for (i = 0; i < nr; i++)
			json_array_append_new(a, task_to_json(&tasks[i]));
		cmd_print_json(ctx->out, a);
	} else {
		struct table t = TABLE_INIT;
		table_header(&t, "ID", "Name", "Status", "Local Path",
			     "Created At", "Updated At", NULL);
		for (i = 0; i < nr; i++) {
			table_addf(&t, "%lld", tasks[i].id);
			table_add(&t, tasks[i].name);
			table_add(&t, tasks[i].status);
			table_add(&t, tasks[i].local_path);
			table_add(&t, tasks[i].created_at);
			table_add(&t, tasks[i].updated_at);
		}
		table_print(&t, ctx->out);
		table_release(&t);
	}
	task_list_free(tasks, nr);
	return EXIT_OK;
}

/* parse the one positional ID of "task <verb> ID" */
static int task_info(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, ret;
	long long id;
	struct task t = { 0 };
	struct store *st;
	const struct option opts[] = OPT_JSON_ONLY(&as_json);
	const struct cmd_usage u = { "task info ID [--json]", "Show one task.",
				     1, 1, NULL };

	ret = parse_one_id(argc, argv, &u, opts, "task info", "task", &id);
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = store_task_get(st, id, &t);
	if (ret)
		return ts_exit_code(ret);
	if (as_json) {
		cmd_print_json(ctx->out, task_to_json(&t));
	} else {
		fprintf(ctx->out, "ID: %lld\nName: %s\nStatus: %s\n", t.id,
			t.name, t.status);
		if (t.local_path)
			fprintf(ctx->out, "Local Path: %s\n", t.local_path);
		fprintf(ctx->out, "Created At: %s\nUpdated At: %s\n",
			t.created_at, t.updated_at);
		if (t.settings) {
			char *s = json_compact(t.settings);
			fprintf(ctx->out, "Settings: %s\n", s);
			free(s);
		}
	}
	task_release(&t);
	return EXIT_OK;
}

struct task_edit_ops {
	struct strvec *ops; /* "s<key>=<value>" or "u<key>" */
};

static int is_key(const char *k, const char *a, const char *b)
{
	return !strcmp(k, a) || (b && !strcmp(k, b));
}

static int apply_task_ops(struct task *t, void *data)
{
	struct task_edit_ops *e = data;
	size_t i;

	for (i = 0; i < e->ops->nr; i++) {
		const char *op = e->ops->v[i];
		char *key = xstrdup(op + 1), *eq = strchr(key, '=');
		const char *val = NULL;
		int ret = 0;

		if (op[0] == 's') {
			*eq = '\0';
			val = eq + 1;
		}
		if (is_key(key, "name", NULL)) {
			if (!val || !*val)
				ret = error_code(TS_EUSAGE,
						 "the task name "
						 "cannot be empty or unset");
			else {
				free(t->name);
				t->name = xstrdup(val);
			}
		} else if (is_key(key, "status", NULL)) {
			if (!val)
				ret = error_code(TS_EUSAGE, "status cannot be "
							    "unset");
			else if (!task_status_valid(val))
				ret = error_code(
					TS_EUSAGE,
					"invalid status "
					"'%s': must be one of " TASK_STATUSES,
					val);
			else {
				free(t->status);
				t->status = xstrdup(val);
			}
		} else if (is_key(key, "local_path", "localpath")) {
			free(t->local_path);
			t->local_path = val && *val ? xstrdup(val) : NULL;
		} else if (val) {
			struct strbuf err = STRBUF_INIT;
			json_t *v = keypath_parse_value(val, &err);
			if (!t->settings)
				t->settings = json_object();
			if (err.len || keypath_set(t->settings, key, v,
						   KEYPATH_OVERWRITE, &err))
				ret = error_code(TS_EUSAGE, "%s", err.buf);
			strbuf_release(&err);
		} else if (t->settings) {
			keypath_unset(t->settings, key);
		}
		free(key);
		if (ret)
			return ret;
	}
	return t->settings ? cmd_check_storable("task", t->id, t->settings) : 0;
}

static int task_edit(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec ops = STRVEC_INIT;
	struct task_edit_ops e = { &ops };
	long long id;
	int ret;
	struct store *st;
	const struct option opts[] = {
		OPT_OPS(0, "set", &ops, "KEY=VALUE", 's',
			"set a column (name, status, local_path) or a settings "
			"path; VALUE is JSON when valid, else a string"),
		OPT_OPS(0, "unset", &ops, "KEY", 'u',
			"clear local_path or remove a settings path"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"task edit ID (--set KEY=VALUE | --unset KEY)...",
		"Change a task in one transaction. Settings keys are dot "
		"paths (docker.image_tag); write a literal dot as '\\.'.",
		1,
		1,
		"  task-sync task edit 1 --set status=inactive\n"
		"  task-sync task edit 1 --set docker.image_tag=demo:latest\n",
	};

	if (parse_edit(argc, argv, &u, opts, "task edit", "task", &id, &ops,
		       "--unset", &ret))
		goto out;
	st = cmd_store(ctx, 0);
	if (!st) {
		ret = CMD_DB_FAILED;
		goto out;
	}
	ret = ts_exit_code(store_task_edit(st, id, apply_task_ops, &e));
	if (!ret)
		fprintf(ctx->out, "Task %lld updated successfully.\n", id);
out:
	strvec_clear(&ops);
	return ret;
}

/*
 * Take the task's run lock, waiting up to wait_s seconds for a run that
 * holds it: 1 taken, 0 still busy (reported), <0 error.
 */
static int lock_for_delete(struct store *st, long long id, long long wait_s)
{
	long long until = proc_now_ms() + wait_s * 1000;
	int r;

	while ((r = store_lock_task(st, id)) == 0 && proc_now_ms() < until)
		usleep(100 * 1000);
	if (!r)
		error("task %lld is being run by another task-sync process: "
		      "not deleted (wait for the run to end, or use --wait "
		      "SECONDS)",
		      id);
	return r;
}

static int task_delete(int argc, const char **argv, struct cmd_ctx *ctx)
{
	long long id = 0, wait = 0;
	int ret, locked;
	struct strvec args = STRVEC_INIT;
	struct store *st;
	const struct option opts[] = {
		OPT_ID(0, "id", &id, "ID", "the task to delete"),
		OPT_ID(0, "wait", &wait, "SECONDS",
		       "wait this long for a run of the task to end"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = { "task delete ID | --id ID [--wait "
				     "SECONDS]",
				     "Delete a task and all its steps. A task "
				     "being run is not deleted (exit 1) "
				     "unless its run ends within --wait.",
				     0, 1, NULL };

	ret = parse_options(argc, argv, &u, opts, "task delete", &args);
	if (ret >= 0) {
		if (args.nr && id) {
			usage_error("task delete", "give the task ID once");
			ret = PARSE_USAGE;
		} else if (args.nr && parse_id_arg(args.v[0], "task", &id)) {
			ret = PARSE_USAGE;
		} else if (!args.nr && !id) {
			usage_error("task delete", "'task delete' needs a "
						   "task ID");
			ret = PARSE_USAGE;
		}
	}
	strvec_clear(&args);
	st = cmd_store_after(ctx, ret, 0, &ret);
	if (!st)
		return ret;
	/* a run of the task would go on writing into nothing */
	locked = lock_for_delete(st, id, wait);
	if (locked <= 0)
		return locked < 0 ? EXIT_CONFIG : EXIT_STEP_FAILED;
	ret = store_task_delete(st, id);
	store_unlock_task(st, id);
	if (ret)
		return ts_exit_code(ret);
	fprintf(ctx->out, "Task %lld deleted successfully.\n", id);
	return EXIT_OK;
}

static int reset_containers(struct task *t, void *data)
{
	(void)data;
	if (!t->settings)
		t->settings = json_object();
	json_object_del(t->settings, "containers");
	json_object_del(t->settings, "assigned_containers");
	json_object_set_new(t->settings, "containers_map", json_object());
	return 0;
}

static int task_reset_containers(int argc, const char **argv,
				 struct cmd_ctx *ctx)
{
	long long id;
	int ret;
	struct store *st;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = {
		"task reset-containers ID",
		"Forget the task's container assignments (containers_map); "
		"the containers themselves are left alone.",
		1, 1, NULL
	};

	ret = parse_one_id(argc, argv, &u, opts, "task reset-containers",
			   "task", &id);
	st = cmd_store_after(ctx, ret, 0, &ret);
	if (!st)
		return ret;
	ret = store_task_edit(st, id, reset_containers, NULL);
	if (ret)
		return ts_exit_code(ret);
	fprintf(ctx->out,
		"Task %lld containers and assignments reset "
		"successfully.\n",
		id);
	return EXIT_OK;
}

static const struct cmd_entry task_commands[] = {
	{ "create", task_create, "create a task" },
	{ "list", task_list, "list tasks" },
	{ "info", task_info, "show a task" },
	{ "edit", task_edit, "change a task's columns or settings" },
	{ "delete", task_delete, "delete a task and its steps" },
	{ "run", cmd_task_run, "run the task's steps" },
	{ "report", cmd_task_report, "show the criterion x candidate grid" },
	{ "check", cmd_task_check,
	  "check the rubric: each criterion's health" },
	{ "regrade", cmd_task_regrade,
	  "decide stored results again under the current markers" },
	{ "golden", cmd_task_golden,
	  "run with rubric steps grading golden "
	  "only" },
	{ "reset-containers", task_reset_containers,
	  "forget the task's container assignments" },
	{ "status", cmd_task_status,
	  "show the task's work queue (docs/workers.md)" },
	{ "cancel", cmd_task_cancel, "withdraw the task's queued items" },
	{ NULL, NULL, NULL },
};

int cmd_task(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return cmd_dispatch("task", task_commands, argc, argv, ctx);
}
