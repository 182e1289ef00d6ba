#ifndef CMD_CMD_H
#define CMD_CMD_H

#include <stdio.h>

#include "core/config.h"
#include "os/error.h"
#include "os/strvec.h"
#include "store/store.h"

/* the exit-code contract (docs/exit-codes.md): cmd/ alone knows it */
enum ts_exit {
	EXIT_OK = 0,
	EXIT_STEP_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3, /* configuration or database error */
	EXIT_NOT_FOUND = 4,
};

/* map a TS_E* code (or 0) to the process exit code */
int ts_exit_code(int err);

/*
 * The command layer: every handler gets a context, parses its options
 * first (so --help and usage errors never touch the database), then
 * asks for the store with cmd_store(). Handlers return exit codes
 * (above); only they and main decide them.
 */

struct cmd_ctx {
	const char *prog_path; /* "task create", for messages */
	FILE *out;             /* stdout; the only place results go */
	struct config cfg;
	int cfg_loaded;
	struct store *st;
};

/* load the configuration and open the store once; NULL after an error */
struct store *cmd_store(struct cmd_ctx *ctx, unsigned flags);
/*
 * 0 when settings would read back as they are once stored, else
 * TS_EUSAGE after "NOUN ID: the new settings could not be read back
 * (why); nothing changed" (never write what could not be read).
 */
int cmd_check_storable(const char *noun, long long id, const json_t *settings);
/*
 * The start of a handler once parse_options (or parse_one_id) returned
 * parsed: the store opened with flags, or NULL with *code the exit code
 * (after --help 0, after a usage error 2, else CMD_DB_FAILED).
 */
struct store *cmd_store_after(struct cmd_ctx *ctx, int parsed, unsigned flags,
			      int *code);
/* j as pretty JSON and a newline on out; steals j */
void cmd_print_json(FILE *out, json_t *j);
/* the configuration alone; NULL after an error */
struct config *cmd_load_config(struct cmd_ctx *ctx);
/* the exit code that fits the last store/config failure */
#define CMD_DB_FAILED EXIT_CONFIG

typedef int (*cmd_fn)(int argc, const char **argv, struct cmd_ctx *ctx);

struct cmd_entry {
	const char *name;
	cmd_fn fn;
	const char *summary;
};

/* dispatch argv[0] among a table of sub-commands */
int cmd_dispatch(const char *group, const struct cmd_entry *table, int argc,
		 const char **argv, struct cmd_ctx *ctx);

/* ---- options as data ---- */

enum opt_type {
	OPTION_BOOL,   /* int *: set to 1 */
	OPTION_STRING, /* const char **: last one wins */
	OPTION_ID,     /* long long *: a positive integer */
	OPTION_OPS,    /* struct strvec *: "<tag><value>" in argv order */
	OPTION_END,
};

struct option {
	const char *long_name; /* without the dashes */
	char short_name;       /* 0 for none */
	enum opt_type type;
	void *target;
	const char *argh; /* the value's name in help, e.g. "NAME" */
	const char *help;
	char tag;          /* OPTION_OPS: the tag prepended */
	const char *alias; /* another accepted long name */
};

/*
 * The rows of an options table, by field name (git's parse-options):
 * OPT_BOOL(short, long, int *, help), OPT_STRING(short, long,
 * const char **, argh, help), OPT_ID(short, long, long long *, argh,
 * help), OPT_OPS(short, long, struct strvec *, argh, tag, help); a row
 * with an alias is written out with designated initialisers.
 */
#define OPT_BOOL(s, l, v, h)                                              \
	{                                                                 \
		.short_name = (s), .long_name = (l), .type = OPTION_BOOL, \
		.target = (v), .help = (h)                                \
	}
#define OPT_STRING(s, l, v, a, h)                                           \
	{                                                                   \
		.short_name = (s), .long_name = (l), .type = OPTION_STRING, \
		.target = (v), .argh = (a), .help = (h)                     \
	}
#define OPT_ID(s, l, v, a, h)                                           \
	{                                                               \
		.short_name = (s), .long_name = (l), .type = OPTION_ID, \
		.target = (v), .argh = (a), .help = (h)                 \
	}
#define OPT_OPS(s, l, v, a, t, h)                                        \
	{                                                                \
		.short_name = (s), .long_name = (l), .type = OPTION_OPS, \
		.target = (v), .argh = (a), .tag = (t), .help = (h)      \
	}
#define OPT_END_MARK               \
	{                          \
		.type = OPTION_END \
	}
