/*
 * task-sync: keeps tasks and their steps in a database and runs the
 * steps as a workflow. This file holds the top-level command table.
 */
#include "cmd/cmd.h"
#include "cmd/queue.h"
#include "os/error.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

#ifndef TASK_SYNC_VERSION
#define TASK_SYNC_VERSION "0.1.0"
#endif

static int cmd_version(int argc, const char **argv, struct cmd_ctx *ctx)
{
	(void)argc;
	(void)argv;
	fprintf(ctx->out, "task-sync %s (%s)\n", TASK_SYNC_VERSION,
		TASK_SYNC_GIT_DESCRIBE);
	return EXIT_OK;
}

static const struct cmd_entry commands[] = {
	{ "task", cmd_task, "create, list, edit, delete and run tasks" },
	{ "step", cmd_step, "create, list, edit, copy, delete and run steps" },
	{ "run-steps", cmd_run_steps,
	  "run what needs running in every "
	  "active task" },
	{ "worker", cmd_worker,
	  "run queued items: grading across machines (docs/workers.md)" },
	{ "migrate", cmd_migrate, "apply, revert and inspect the schema" },
	{ "serve", cmd_serve, "serve the HTTP API (docs/serve.md)" },
	{ "config", cmd_config, "show the effective configuration" },
	{ "cleanup", cmd_cleanup, "maintenance: cleanup legacy-results" },
	{ "gc", cmd_gc, "remove the Docker objects task-sync created" },
	{ "version", cmd_version, "print the version" },
	{ NULL, NULL, NULL },
};

static void main_help(FILE *fp)
{
	const struct cmd_entry *e;
	fputs("usage: task-sync <command> [<args>]\n\n"
	      "Keeps tasks and their steps in a database and runs the steps "
	      "as a workflow.\n\ncommands:\n",
	      fp);
	for (e = commands; e->name; e++)
		fprintf(fp, "  %-12s %s\n", e->name, e->summary);
	fputs("\nRun 'task-sync <command> --help' for a command's options.\n"
	      "Exit codes: 0 ok, 1 a step failed, 2 usage error, "
	      "3 configuration or database error, 4 not found.\n",
	      fp);
}

int main(int argc, const char **argv)
{
	struct cmd_ctx ctx = { 0 };
	const struct cmd_entry *e;
	int ret = EXIT_USAGE;

	ctx.out = stdout;
	if (argc < 2) {
		main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		main_help(stdout);
		ret = EXIT_OK;
		goto flush;
	}
	/* hidden: the shell completion's candidates (cmd/complete.c) */
	if (!strcmp(argv[1], "__complete")) {
		ret = cmd_complete(argc - 2, argv + 2, commands);
		goto flush;
	}
	if (!strcmp(argv[1], "--version")) {
		ret = cmd_version(0, NULL, &ctx);
		goto flush;
	}
	for (e = commands; e->name; e++)
		if (!strcmp(e->name, argv[1]))
			break;
	if (!e->name) {
		fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
		hint("see 'task-sync --help'");
		return EXIT_USAGE;
	}
	ret = e->fn(argc - 2, argv + 2, &ctx);
	/* every usage error ends with a hint (exit-codes.md) */
	if (ret == EXIT_USAGE && !hint_given())
		hint("see 'task-sync %s --help'", e->name);
	/* a row read as empty because it could not be parsed: reported */
	if (ret == EXIT_OK && store_unreadable_rows())
		ret = EXIT_CONFIG;
	store_close(ctx.st);
	if (ctx.cfg_loaded)
		config_release(&ctx.cfg);
flush:
	if (fflush(stdout) || ferror(stdout)) {
		error("cannot write to standard output");
		ret = EXIT_CONFIG;
	}
	return ret;
}
