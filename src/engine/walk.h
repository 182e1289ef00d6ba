#ifndef ENGINE_WALK_H
#define ENGINE_WALK_H

#include <stddef.h>

struct strbuf;

/*
 * The graph walks of the engine, over any list of steps: the plan's
 * nodes (engine/plan.c), the no-change rows of one task (engine/fast.c)
 * and a task's steps for step run's cycle check (engine/run.c). The
 * caller describes the graph by callbacks on node indexes 0..nr.
 */
struct walk_graph {
	size_t nr;
	void *data;
	long long (*id)(void *data, size_t i);
	/*
	 * Node i's dependencies as step ids (borrowed). 0, or an error code
	 * already printed (a malformed depends_on): only walk_from asks
	 * for a node it may never reach, so only it passes the error on.
	 */
	int (*deps)(void *data, size_t i, const long long **deps, size_t *nr);
	/* the index of the node with step id, or nr when none */
	size_t (*find)(void *data, long long id);
};

/*
 * Topological order, the smallest id first among the ready nodes: visit
 * is called with each node in that order. Returns 0, or -1 when nodes
 * are left on (or behind) a cycle; then, when cycle is not NULL, it gets
 * one cycle's path ("2 -> 4 -> 3 -> 2").
 */
int walk_topo(const struct walk_graph *g, void (*visit)(void *arg, size_t i),
	      void *arg, struct strbuf *cycle);

/*
 * Depth first from node start along the dependencies in the graph: 0
 * when no cycle is reachable; -1 with the first cycle met in *cycle
 * (the path from where it closes: "2 -> 3 -> 2"); or, *cycle left
 * empty, the error code the deps callback returned for a node reached.
 */
int walk_from(const struct walk_graph *g, size_t start, struct strbuf *cycle);

#endif
