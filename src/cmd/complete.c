/*
 * task-sync __complete WORD...: the candidates for the last WORD (the one
 * under the cursor, "" for a new one), one a line, for the shell's
 * completion (completion/task-sync.bash). Hidden: not in any help.
 *
 * It never keeps a list of its own: the command groups, their commands,
 * each command's options and positional arguments are read from the help
 * the same command tables and option rows print (cmd_dispatch's list,
 * print_usage), asked for in a child process, so completion cannot go
 * stale. Arguments named ID, TASK, STEP (TASK_ID, PARENT_ID, ...) are
 * completed with the IDs in the database, read without creating or
 * migrating anything; any failure there completes nothing.
 */
#include "cmd/cmd.h"
#include "os/strbuf.h"
#include "os/strvec.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* what a path of words names: a group of commands, or one command */
struct help {
	int is_group;
	struct strvec commands; /* a group's commands */
	struct strvec longs;    /* a command's "--name", "--alias" */
	struct strvec shorts;   /* "-x" */
	struct strvec values;   /* per long/short: the value's name or "" */
	struct strvec svalues;
	struct strvec positionals; /* the usage line's arguments, in order */
};

static void help_release(struct help *h)
{
	strvec_clear(&h->commands);
	strvec_clear(&h->longs);
	strvec_clear(&h->shorts);
	strvec_clear(&h->values);
	strvec_clear(&h->svalues);
	strvec_clear(&h->positionals);
}

/* the help entry->fn prints for args + "--help", run in a child */
static int run_help(const struct cmd_entry *e, const struct strvec *args,
		    struct strbuf *out)
{
	int fd[2], status;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	fflush(stdout);
	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (!pid) {
		struct cmd_ctx ctx = { 0 };
		const char **av = calloc(args->nr + 2, sizeof(*av));
		size_t i;
		int null = open("/dev/null", O_WRONLY);
		close(fd[0]);
		if (!av || dup2(fd[1], 1) < 0 || null < 0 || dup2(null, 2) < 0)
			_exit(1);
		for (i = 0; i < args->nr; i++)
			av[i] = args->v[i];
		av[i] = "--help";
		ctx.out = stdout;
		e->fn((int)args->nr + 1, av, &ctx);
		fflush(stdout);
		_exit(0);
	}
	close(fd[1]);
	while ((n = read(fd[0], buf, sizeof(buf))) > 0)
		strbuf_add(out, buf, (size_t)n);
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0)
		;
	return 0;
}

/* the first word of line (leading blanks skipped), into w */
static const char *word_at(const char *p, struct strbuf *w)
{
	strbuf_setlen(w, 0);
	while (*p == ' ')
		p++;
	while (*p && *p != ' ' && *p != '\n')
		strbuf_addch(w, *p++);
	return p;
}

static int is_value_name(const char *s)
{
	if (!(*s >= 'A' && *s <= 'Z'))
		return 0;
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			return 0;
	return 1;
}

/* an options line of print_usage: "  -x, --name VALUE    help (also --a)" */
static void parse_option_line(struct help *h, const char *p)
{
	struct strbuf w = STRBUF_INIT, value = STRBUF_INIT;
	const char *also, *end;
	char shortname[3] = "";

	p = word_at(p, &w);
	if (w.len == 3 && w.buf[0] == '-' && w.buf[2] == ',') {
		shortname[0] = '-';
		shortname[1] = w.buf[1];
		p = word_at(p, &w);
	}
	if (strncmp(w.buf, "--", 2)) {
		strbuf_release(&w);
		return;
	}
	/* one space, then the value's name; the help is two spaces on */
	if (p[0] == ' ' && p[1] != ' ') {
		word_at(p, &value);
		if (!is_value_name(value.buf))
			strbuf_setlen(&value, 0);
	}
	strvec_push(&h->longs, w.buf);
	strvec_push(&h->values, value.buf);
	if (shortname[0]) {
		strvec_push(&h->shorts, shortname);
		strvec_push(&h->svalues, value.buf);
	}
	also = strstr(p, "(also --");
	if (also) {
		also += strlen("(also ");
		end = strchr(also, ')');
		if (end) {
			strbuf_setlen(&w, 0);
			strbuf_add(&w, also, (size_t)(end - also));
			strvec_push(&h->longs, w.buf);
			strvec_push(&h->values, value.buf);
		}
	}
	strbuf_release(&w);
	strbuf_release(&value);
}

