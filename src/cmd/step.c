/* task-sync step ...: the step noun (create, list, info, edit, ...) */
#include "cmd/cmd.h"
#include "core/deps.h"
#include "os/error.h"
#include "core/jsonutil.h"
#include "core/keypath.h"
#include "core/trailer.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "steps/registry.h"
#include "steps/settings_check.h"
#include "steps/step_settings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static json_t *step_to_json(const struct step *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(s->id));
	json_object_set_new(o, "task_id", json_integer(s->task_id));
	json_object_set_new(o, "title", json_string(s->title));
	json_object_set(o, "settings", s->settings);
	json_object_set(o, "results", s->results ? s->results : json_null());
	json_object_set_new(o, "generated_by",
			    s->generated_by ? json_integer(s->generated_by)
					    : json_null());
	json_object_set_new(o, "created_at", json_string(s->created_at));
	json_object_set_new(o, "updated_at", json_string(s->updated_at));
	return o;
}

/* a title that is empty or only whitespace is no title */
static int blank(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return !*s;
}

/* step_settings_new_deps (steps/step_settings.h), the error printed */
static int check_new_deps(struct store *st, long long self,
			  const json_t *before, const json_t *settings)
{
	struct strbuf err = STRBUF_INIT;
	int ret = step_settings_new_deps(st, self, before, settings, &err);

	if (err.len)
		error_code(ret, "%s", err.buf);
	strbuf_release(&err);
	return ret;
}

/* parse settings text and check it (step_settings_check) */
static json_t *parse_settings(const char *text)
{
	json_t *j = json_parse_named(text, "--settings");
	struct strbuf err = STRBUF_INIT;

	if (j && step_settings_check(j, &err)) {
		error("--settings: %s", err.buf);
		json_decref(j);
		j = NULL;
	}
	strbuf_release(&err);
	return j;
}

static int step_create(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *task = NULL, *title = NULL, *settings = NULL;
	int quiet = 0, ret;
	long long task_id, id;
	json_t *j = NULL;
	struct store *st;
	const struct option opts[] = {
		{ .long_name = "task",
		  .alias = "task-id",
		  .type = OPTION_STRING,
		  .target = &task,
		  .argh = "ID|NAME",
		  .help = "the task, by ID or exact name" },
		OPT_STRING(0, "title", &title, "TITLE", "the step's title"),
		OPT_STRING(0, "settings", &settings, "JSON",
			   "a JSON object whose one key is the step type"),
		OPT_QUIET(&quiet),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"step create --task ID|NAME --title TITLE --settings JSON",
		"Create a step and print its ID. The title must not be "
		"empty; the settings' keys must hold the kinds their type "
		"reads, and every step depends_on names must exist.",
		0,
		0,
		"  task-sync step create --task-id 1 --title \"Check files\" "
		"--settings '{\"file_exists\": [\"README.md\"]}'\n",
	};

	ret = parse_no_args(argc, argv, &u, opts, "step create");
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (!task || !title || !settings)
		return usage_error("step create", "--task, --title and "
						  "--settings are required");
	if (blank(title))
		return usage_error("step create", "--title: a step's title "
						  "cannot be empty");
	j = parse_settings(settings);
	if (!j)
		return EXIT_USAGE;
	st = cmd_store(ctx, 0);
	if (!st) {
		ret = CMD_DB_FAILED;
		goto out;
	}
	ret = store_task_resolve(st, task, &task_id);
	if (ret == TS_EUSAGE) /* a name shared by several tasks */
		hint("'task-sync task list' shows each task's ID");
	if (!ret)
		ret = check_new_deps(st, 0, NULL, j);
	if (!ret)
		ret = store_step_create(st, task_id, title, j, 0, &id);
	if (ret) {
		ret = ts_exit_code(ret);
		goto out;
	}
	if (quiet)
		fprintf(ctx->out, "%lld\n", id);
	else
		fprintf(ctx->out, "Step created with ID: %lld\n", id);
out:
	json_decref(j);
	return ret;
}

