/* task-sync step tree [TASK_ID]: each task's steps drawn by depends_on */
#include "cmd/cmd.h"
#include "core/deps.h"
#include "core/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct node {
	const struct step *s;
	long long *parents;
	size_t nparents;
	int rubric_n;  /* n of a "Rubric <n>" title, or -1 */
	int reached;   /* drawn under some root */
};

struct forest {
	struct node *nodes;
	size_t nr;
};

static struct node *find(struct forest *f, long long id)
{
	size_t lo = 0, hi = f->nr; /* nodes are sorted by id */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->nodes[mid].s->id == id)
			return &f->nodes[mid];
		if (f->nodes[mid].s->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int rubric_number(const char *title)
{
	char *end;
	long n;
	if (strncmp(title, "Rubric ", 7))
		return -1;
	n = strtol(title + 7, &end, 10);
	return end == title + 7 || n < 0 ? -1 : (int)n;
}

static int has_parent(const struct node *n, long long id)
{
	size_t i;
	for (i = 0; i < n->nparents; i++)
		if (n->parents[i] == id)
			return 1;
	return 0;
}

/* children of id, in id order (nodes are already sorted) */
static void draw(FILE *out, struct forest *f, const struct node *n,
		 struct strbuf *prefix, int last, long long *path, int depth)
{
	size_t i, nkids = 0, seen = 0, saved;
	int d;

	fprintf(out, "%s%s%lld-%s\n", prefix->buf, last ? "╰── " : "├── ",
		n->s->id, n->s->title);
	for (d = 0; d < depth; d++)
		if (path[d] == n->s->id)
			return; /* a dependency cycle: draw it once */
	path[depth] = n->s->id;
	for (i = 0; i < f->nr; i++)
		if (has_parent(&f->nodes[i], n->s->id))
			nkids++;
	saved = prefix->len;
	strbuf_addstr(prefix, last ? "    " : "│   ");
	for (i = 0; i < f->nr; i++) {
		if (!has_parent(&f->nodes[i], n->s->id))
			continue;
		seen++;
		draw(out, f, &f->nodes[i], prefix, seen == nkids, path,
		     depth + 1);
	}
	strbuf_setlen(prefix, saved);
}

/* mark n and everything drawn below it */
static void reach(struct forest *f, struct node *n)
{
	size_t i;
	if (n->reached)
		return;
	n->reached = 1;
	for (i = 0; i < f->nr; i++)
		if (has_parent(&f->nodes[i], n->s->id))
			reach(f, &f->nodes[i]);
}

static int is_root(struct forest *f, const struct node *n)
{
	size_t i;
	for (i = 0; i < n->nparents; i++)
		if (find(f, n->parents[i]))
			return 0;
	return 1;
}

static int root_cmp(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a;
	const struct node *y = *(const struct node *const *)b;
	if ((x->rubric_n >= 0) != (y->rubric_n >= 0))
		return x->rubric_n >= 0 ? -1 : 1;
	if (x->rubric_n >= 0 && x->rubric_n != y->rubric_n)
		return x->rubric_n < y->rubric_n ? -1 : 1;
	return x->s->id < y->s->id ? -1 : x->s->id > y->s->id;
}

static void draw_task(FILE *out, struct forest *f, const struct task *t)
{
	struct node **roots = xcalloc(f->nr + 1, sizeof(*roots));
	long long *path = xcalloc(f->nr + 1, sizeof(*path));
	struct strbuf prefix = STRBUF_INIT;
	size_t i, nroots = 0;

	fprintf(out, "%lld-%s\n", t->id, t->name);
	for (i = 0; i < f->nr; i++)
		if (f->nodes[i].s->task_id == t->id &&
		    is_root(f, &f->nodes[i]))
			roots[nroots++] = &f->nodes[i];
	qsort(roots, nroots, sizeof(*roots), root_cmp);
	/*
	 * Steps in a dependency cycle have no root above them: draw the
	 * first unreached one of each cycle as a root, so none is lost.
	 */
	for (i = 0; i < f->nr; i++)
		if (f->nodes[i].s->task_id == t->id && !f->nodes[i].reached) {
			roots[nroots++] = &f->nodes[i];
			reach(f, &f->nodes[i]);
		}
	for (i = 0; i < nroots; i++)
		draw(out, f, roots[i], &prefix, i + 1 == nroots, path, 0);
	strbuf_release(&prefix);
	free(path);
	free(roots);
}

int cmd_step_tree(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct forest f = { NULL, 0 };
	struct step *steps = NULL;
	struct task *tasks = NULL;
	size_t nsteps = 0, ntasks = 0, i;
	long long task_id = 0;
	struct store *st;
	int ret;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = {
		"step tree [TASK_ID]",
		"Draw each task's steps as a tree: a step sits under the "
		"steps it depends on.", 0, 1, NULL };

	ret = parse_options(argc, argv, &u, opts, "step tree", &args);
	if (ret > 0 && parse_id_arg(args.v[0], "task", &task_id))
		ret = -2;
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	if (task_id) {
		tasks = xcalloc(1, sizeof(*tasks));
		ret = store_task_get(st, task_id, tasks);
		ntasks = ret ? 0 : 1;
	} else {
		ret = store_task_list(st, &tasks, &ntasks);
	}
	if (!ret)
		ret = store_step_list(st, task_id, &steps, &nsteps);
	if (ret)
		goto out;
	f.nodes = xcalloc(nsteps + 1, sizeof(*f.nodes));
	f.nr = nsteps;
	for (i = 0; i < nsteps; i++) {
		char *err = NULL;
		f.nodes[i].s = &steps[i];
		f.nodes[i].rubric_n = rubric_number(steps[i].title);
		/* a malformed depends_on draws the step as a root */
		step_depends_on(steps[i].settings, &f.nodes[i].parents,
				&f.nodes[i].nparents, &err);
		free(err);
	}
	for (i = 0; i < nsteps; i++)
		if (is_root(&f, &f.nodes[i]))
			reach(&f, &f.nodes[i]);
	for (i = 0; i < ntasks; i++)
		draw_task(ctx->out, &f, &tasks[i]);
out:
	for (i = 0; i < f.nr; i++)
		free(f.nodes[i].parents);
	free(f.nodes);
	step_list_free(steps, nsteps);
	task_list_free(tasks, ntasks);
	return ts_exit_code(ret);
}
