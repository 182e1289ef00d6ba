#include "cmd/cmd.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "core/jsonutil.h"

#include <stdlib.h>
#include <string.h>

struct config *cmd_load_config(struct cmd_ctx *ctx)
{
	if (!ctx->cfg_loaded) {
		if (config_load(&ctx->cfg)) {
			config_release(&ctx->cfg);
			return NULL;
		}
		ctx->cfg_loaded = 1;
	}
	return &ctx->cfg;
}

int cmd_check_storable(const char *noun, long long id, const json_t *settings)
{
	struct strbuf why = STRBUF_INIT;
	char *text = json_compact_stored(settings, &why);
	int ret = 0;

	if (!text)
		ret = error_code(TS_EUSAGE,
				 "%s %lld: the new settings could "
				 "not be read back (%s); nothing changed",
				 noun, id, why.buf);
	free(text);
	strbuf_release(&why);
	return ret;
}

struct store *cmd_store(struct cmd_ctx *ctx, unsigned flags)
{
	struct config *cfg;
	if (ctx->st)
		return ctx->st;
	cfg = cmd_load_config(ctx);
	if (!cfg)
		return NULL;
	if (store_open(cfg, flags, &ctx->st))
		return NULL;
	return ctx->st;
}

struct store *cmd_store_after(struct cmd_ctx *ctx, int parsed, unsigned flags,
			      int *code)
{
	struct store *st;
	if (parsed < 0) {
		*code = PARSE_EXIT(parsed);
		return NULL;
	}
	st = cmd_store(ctx, flags);
	if (!st)
		*code = CMD_DB_FAILED;
	return st;
}

void cmd_print_json(FILE *out, json_t *j)
{
	char *s = json_pretty(j);
	fprintf(out, "%s\n", s);
	free(s);
	json_decref(j);
}

static void list_commands(FILE *fp, const char *group,
			  const struct cmd_entry *table)
{
	const struct cmd_entry *e;
	fprintf(fp, "usage: task-sync %s <command> [options]\n\ncommands:\n",
		group);
	for (e = table; e->name; e++)
		if (e->summary)
			fprintf(fp, "  %-24s %s\n", e->name, e->summary);
	fprintf(fp, "\nRun 'task-sync %s <command> --help' for details.\n",
		group);
}

int cmd_dispatch(const char *group, const struct cmd_entry *table, int argc,
		 const char **argv, struct cmd_ctx *ctx)
{
	const struct cmd_entry *e;

	if (argc < 1) {
		list_commands(stderr, group, table);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "help")) {
		list_commands(stdout, group, table);
		return EXIT_OK;
	}
	for (e = table; e->name; e++)
		if (!strcmp(e->name, argv[0])) {
			int ret = e->fn(argc - 1, argv + 1, ctx);
			/* every usage error ends with a hint (exit-codes.md) */
			if (ret == EXIT_USAGE && !hint_given())
				hint("see 'task-sync %s %s --help'", group,
				     e->name);
			return ret;
		}
	fprintf(stderr, "error: unknown command '%s %s'\n", group, argv[0]);
	{
		struct name_match m = NAME_MATCH_INIT(argv[0], strlen(argv[0]));
		for (e = table; e->name; e++)
			if (e->summary)
				name_match_offer(&m, e->name);
		if (m.best)
			hint("did you mean '%s %s'?", group, m.best);
	}
	hint("see 'task-sync %s --help'", group);
	return EXIT_USAGE;
}

int ts_exit_code(int err)
{
	switch (err) {
	case TS_OK:
	case PARSE_HELP:
		return EXIT_OK;
	case TS_ENOTFOUND:
		return EXIT_NOT_FOUND;
	case TS_EUSAGE:
		return EXIT_USAGE;
	case TS_ESTEP:
		return EXIT_STEP_FAILED;
	default:
		return EXIT_CONFIG;
	}
}