static int step_list(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int full = 0, as_json = 0, ret;
	long long task_id = 0;
	struct step *steps = NULL;
	size_t nr = 0, i;
	struct store *st;
	const struct option opts[] = {
		OPT_BOOL(0, "full", &full, "include the settings"),
		{ .long_name = "task",
		  .alias = "task-id",
		  .type = OPTION_ID,
		  .target = &task_id,
		  .argh = "ID",
		  .help = "only this task's steps" },
		OPT_JSON(&as_json),
		OPT_END_MARK,
	};
	const struct cmd_usage u = { "step list [--full] [--task ID] [--json]",
				     "List steps by ID.", 0, 0, NULL };

	ret = parse_no_args(argc, argv, &u, opts, "step list");
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	if (task_id) {
		struct task t = { 0 };
		ret = store_task_get(st, task_id, &t);
		task_release(&t);
		if (ret)
			return ts_exit_code(ret);
	}
	ret = store_step_list(st, task_id, &steps, &nr);
	if (ret)
		return ts_exit_code(ret);
	if (as_json) {
		json_t *a = json_array();
		for (i = 0; i < nr; i++)
			json_array_append_new(a, step_to_json(&steps[i]));
		cmd_print_json(ctx->out, a);
	} else {
		fputs("Steps:\n", ctx->out);
		for (i = 0; i < nr; i++) {
			fprintf(ctx->out, "  ID: %lld, TaskID: %lld, Title: %s",
				steps[i].id, steps[i].task_id, steps[i].title);
			if (full) {
				char *s = json_compact(steps[i].settings);
				fprintf(ctx->out, ", Settings: %s", s);
				free(s);
			}
			fputc('\n', ctx->out);
		}
	}
	step_list_free(steps, nr);
	return EXIT_OK;
}

/* "Settings:" block: pretty JSON, every line indented by two spaces */
static void print_block(FILE *out, const char *label, const json_t *j)
{
	char *s = json_pretty(j), *p;
	fprintf(out, "%s:\n  ", label);
	for (p = s; *p; p++) {
		fputc(*p, out);
		if (*p == '\n')
			fputs("  ", out);
	}
	fputs("\n\n", out);
	free(s);
}

/*
 * For people: each candidate's output with the grading harness's
 * trailer lines as phase lines (--json keeps the stored text)
 */
static void render_outputs(json_t *results)
{
	const char *key;
	json_t *v;

	json_object_foreach(results, key, v)
	{
		const json_t *o = json_object_get(v, "output");
		struct strbuf sb = STRBUF_INIT;
		if (!json_is_string(o))
			continue;
		trailer_render(&sb, json_string_value(o),
			       json_string_length(o));
		json_object_set_new(v, "output", json_stringn(sb.buf, sb.len));
		strbuf_release(&sb);
	}
}

static int step_info(int argc, const char **argv, struct cmd_ctx *ctx)
{
	int as_json = 0, ret;
	long long id;
	struct step s = { 0 };
	struct store *st;
	const struct option opts[] = OPT_JSON_ONLY(&as_json);
	const struct cmd_usage u = { "step info ID [--json]",
				     "Show one step, its settings and results.",
				     1, 1, NULL };

	ret = parse_one_id(argc, argv, &u, opts, "step info", "step", &id);
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	ret = store_step_get(st, id, &s);
	/* each candidate's output is kept in its run */
	if (!ret && json_is_object(s.results))
		ret = store_results_add_output(st, id, s.results);
	if (ret) {
		step_release(&s);
		return ts_exit_code(ret);
	}
	if (as_json) {
		cmd_print_json(ctx->out, step_to_json(&s));
	} else {
		fprintf(ctx->out, "Step #%lld: %s\nTask ID: %lld\n", s.id,
			s.title, s.task_id);
		if (s.generated_by)
			fprintf(ctx->out, "Generated by: %lld\n",
				s.generated_by);
		fprintf(ctx->out, "Created: %s\nUpdated: %s\n\n", s.created_at,
			s.updated_at);
		print_block(ctx->out, "Settings", s.settings);
		if (json_is_object(s.results) && json_object_size(s.results)) {
			render_outputs(s.results);
			print_block(ctx->out, "Results", s.results);
		}
	}
	step_release(&s);
	return EXIT_OK;
}

