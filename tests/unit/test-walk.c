/*
 * Unit tests for engine/walk: the topological order (smallest id first
 * among the ready nodes, dependencies outside the graph ignored), the
 * cycle it names, and step run's depth-first cycle check.
 */
#include "tap.h"
#include "engine/walk.h"
#include "os/strbuf.h"

#include <string.h>

#define MAXD 4

/* a graph written as ids and their dependency lists; 0 ends a list */
struct g {
	size_t nr;
	long long id[8];
	long long deps[8][MAXD];
	int bad[8];   /* deps of this node "cannot be read" */
	int asked[8]; /* how often deps was asked for each node */
};

static long long g_id(void *data, size_t i)
{
	return ((struct g *)data)->id[i];
}

static int g_deps(void *data, size_t i, const long long **deps, size_t *nr)
{
	struct g *g = data;
	size_t n = 0;

	g->asked[i]++;
	if (g->bad[i])
		return -7;
	while (n < MAXD && g->deps[i][n])
		n++;
	*deps = g->deps[i];
	*nr = n;
	return 0;
}

static size_t g_find(void *data, long long id)
{
	struct g *g = data;
	size_t i;
	for (i = 0; i < g->nr && g->id[i] != id; i++)
		;
	return i;
}

struct visit {
	struct strbuf *order;
	struct g *g;
};

static void add_id(void *arg, size_t i)
{
	struct visit *v = arg;
	strbuf_addf(v->order, "%s%lld", v->order->len ? " " : "", v->g->id[i]);
}

/* walk_topo: the ids in visit order, then "!" and the cycle if any */
static void topo_is(struct g *g, const char *want, const char *name)
{
	struct walk_graph wg = { g->nr, g, g_id, g_deps, g_find };
	struct strbuf order = STRBUF_INIT, cycle = STRBUF_INIT;
	struct visit v = { &order, g };

	if (walk_topo(&wg, add_id, &v, &cycle))
		strbuf_addf(&order, " ! %s", cycle.buf);
	is_str(order.buf, want, name);
	strbuf_release(&order);
	strbuf_release(&cycle);
}

/* walk_from node start: "" or the cycle, or "error N" */
static void from_is(struct g *g, size_t start, const char *want,
		    const char *name)
{
	struct walk_graph wg = { g->nr, g, g_id, g_deps, g_find };
	struct strbuf cycle = STRBUF_INIT, got = STRBUF_INIT;
	int ret = walk_from(&wg, start, &cycle);

	if (ret && !cycle.len)
		strbuf_addf(&got, "error %d", ret);
	else if (ret)
		strbuf_addstr(&got, cycle.buf);
	is_str(got.buf, want, name);
	strbuf_release(&cycle);
	strbuf_release(&got);
}

int main(void)
{
	/* 5 <- 3 <- 9, 2 alone, 7 depends on 3 and on 40 (not here) */
	struct g a = { 4,
		       { 9, 3, 2, 7 },
		       { { 3 }, { 5 }, { 0 }, { 3, 40 } },
		       { 0 },
		       { 0 } };
	struct g linear = {
		3, { 1, 2, 3 }, { { 0 }, { 1 }, { 2 } }, { 0 }, { 0 }
	};
	struct g self = { 1, { 1 }, { { 1 } }, { 0 }, { 0 } };
	/* 1 <- 2 <- 3 <- 2, and 4 alone: the cycle is 2 and 3 */
	struct g cyc = {
		4, { 1, 2, 3, 4 }, { { 2 }, { 3 }, { 2 }, { 0 } }, { 0 }, { 0 }
	};
	/* 1 depends on 2 and 3; 3 cannot be read; 4 (unreachable) neither */
	struct g bad = { 4,
			 { 1, 2, 3, 4 },
			 { { 2, 3 }, { 0 }, { 0 }, { 0 } },
			 { 0, 0, 1, 1 },
			 { 0 } };
	struct g none = { 0, { 0 }, { { 0 } }, { 0 }, { 0 } };

	topo_is(&a, "2 3 7 9",
		"smallest ready id first; 5 is not in the "
		"graph, 40 neither");
	topo_is(&linear, "1 2 3", "a chain in dependency order");
	topo_is(&none, "", "an empty graph");
	topo_is(&self, " ! 1 -> 1", "a step depending on itself");
	/*
	 * The cycle is named from where a walk of nr steps from the first
	 * unplaced node lands (task run's message since before walk.c);
	 * walk_from names the same cycle from where it closes.
	 */
	topo_is(&cyc, "4 ! 3 -> 2 -> 3", "the free nodes, then the cycle");

	from_is(&linear, 2, "", "walk_from: a chain has no cycle");
	from_is(&self, 0, "1 -> 1", "walk_from: a self-dependency");
	from_is(&cyc, 0, "2 -> 3 -> 2", "walk_from: a cycle behind the start");
	from_is(&cyc, 3, "", "walk_from: a node off the cycle");
	from_is(&bad, 0, "error -7", "walk_from: an unreadable node reached");
	ok(bad.asked[3] == 0, "walk_from: an unreachable node is not read");
	ok(bad.asked[1] == 1, "walk_from: a node is read once");
	from_is(&bad, 1, "", "walk_from: from a node that reaches none");
	return tap_done();
}
