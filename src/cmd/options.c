#include "cmd/cmd.h"
#include "os/error.h"
#include "os/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	hint("see 'task-sync %s --help'", prog);
	return EXIT_USAGE;
}

static int same_but_case_and_dash(const char *typed, size_t len,
				  const char *name)
{
	size_t i;

	if (strlen(name) != len)
		return 0;
	for (i = 0; i < len; i++) {
		int a = tolower((unsigned char)typed[i]);
		int b = tolower((unsigned char)name[i]);
		if (a == '_')
			a = '-';
		if (b == '_')
			b = '-';
		if (a != b)
			return 0;
	}
	return 1;
}

void name_match_offer(struct name_match *m, const char *name)
{
	int score = 0;

	if (same_but_case_and_dash(m->typed, m->len, name))
		score = 2;
	else if (m->len >= 2 && !strncmp(name, m->typed, 2))
		score = 1;
	if (score > m->score) {
		m->score = score;
		m->best = name;
	}
}

/* "unknown option '--x' for 'prog'", a close match, and the --help hint */
static int unknown_long_option(const char *prog, const char *a, size_t len,
			       const struct option *opts)
{
	struct name_match m = NAME_MATCH_INIT(a + 2, len);
	const struct option *o;

	for (o = opts; o && o->type != OPTION_END; o++) {
		name_match_offer(&m, o->long_name);
		if (o->alias)
			name_match_offer(&m, o->alias);
	}
	name_match_offer(&m, "help");
	fprintf(stderr, "error: unknown option '%.*s' for '%s'\n", (int)len + 2,
		a, prog);
	if (m.best)
		hint("did you mean '--%s'?", m.best);
	hint("see 'task-sync %s --help'", prog);
	return PARSE_USAGE;
}

static int id_parse(const char *s, long long *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v <= 0 ||
	    strspn(s, "+0123456789") != strlen(s))
		return -1;
	*id = v;
	return 0;
}

int parse_id_arg(const char *s, const char *what, long long *id)
{
	if (id_parse(s, id))
		return error("invalid %s ID '%s': expected a positive integer",
			     what, s);
	return 0;
}

void print_usage(FILE *fp, const struct cmd_usage *u, const struct option *opts)
{
	const struct option *o;

	fprintf(fp, "usage: task-sync %s\n", u->usage);
	if (u->desc)
		fprintf(fp, "\n%s\n", u->desc);
	fputs("\noptions:\n", fp);
	for (o = opts; o && o->type != OPTION_END; o++) {
		struct strbuf sb = STRBUF_INIT;
		if (o->short_name)
			strbuf_addf(&sb, "-%c, ", o->short_name);
		strbuf_addf(&sb, "--%s", o->long_name);
		if (o->type != OPTION_BOOL)
			strbuf_addf(&sb, " %s", o->argh ? o->argh : "VALUE");
		fprintf(fp, "  %-28s %s", sb.buf, o->help);
		if (o->alias)
			fprintf(fp, " (also --%s)", o->alias);
		fputc('\n', fp);
		strbuf_release(&sb);
	}
	fprintf(fp, "  %-28s %s\n", "-h, --help", "show this help");
	if (u->examples)
		fprintf(fp, "\nexamples:\n%s", u->examples);
}

static const struct option *find_long(const struct option *opts,
				      const char *name, size_t len)
{
	const struct option *o;
	for (o = opts; o && o->type != OPTION_END; o++) {
		if (strlen(o->long_name) == len &&
		    !strncmp(o->long_name, name, len))
			return o;
		if (o->alias && strlen(o->alias) == len &&
		    !strncmp(o->alias, name, len))
			return o;
	}
	return NULL;
}

