/* a task's steps drawn as a tree by depends_on (step tree, task report) */
#include "cmd/forest.h"
#include "core/deps.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

static struct forest_node *find(struct forest *f, long long id)
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

static int has_parent(const struct forest_node *n, long long id)
{
	size_t i;
	for (i = 0; i < n->nparents; i++)
		if (n->parents[i] == id)
			return 1;
	return 0;
}

static int is_root(struct forest *f, const struct forest_node *n)
{
	size_t i;
	for (i = 0; i < n->nparents; i++)
		if (find(f, n->parents[i]))
			return 0;
	return 1;
}

/* mark n and everything drawn below it */
static void reach(struct forest *f, struct forest_node *n)
{
	size_t i;
	if (n->reached)
		return;
	n->reached = 1;
	for (i = 0; i < f->nr; i++)
		if (has_parent(&f->nodes[i], n->s->id))
			reach(f, &f->nodes[i]);
}

static int root_cmp(const void *a, const void *b)
{
	const struct forest_node *x = *(const struct forest_node *const *)a;
	const struct forest_node *y = *(const struct forest_node *const *)b;
	if ((x->rubric_n >= 0) != (y->rubric_n >= 0))
		return x->rubric_n >= 0 ? -1 : 1;
	if (x->rubric_n >= 0 && x->rubric_n != y->rubric_n)
		return x->rubric_n < y->rubric_n ? -1 : 1;
	return x->s->id < y->s->id ? -1 : x->s->id > y->s->id;
}

void forest_init(struct forest *f, const struct step *steps, size_t nr)
{
	size_t i;

	f->nodes = xcalloc(nr + 1, sizeof(*f->nodes));
	f->nr = nr;
	for (i = 0; i < nr; i++) {
		f->nodes[i].s = &steps[i];
		f->nodes[i].rubric_n = rubric_number(steps[i].title);
		/* a malformed depends_on draws the step as a root */
		step_depends_on(steps[i].settings, &f->nodes[i].parents,
				&f->nodes[i].nparents, NULL);
	}
	for (i = 0; i < nr; i++)
		if (is_root(f, &f->nodes[i]))
			reach(f, &f->nodes[i]);
}

void forest_release(struct forest *f)
{
	size_t i;
	for (i = 0; i < f->nr; i++)
		free(f->nodes[i].parents);
	free(f->nodes);
	f->nodes = NULL;
	f->nr = 0;
}

struct draw {
	FILE *out;
	struct forest *f;
	const struct forest_style *style;
	struct strbuf prefix;
	long long *path; /* the IDs from the root down, to stop cycles */
};

static int digits(long long id)
{
	int n = 1;
	while (id >= 10) {
		id /= 10;
		n++;
	}
	return n;
}

static void draw_level(struct draw *d, struct forest_node **level, size_t nr,
		       int depth);

static void draw_node(struct draw *d, const struct forest_node *n, int last,
		      int width, int depth)
{
	struct forest_node **kids;
	size_t i, nkids = 0, saved;
	const struct forest_style *st = d->style;
	int k;

	fputs(d->prefix.buf, d->out);
	fputs(last ? "╰── " : "├── ", d->out);
	if (st && st->row)
		st->row(d->out, n->s, width, st->data);
	else
		fprintf(d->out, "%lld-%s", n->s->id, n->s->title);
	fputc('\n', d->out);
	for (k = 0; k < depth; k++)
		if (d->path[k] == n->s->id)
			return; /* a dependency cycle: draw it once */
	d->path[depth] = n->s->id;
	kids = xcalloc(d->f->nr + 1, sizeof(*kids));
	for (i = 0; i < d->f->nr; i++)
		if (has_parent(&d->f->nodes[i], n->s->id))
			kids[nkids++] = &d->f->nodes[i];
	if (st && st->sort_all)
		qsort(kids, nkids, sizeof(*kids), root_cmp);
	saved = d->prefix.len;
	strbuf_addstr(&d->prefix, last ? "    " : "│   ");
	draw_level(d, kids, nkids, depth + 1);
	strbuf_setlen(&d->prefix, saved);
	free(kids);
}

static void draw_level(struct draw *d, struct forest_node **level, size_t nr,
		       int depth)
{
	const struct forest_style *st = d->style;
	struct strbuf gap = STRBUF_INIT;
	int width = 1, state = 0;
	size_t i;

	for (i = 0; i < nr; i++)
		if (digits(level[i]->s->id) > width)
			width = digits(level[i]->s->id);
	strbuf_addf(&gap, "%s│   ", d->prefix.buf);
	for (i = 0; i < nr; i++) {
		if (st && st->before)
			st->before(d->out, gap.buf, level[i]->s, &state,
				   st->data);
		draw_node(d, level[i], i + 1 == nr, width, depth);
	}
	strbuf_release(&gap);
}

void forest_draw_task(FILE *out, struct forest *f, const struct task *t,
		      const struct forest_style *style)
{
	struct forest_node **roots = xcalloc(f->nr + 1, sizeof(*roots));
	struct draw d = { out, f, style, STRBUF_INIT, NULL };
	size_t i, nroots = 0;

	d.path = xcalloc(f->nr + 1, sizeof(*d.path));
	fprintf(out, "%lld-%s\n", t->id, t->name);
	for (i = 0; i < f->nr; i++)
		if (f->nodes[i].s->task_id == t->id && is_root(f, &f->nodes[i]))
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
	draw_level(&d, roots, nroots, 0);
	strbuf_release(&d.prefix);
	free(d.path);
	free(roots);
}