/*
 * The usage line's positional arguments, after "usage: task-sync WORDS":
 * an option's value is skipped; "[", "]", "(", ")", "|" and "..." are not
 * part of a name.
 */
static void parse_usage_line(struct help *h, const char *p, size_t skip)
{
	struct strbuf w = STRBUF_INIT;
	int after_option = 0;
	size_t i;

	p = word_at(p, &w); /* usage: */
	p = word_at(p, &w); /* task-sync */
	for (i = 0; i < skip; i++)
		p = word_at(p, &w);
	for (;;) {
		char *s;
		size_t len;
		p = word_at(p, &w);
		if (!w.len)
			break;
		s = w.buf;
		s += strspn(s, "[(|");
		len = strcspn(s, "])|.");
		s[len] = '\0';
		if (!*s)
			continue;
		if (s[0] == '-') {
			after_option = 1;
			continue;
		}
		if (!after_option)
			strvec_push(&h->positionals, s);
		after_option = 0;
	}
	strbuf_release(&w);
}

static void parse_help(struct help *h, const char *text, size_t path_len)
{
	const char *line = text;
	enum { NONE, COMMANDS, OPTIONS } section = NONE;
	struct strbuf w = STRBUF_INIT;

	while (*line) {
		const char *nl = strchrnul(line, '\n');
		struct strbuf l = STRBUF_INIT;
		strbuf_add(&l, line, (size_t)(nl - line));
		if (!strncmp(l.buf, "usage: ", 7)) {
			if (strstr(l.buf, " <command>"))
				h->is_group = 1;
			else
				parse_usage_line(h, l.buf, path_len);
		} else if (!strcmp(l.buf, "commands:")) {
			section = COMMANDS;
		} else if (!strcmp(l.buf, "options:")) {
			section = OPTIONS;
		} else if (!l.len) {
			section = NONE;
		} else if (section == COMMANDS) {
			word_at(l.buf, &w);
			strvec_push(&h->commands, w.buf);
		} else if (section == OPTIONS) {
			parse_option_line(h, l.buf);
		}
		strbuf_release(&l);
		line = *nl ? nl + 1 : nl;
	}
	strbuf_release(&w);
}

static void offer(const char *cand, const char *cur)
{
	if (!strncmp(cand, cur, strlen(cur)))
		printf("%s\n", cand);
}

static void offer_all(const struct strvec *v, const char *cur)
{
	size_t i;
	for (i = 0; i < v->nr; i++)
		offer(v->v[i], cur);
}

/* the IDs in the database: tasks (want 't') or steps ('s') */
static void offer_ids(int want, const char *cur)
{
	struct cmd_ctx ctx = { 0 };
	struct config *cfg;
	struct stat sb;
	size_t i, nr = 0;

	ctx.out = stdout;
	cfg = cmd_load_config(&ctx);
	if (!cfg)
		goto out;
	/* never create the embedded database just to complete */
	if (cfg->sqlite_path && stat(cfg->sqlite_path, &sb))
		goto out;
	if (!cmd_store(&ctx, STORE_NO_MIGRATE | STORE_READ_ONLY))
		goto out;
	if (want == 't') {
		struct task *v = NULL;
		if (!store_task_list(ctx.st, &v, &nr))
			for (i = 0; i < nr; i++) {
				char id[32];
				snprintf(id, sizeof(id), "%lld", v[i].id);
				offer(id, cur);
			}
		task_list_free(v, nr);
	} else {
		struct step *v = NULL;
		if (!store_step_list(ctx.st, 0, &v, &nr))
			for (i = 0; i < nr; i++) {
				char id[32];
				snprintf(id, sizeof(id), "%lld", v[i].id);
				offer(id, cur);
			}
		step_list_free(v, nr);
	}
out:
	store_close(ctx.st);
	if (ctx.cfg_loaded)
		config_release(&ctx.cfg);
}

/*
 * Which IDs a value named name stands for: 't' tasks, 's' steps, 0 none.
 * A bare ID is the group's (task ID, step ID), or the option's when it
 * names one (--task ID).
 */
static int id_kind(const char *name, const char *option, const char *group)
{
	if (strstr(name, "TASK"))
		return 't';
	if (strstr(name, "STEP") || strstr(name, "PARENT"))
		return 's';
	if (strncmp(name, "ID", 2) || (name[2] && name[2] != '|'))
		return 0;
	if (option && strstr(option, "task"))
		return 't';
	if (option && strstr(option, "step"))
		return 's';
	if (!strcmp(group, "task"))
		return 't';
	if (!strcmp(group, "step"))
		return 's';
	return 0;
}