static const struct option *find_short(const struct option *opts, char c)
{
	const struct option *o;
	for (o = opts; o && o->type != OPTION_END; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static int apply(const struct option *o, const char *value, const char *prog)
{
	switch (o->type) {
	case OPTION_BOOL:
		*(int *)o->target = 1;
		return 0;
	case OPTION_STRING:
		*(const char **)o->target = value;
		return 0;
	case OPTION_ID:
		/* "invalid --id 'x'", not "invalid id ID 'x'" */
		if (id_parse(value, (long long *)o->target)) {
			usage_error(prog,
				    "invalid --%s '%s': expected a "
				    "positive integer",
				    o->long_name, value);
			return PARSE_USAGE;
		}
		return 0;
	case OPTION_OPS:
		strvec_pushf((struct strvec *)o->target, "%c%s", o->tag, value);
		return 0;
	case OPTION_END:
		break;
	}
	return PARSE_USAGE;
}

int parse_options(int argc, const char **argv, const struct cmd_usage *u,
		  const struct option *opts, const char *prog,
		  struct strvec *args)
{
	int i, only_args = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct option *o = NULL;
		const char *value = NULL;

		if (only_args || a[0] != '-' || !a[1] ||
		    (a[1] >= '0' && a[1] <= '9')) {
			strvec_push(args, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(stdout, u, opts);
			return PARSE_HELP;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			o = find_long(opts, a + 2, len);
			if (!o)
				return unknown_long_option(prog, a, len, opts);
			if (eq) {
				if (o->type == OPTION_BOOL) {
					usage_error(prog,
						    "option '--%s' "
						    "takes no value",
						    o->long_name);
					return PARSE_USAGE;
				}
				value = eq + 1;
			}
		} else {
			o = find_short(opts, a[1]);
			if (!o || a[2]) {
				usage_error(prog,
					    "unknown option '%s' for "
					    "'%s'",
					    a, prog);
				return PARSE_USAGE;
			}
		}
		if (o->type != OPTION_BOOL && !value) {
			if (i + 1 >= argc) {
				usage_error(prog,
					    "option '--%s' needs a "
					    "value",
					    o->long_name);
				return PARSE_USAGE;
			}
			value = argv[++i];
		}
		if (apply(o, value, prog))
			return PARSE_USAGE;
	}
	if ((int)args->nr < u->min_args) {
		usage_error(prog, "'%s' needs %d argument%s", prog, u->min_args,
			    u->min_args == 1 ? "" : "s");
		return PARSE_USAGE;
	}
	if (u->max_args >= 0 && (int)args->nr > u->max_args) {
		usage_error(prog, "unexpected argument '%s'",
			    args->v[u->max_args]);
		return PARSE_USAGE;
	}
	return (int)args->nr;
}

int parse_no_args(int argc, const char **argv, const struct cmd_usage *u,
		  const struct option *opts, const char *prog)
{
	struct strvec args = STRVEC_INIT;
	int ret = parse_options(argc, argv, u, opts, prog, &args);
	strvec_clear(&args);
	return ret;
}

int parse_one_id(int argc, const char **argv, const struct cmd_usage *u,
		 const struct option *opts, const char *prog, const char *what,
		 long long *id)
{
	struct strvec args = STRVEC_INIT;
	int ret = parse_options(argc, argv, u, opts, prog, &args);
	if (ret >= 0 && parse_id_arg(args.v[0], what, id))
		ret = PARSE_USAGE;
	strvec_clear(&args);
	return ret;
}

int parse_edit(int argc, const char **argv, const struct cmd_usage *u,
	       const struct option *opts, const char *prog, const char *what,
	       long long *id, const struct strvec *ops, const char *other,
	       int *code)
{
	int ret = parse_one_id(argc, argv, u, opts, prog, what, id);
	size_t i;

	if (ret < 0) {
		*code = PARSE_EXIT(ret);
		return -1;
	}
	*code = EXIT_USAGE;
	if (!ops->nr) {
		usage_error(prog, "nothing to change: give --set or %s", other);
		return -1;
	}
	for (i = 0; i < ops->nr; i++)
		if (ops->v[i][0] == 's' && !strchr(ops->v[i], '=')) {
			usage_error(prog, "--set needs KEY=VALUE, got '%s'",
				    ops->v[i] + 1);
			return -1;
		}
	*code = 0;
	return 0;
}