struct step_edit_ops {
	struct strvec *ops; /* "s<key>=<value>" or "r<key>" in argv order */
	struct store *st;
	int settings_changed;
	int removals_only; /* every op removes a key (--set KEY= too) */
	int removed;       /* ... and at least one removed something */
};

/* apply_step_ops: only removals, none of which found its key */
#define EDIT_UNCHANGED 1

static int apply_step_ops(struct step *s, void *data)
{
	struct step_edit_ops *e = data;
	json_t *before = json_deep_copy(s->settings);
	struct strbuf err = STRBUF_INIT;
	size_t i;
	int ret = 0;

	/* from scratch: the store may apply the edit again to a newer row */
	e->removals_only = 1;
	e->removed = e->settings_changed = 0;
	for (i = 0; i < e->ops->nr && !ret; i++) {
		const char *op = e->ops->v[i];
		char *key = xstrdup(op + 1), *eq = strchr(key, '=');

		if (op[0] == 's')
			*eq = '\0';
		if (op[0] == 's' && !strcmp(key, "title")) {
			free(s->title);
			s->title = xstrdup(eq + 1);
			e->removals_only = 0;
		} else if (op[0] == 'r' || !eq[1]) {
			/* --remove-key, or --set key= (empty deletes) */
			if (keypath_unset(s->settings, key) > 0)
				e->removed = 1;
			e->settings_changed = 1;
		} else {
			struct strbuf kerr = STRBUF_INIT;
			json_t *v = keypath_parse_value(eq + 1, &kerr);
			e->removals_only = 0;
			if (kerr.len || keypath_set(s->settings, key, v,
						    KEYPATH_STRICT, &kerr))
				ret = error_code(TS_EUSAGE, "%s", kerr.buf);
			strbuf_release(&kerr);
			e->settings_changed = 1;
		}
		free(key);
	}
	if (!ret && e->removals_only && !e->removed)
		ret = EDIT_UNCHANGED;
	if (!ret && e->settings_changed &&
	    step_settings_check(s->settings, &err))
		ret = error_code(TS_EUSAGE, "step %lld: %s", s->id, err.buf);
	strbuf_release(&err);
	/* only the dependencies the edit adds: the others were checked */
	if (!ret && e->settings_changed)
		ret = check_new_deps(e->st, s->id, before, s->settings);
	if (!ret && e->settings_changed)
		ret = cmd_check_storable("step", s->id, s->settings);
	json_decref(before);
	return ret;
}

/* a change the edit refuses before opening the database: the title */
static int check_title_ops(const struct strvec *ops)
{
	size_t i;

	for (i = 0; i < ops->nr; i++) {
		const char *op = ops->v[i];
		if ((op[0] == 'r' && !strcmp(op + 1, "title")) ||
		    (op[0] == 's' && !strncmp(op + 1, "title=", 6) &&
		     blank(op + 7)))
			return usage_error("step edit",
					   "title: a step's "
					   "title cannot be removed or empty");
	}
	return 0;
}