/* the value name an option takes, or NULL for a flag or no such option */
static const char *option_value(const struct help *h, const char *word,
				const char **long_name)
{
	size_t i, len = strcspn(word, "=");
	*long_name = NULL;
	if (!strncmp(word, "--", 2)) {
		for (i = 0; i < h->longs.nr; i++)
			if (strlen(h->longs.v[i]) == len &&
			    !strncmp(h->longs.v[i], word, len)) {
				*long_name = h->longs.v[i];
				return *h->values.v[i] ? h->values.v[i] : NULL;
			}
	} else {
		for (i = 0; i < h->shorts.nr; i++)
			if (!strcmp(h->shorts.v[i], word)) {
				/* the long option on the same row */
				return *h->svalues.v[i] ? h->svalues.v[i]
							: NULL;
			}
	}
	return NULL;
}

/* complete a command's arguments: words are those after its name */
static void complete_command(const struct help *h, const char *group,
			     const char **words, int nr, const char *cur)
{
	const char *pending = NULL, *pending_opt = NULL;
	size_t npos = 0;
	int i, dashdash = 0;

	for (i = 0; i < nr; i++) {
		const char *w = words[i], *name;
		pending = NULL;
		if (!dashdash && !strcmp(w, "--")) {
			dashdash = 1;
		} else if (!dashdash && w[0] == '-' && w[1]) {
			const char *value = option_value(h, w, &name);
			if (value && !strchr(w, '=')) {
				pending = value;
				pending_opt = name;
			}
		} else {
			npos++;
		}
		if (pending && i + 1 < nr) {
			i++;
			pending = NULL;
		}
	}
	if (pending) {
		int kind = id_kind(pending, pending_opt, group);
		if (kind)
			offer_ids(kind, cur);
		return;
	}
	if (!dashdash && cur[0] == '-') {
		offer_all(&h->longs, cur); /* --help among them */
		return;
	}
	if (npos < h->positionals.nr) {
		const char *name = h->positionals.v[npos];
		int kind = id_kind(name, NULL, group);
		if (kind)
			offer_ids(kind, cur);
		else if (!is_value_name(name))
			offer(name, cur); /* a literal word */
		return;
	}
	if (!cur[0] && !dashdash)
		offer_all(&h->longs, cur);
}

int cmd_complete(int argc, const char **argv, const struct cmd_entry *top)
{
	const struct cmd_entry *e;
	const char *cur;
	struct strvec path = STRVEC_INIT; /* the words after the top command */
	int i;

	/* candidates only: a note or a warning would land on the prompt */
	if (!freopen("/dev/null", "w", stderr))
		return EXIT_OK;
	if (argc < 1)
		return EXIT_OK;
	cur = argv[argc - 1];
	if (argc == 1) {
		for (e = top; e->name; e++)
			if (e->summary)
				offer(e->name, cur);
		if (cur[0] == '-') {
			offer("--help", cur);
			offer("--version", cur);
		}
		return EXIT_OK;
	}
	for (e = top; e->name; e++)
		if (e->summary && !strcmp(e->name, argv[0]))
			break;
	if (!e->name)
		return EXIT_OK;
	for (i = 1;;) {
		struct help h = { .commands = STRVEC_INIT,
				  .longs = STRVEC_INIT,
				  .shorts = STRVEC_INIT,
				  .values = STRVEC_INIT,
				  .svalues = STRVEC_INIT,
				  .positionals = STRVEC_INIT };
		struct strbuf text = STRBUF_INIT;
		int descended = 0;
		size_t k;

		if (run_help(e, &path, &text)) {
			strbuf_release(&text);
			break;
		}
		parse_help(&h, text.buf, path.nr + 1);
		strbuf_release(&text);
		if (!h.is_group) {
			complete_command(&h, e->name, argv + i, argc - 1 - i,
					 cur);
		} else if (i == argc - 1) {
			offer_all(&h.commands, cur);
			if (cur[0] == '-')
				offer("--help", cur);
		} else {
			for (k = 0; k < h.commands.nr; k++)
				if (!strcmp(h.commands.v[k], argv[i]))
					break;
			if (k < h.commands.nr) {
				strvec_push(&path, argv[i]);
				i++;
				descended = 1;
			}
		}
		help_release(&h);
		if (!descended)
			break;
	}
	strvec_clear(&path);
	return EXIT_OK;
}