/* -q/--quiet of the create commands; target an int * */
#define OPT_QUIET(target) \
	OPT_BOOL('q', "quiet", (target), "print only the new ID")
/* --json, the option of every read command; target an int * */
#define OPT_JSON(target) OPT_BOOL(0, "json", (target), "print JSON")
/* the options of a command whose only one is --json */
#define OPT_JSON_ONLY(target)                  \
	{                                      \
		OPT_JSON(target), OPT_END_MARK \
	}

struct cmd_usage {
	const char *usage;      /* "task create --name NAME [...]" */
	const char *desc;       /* one paragraph, may be NULL */
	int min_args, max_args; /* positional arguments; max -1 = any */
	const char *examples;   /* optional, printed verbatim */
};

/*
 * Parse argv (argv[0] is the first argument, not the command name).
 * Positional arguments are collected into *args. "--" ends options.
 * Returns the number of positionals, PARSE_HELP when --help was printed
 * (exit 0), or PARSE_USAGE (TS_EUSAGE) after reporting a usage error
 * (exit 2); ts_exit_code() maps both.
 */
int parse_options(int argc, const char **argv, const struct cmd_usage *u,
		  const struct option *opts, const char *prog,
		  struct strvec *args);
void print_usage(FILE *fp, const struct cmd_usage *u,
		 const struct option *opts);
/* parse_options' negative returns, apart from every TS_E* but the usage one */
#define PARSE_HELP (-100)
#define PARSE_USAGE TS_EUSAGE
/* turn parse_options' negative returns into exit codes */
#define PARSE_EXIT(r) ts_exit_code(r)
/* parse_options for a command that takes no positional argument */
int parse_no_args(int argc, const char **argv, const struct cmd_usage *u,
		  const struct option *opts, const char *prog);

/*
 * parse_options for a command whose one argument is an ID: returns what
 * parse_options returns, or -2 after reporting a bad ID.
 */
int parse_one_id(int argc, const char **argv, const struct cmd_usage *u,
		 const struct option *opts, const char *prog, const char *what,
		 long long *id);
/*
 * The start shared by task edit and step edit: parse_one_id, then check
 * their "s<KEY=VALUE>" and other ops: at least one, and every --set has
 * an '='. Returns 0, or -1 with *code the exit code (0 after --help, 2
 * after a usage error, reported).
 */
int parse_edit(int argc, const char **argv, const struct cmd_usage *u,
	       const struct option *opts, const char *prog, const char *what,
	       long long *id, const struct strvec *ops, const char *other,
	       int *code);
/* strict positive integer ID; reports "invalid <what> ID 'x'" */
int parse_id_arg(const char *s, const char *what, long long *id);
int usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * "did you mean": the close match of a mistyped command or option name.
 * Offer each candidate to name_match_offer(); best is then the closest
 * one, NULL when none is close. Closest is the same name but for case
 * and '_' written for '-' (--task_id, --Task-Id for --task-id); then a
 * name that starts with the same two characters. Ties keep the first.
 */
struct name_match {
	const char *typed;
	size_t len;
	const char *best;
	int score;
};
#define NAME_MATCH_INIT(typed, len)     \
	{                               \
		(typed), (len), NULL, 0 \
	}
void name_match_offer(struct name_match *m, const char *name);

/* handlers of the command groups */
int cmd_task(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_step(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_migrate(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_config(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_cleanup(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_gc(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_task_run(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_task_golden(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_run_steps(int argc, const char **argv, struct cmd_ctx *ctx);
/* serve: the HTTP API (cmd/serve.c, serve/) */
int cmd_serve(int argc, const char **argv, struct cmd_ctx *ctx);
/* step run|golden|original, looked up by cmd_step */
extern const struct cmd_entry step_run_commands[];
/* step runs|log (cmd/runlog.c) */
int cmd_step_runs(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_step_log(int argc, const char **argv, struct cmd_ctx *ctx);
/* task report|regrade (cmd/report.c) */
int cmd_task_report(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_task_regrade(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_task_check(int argc, const char **argv, struct cmd_ctx *ctx);
int cmd_step_tree(int argc, const char **argv, struct cmd_ctx *ctx);
/*
 * __complete WORD...: the shell completion's candidates for the last WORD,
 * read from the help of top's commands (cmd/complete.c)
 */
int cmd_complete(int argc, const char **argv, const struct cmd_entry *top);
int cmd_step_cleanup_rubric_shells(int argc, const char **argv,
				   struct cmd_ctx *ctx);

#endif