static int step_edit(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec ops = STRVEC_INIT;
	struct step_edit_ops e = { &ops, NULL, 0, 0, 0 };
	long long id;
	int ret;
	struct store *st;
	const struct option opts[] = {
		OPT_OPS(0, "set", &ops, "KEY=VALUE", 's',
			"set the title (not empty) or a settings dot path; VALUE "
			"is JSON when valid, else a string; for a settings key an "
			"empty VALUE removes the key"),
		OPT_OPS(0, "remove-key", &ops, "KEY", 'r',
			"remove a settings dot path; a missing one changes "
			"nothing (the title cannot be removed)"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"step edit ID (--set KEY=VALUE | --remove-key KEY)...",
		"Change a step in one transaction, applying the changes in "
		"the order given. Keys are dot paths into the settings "
		"(docker_run.parameters); write a literal dot as '\\.'. "
		"'title' is the step's title, which cannot be emptied. The "
		"settings must stay valid for the step's type, and a "
		"dependency the edit adds must name another existing step.",
		1,
		1,
		"  task-sync step edit 4 --set title=\"Run App Container "
		"(prod)\"\n"
		"  task-sync step edit 4 --set docker_run.parameters='[\"-p\","
		"\"8080:80\",\"--rm\"]'\n"
		"  task-sync step edit 4 --set docker_run.container_name=my-app\n"
		"  task-sync step edit 4 --remove-key docker_run.parameters\n",
	};

	if (parse_edit(argc, argv, &u, opts, "step edit", "step", &id, &ops,
		       "--remove-key", &ret))
		goto out;
	ret = check_title_ops(&ops);
	if (ret)
		goto out;
	st = cmd_store(ctx, 0);
	if (!st) {
		ret = CMD_DB_FAILED;
		goto out;
	}
	e.st = st;
	ret = store_step_edit_settings(st, id, apply_step_ops, &e);
	if (ret == EDIT_UNCHANGED) {
		fprintf(ctx->out, "Step %lld unchanged: nothing to remove.\n",
			id);
		ret = EXIT_OK;
		goto out;
	}
	ret = ts_exit_code(ret);
	if (!ret)
		fprintf(ctx->out, "Step %lld updated successfully.\n", id);
out:
	strvec_clear(&ops);
	return ret;
}

static int step_copy(int argc, const char **argv, struct cmd_ctx *ctx)
{
	long long id = 0, to = 0, new_id;
	int ret;
	struct store *st;
	const struct option opts[] = {
		OPT_ID(0, "id", &id, "STEP", "the step to copy"),
		{ .long_name = "to-task-id",
		  .alias = "to-task",
		  .type = OPTION_ID,
		  .target = &to,
		  .argh = "TASK",
		  .help = "the target task" },
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"step copy --id STEP --to-task-id TASK",
		"Copy a step's title and settings (not its results) to a "
		"task.",
		0, 0, NULL
	};

	ret = parse_no_args(argc, argv, &u, opts, "step copy");
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (!id || !to)
		return usage_error("step copy", "--id and --to-task-id are "
						"required");
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	ret = store_step_copy(st, id, to, &new_id);
	if (ret)
		return ts_exit_code(ret);
	fprintf(ctx->out, "Step %lld copied to task %lld as new step %lld.\n",
		id, to, new_id);
	return EXIT_OK;
}

static int step_delete(int argc, const char **argv, struct cmd_ctx *ctx)
{
	long long id;
	int ret;
	struct store *st;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = { "step delete ID", "Delete a step.", 1, 1,
				     NULL };

	ret = parse_one_id(argc, argv, &u, opts, "step delete", "step", &id);
	st = cmd_store_after(ctx, ret, 0, &ret);
	if (!st)
		return ret;
	ret = store_step_delete(st, id);
	if (ret)
		return ts_exit_code(ret);
	fprintf(ctx->out, "Step %lld deleted successfully.\n", id);
	return EXIT_OK;
}

static const struct cmd_entry step_commands[] = {
	{ "create", step_create, "create a step" },
	{ "list", step_list, "list steps" },
	{ "info", step_info, "show a step" },
	{ "edit", step_edit, "change a step's title or settings" },
	{ "copy", step_copy, "copy a step to a task" },
	{ "delete", step_delete, "delete a step" },
	{ "run", NULL,
	  "run a step (--force, --dry-run, --golden, "
	  "--original)" },
	{ "golden", NULL, "run a rubric step on golden (and original)" },
	{ "original", NULL, "run a rubric step on the original only" },
	{ "runs", cmd_step_runs,
	  "list a step's executions (a rubric "
	  "step's by candidate)" },
	{ "log", cmd_step_log,
	  "print one execution's output (--candidate "
	  "NAME, --raw)" },
	{ "tree", cmd_step_tree, "draw each task's steps as a tree" },
	{ "cleanup-rubric-shells", cmd_step_cleanup_rubric_shells,
	  "delete old non-rubric children of a step" },
	{ NULL, NULL, NULL },
};

int cmd_step(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const struct cmd_entry *e;
	/* run, golden and original live in cmd/run.c's table */
	for (e = step_run_commands; argc > 0 && e->name; e++)
		if (!strcmp(e->name, argv[0]))
			return e->fn(argc - 1, argv + 1, ctx);
	return cmd_dispatch("step", step_commands, argc, argv, ctx);
}
