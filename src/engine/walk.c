#include "engine/walk.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>

static size_t ndeps_of(const struct walk_graph *g, size_t i,
		       const long long **deps)
{
	size_t nr = 0;
	if (g->deps(g->data, i, deps, &nr))
		*deps = NULL, nr = 0;
	return nr;
}

/*
 * Nodes left unplaced all wait for another unplaced one: walk from the
 * first along the first such dependency until on the cycle, then print
 * it once around.
 */
static void topo_cycle(const struct walk_graph *g, const char *placed,
		       struct strbuf *sb)
{
	size_t cur = 0, steps, i, k, n;
	const long long *deps;

	while (placed[cur])
		cur++;
	for (steps = 0; steps < g->nr; steps++) {
		n = ndeps_of(g, cur, &deps);
		for (k = 0; k < n; k++) {
			size_t d = g->find(g->data, deps[k]);
			if (d < g->nr && !placed[d]) {
				cur = d;
				break;
			}
		}
	}
	/* cur is now on the cycle: print it once around */
	i = cur;
	do {
		strbuf_addf(sb, "%lld -> ", g->id(g->data, i));
		n = ndeps_of(g, i, &deps);
		for (k = 0; k < n; k++) {
			size_t d = g->find(g->data, deps[k]);
			if (d < g->nr && !placed[d]) {
				i = d;
				break;
			}
		}
	} while (i != cur && sb->len < 4096);
	strbuf_addf(sb, "%lld", g->id(g->data, cur));
}

int walk_topo(const struct walk_graph *g, void (*visit)(void *arg, size_t i),
	      void *arg, struct strbuf *cycle)
{
	size_t *indeg = xcalloc(g->nr + 1, sizeof(*indeg));
	char *placed = xcalloc(g->nr + 1, 1);
	size_t i, k, n, count = 0;
	const long long *deps;
	int ret = 0;

	for (i = 0; i < g->nr; i++) {
		n = ndeps_of(g, i, &deps);
		for (k = 0; k < n; k++)
			if (g->find(g->data, deps[k]) < g->nr)
				indeg[i]++;
	}
	while (count < g->nr) {
		size_t best = g->nr;
		long long best_id = 0;
		for (i = 0; i < g->nr; i++)
			if (!placed[i] && !indeg[i]) {
				long long id = g->id(g->data, i);
				if (best == g->nr || id < best_id)
					best = i, best_id = id;
			}
		if (best == g->nr)
			break;
		placed[best] = 1;
		count++;
		visit(arg, best);
		for (i = 0; i < g->nr; i++) {
			n = ndeps_of(g, i, &deps);
			for (k = 0; k < n; k++)
				if (deps[k] == best_id)
					indeg[i]--;
		}
	}
	if (count < g->nr) {
		ret = -1;
		if (cycle)
			topo_cycle(g, placed, cycle);
	}
	free(indeg);
	free(placed);
	return ret;
}

/*
 * state[i] is 1 while i is on the path (path[0..npath)), 2 when done.
 */
struct dfs {
	const struct walk_graph *g;
	char *state;
	size_t *path;
	size_t npath;
	struct strbuf *cycle;
};

static int dfs_from(struct dfs *w, size_t at)
{
	const struct walk_graph *g = w->g;
	const long long *deps = NULL;
	size_t ndeps = 0, i, j;
	int ret = g->deps(g->data, at, &deps, &ndeps);

	if (ret)
		return ret;
	w->state[at] = 1;
	w->path[w->npath++] = at;
	for (i = 0; !ret && i < ndeps; i++) {
		j = g->find(g->data, deps[i]);
		if (j >= g->nr || w->state[j] == 2)
			continue; /* another task's step, or already seen */
		if (w->state[j] == 1) {
			size_t k = 0;
			while (w->path[k] != j)
				k++;
			for (; k < w->npath; k++)
				strbuf_addf(w->cycle, "%lld -> ",
					    g->id(g->data, w->path[k]));
			strbuf_addf(w->cycle, "%lld", deps[i]);
			ret = -1;
		} else {
			ret = dfs_from(w, j);
		}
	}
	w->npath--;
	w->state[at] = 2;
	return ret;
}

int walk_from(const struct walk_graph *g, size_t start, struct strbuf *cycle)
{
	struct dfs w = { g, NULL, NULL, 0, cycle };
	int ret;

	w.state = xcalloc(g->nr + 1, 1);
	w.path = xcalloc(g->nr + 1, sizeof(*w.path));
	ret = dfs_from(&w, start);
	free(w.state);
	free(w.path);
	return ret;
}
