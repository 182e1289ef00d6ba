/* task-sync migrate up|down|status|force|reset */
#include "cmd/cmd.h"
#include "os/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ask on stdin; only the word "yes" confirms */
static int confirm(const char *question)
{
	char buf[64];
	fprintf(stderr, "%s Type \"yes\" to continue: ", question);
	fflush(stderr);
	if (!fgets(buf, sizeof(buf), stdin))
		return 0;
	buf[strcspn(buf, "\r\n")] = '\0';
	return !strcmp(buf, "yes");
}

static struct store *migrate_store(struct cmd_ctx *ctx)
{
	return cmd_store(ctx, STORE_NO_MIGRATE);
}

static int migrate_up(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = { "migrate up",
				     "Apply every pending migration.", 0, 0,
				     NULL };
	int ret = parse_options(argc, argv, &u, opts, "migrate up", &args);
	struct store *st;

	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	st = migrate_store(ctx);
	if (!st || store_migrate_up(st, NULL))
		return EXIT_CONFIG;
	fputs("Migration up completed.\n", ctx->out);
	return EXIT_OK;
}

static int migrate_down(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	int yes = 0, ret, n;
	const char *steps_s = NULL;
	long steps = 0;
	char *end;
	struct store *st;
	const struct option opts[] = {
		OPT_BOOL('y', "yes", &yes, "do not ask"),
		OPT_STRING(0, "step", &steps_s, "N",
			   "revert only the last N migrations (default: all)"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"migrate down [--yes] [--step N]",
		"Revert migrations: the last N with --step, else all of them "
		"(which drops task-sync's tables and their data).",
		0, 0, NULL
	};

	ret = parse_options(argc, argv, &u, opts, "migrate down", &args);
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (steps_s) {
		errno = 0;
		steps = strtol(steps_s, &end, 10);
		if (errno || *end || !*steps_s || steps <= 0)
			return usage_error("migrate down",
					   "invalid --step "
					   "'%s': expected a positive number",
					   steps_s);
	}
	if (!yes && !confirm("Are you sure you want to downgrade the "
			     "database?")) {
		fputs("Aborted.\n", ctx->out);
		return EXIT_STEP_FAILED;
	}
	st = migrate_store(ctx);
	if (!st || store_migrate_down(st, (int)steps, &n))
		return EXIT_CONFIG;
	fputs("Migration down completed.\n", ctx->out);
	return EXIT_OK;
}

static int migrate_status(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = { "migrate status",
				     "Show the schema version.", 0, 0, NULL };
	int ret = parse_options(argc, argv, &u, opts, "migrate status", &args);
	int version, dirty;
	struct store *st;

	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	st = migrate_store(ctx);
	if (!st || store_schema_version(st, &version, &dirty))
		return EXIT_CONFIG;
	fprintf(ctx->out, "Current migration version: %d\nDirty state: %s\n",
		version, dirty ? "true" : "false");
	if (version < store_schema_latest())
		fprintf(ctx->out, "Pending migrations: %d (latest is %d)\n",
			store_schema_latest() - version, store_schema_latest());
	return EXIT_OK;
}

static int migrate_force(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = {
		"migrate force VERSION",
		"Record VERSION as the schema version and clear the dirty "
		"flag, without running any migration.",
		1, 1, NULL
	};
	int ret = parse_options(argc, argv, &u, opts, "migrate force", &args);
	long v = -1;
	char *end = NULL;
	struct store *st;

	if (ret >= 0) {
		errno = 0;
		v = strtol(args.v[0], &end, 10);
		if (errno || *end || !*args.v[0] || v < 0 ||
		    v > store_schema_latest()) {
			usage_error("migrate force",
				    "invalid version '%s': "
				    "expected 0..%d",
				    args.v[0], store_schema_latest());
			ret = PARSE_USAGE;
		}
	}
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	st = migrate_store(ctx);
	if (!st || store_migrate_force(st, (int)v))
		return EXIT_CONFIG;
	fprintf(ctx->out,
		"Forced migration version to %ld and cleared dirty "
		"flag.\n",
		v);
	return EXIT_OK;
}

static int migrate_reset(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	int yes = 0, ret;
	struct store *st;
	const struct option opts[] = {
		OPT_BOOL('y', "yes", &yes, "do not ask"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"migrate reset [--yes]",
		"Drop task-sync's own tables (and nothing else), then apply "
		"every migration. All tasks and steps are lost.",
		0, 0, NULL
	};

	ret = parse_options(argc, argv, &u, opts, "migrate reset", &args);
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	if (!yes && !confirm("This deletes every task and step. Are you "
			     "sure?")) {
		fputs("Aborted.\n", ctx->out);
		return EXIT_STEP_FAILED;
	}
	st = migrate_store(ctx);
	if (!st)
		return EXIT_CONFIG;
	if (store_migrate_reset(st))
		return EXIT_CONFIG;
	fputs("All tables dropped. Re-applying migrations...\n", ctx->out);
	fputs("Database reset and all migrations reapplied.\n", ctx->out);
	return EXIT_OK;
}

static const struct cmd_entry migrate_commands[] = {
	{ "up", migrate_up, "apply pending migrations" },
	{ "down", migrate_down, "revert migrations" },
	{ "status", migrate_status, "show the schema version" },
	{ "force", migrate_force, "set the version, clear the dirty flag" },
	{ "reset", migrate_reset, "drop task-sync's tables and migrate up" },
	{ NULL, NULL, NULL },
};

int cmd_migrate(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return cmd_dispatch("migrate", migrate_commands, argc, argv, ctx);
}
