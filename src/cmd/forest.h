#ifndef CMD_FOREST_H
#define CMD_FOREST_H

#include <stdio.h>

#include "store/store.h"

/*
 * Steps drawn as a tree by depends_on, for `step tree` and `task
 * report`. A step sits under every step it depends on (a step with two
 * parents is drawn twice); a step none of whose parents was fetched is
 * a root. Roots titled "Rubric <n>..." come first, by n, then the other
 * roots by id; children are in id order (or ordered like the roots with
 * sort_all). A dependency cycle is drawn once, from its first step.
 * Connectors are "├── " and "╰── ", continuations "│   " and four
 * spaces.
 */

struct forest_node {
	const struct step *s;
	long long *parents;
	size_t nparents;
	int rubric_n; /* n of a "Rubric <n>" title, or -1 */
	int reached;  /* drawn under some root */
};

struct forest {
	struct forest_node *nodes; /* sorted by step id */
	size_t nr;
};

/*
 * steps (borrowed; they must outlive f) must be sorted by id, as
 * store_step_list returns them.
 */
void forest_init(struct forest *f, const struct step *steps, size_t nr);
void forest_release(struct forest *f);

/* how a row is printed; NULL members fall back to `step tree`'s look */
struct forest_style {
	/*
	 * The row's text after the connector, without the newline; the
	 * default is "<id>-<title>". id_width: the digits of the widest ID
	 * among the row's siblings.
	 */
	void (*row)(FILE *out, const struct step *s, int id_width, void *data);
	/*
	 * Called before each row; it may print lines of its own, each
	 * starting with gap (the prefix that continues this level's line).
	 * *level is 0 at the start of every level, for the caller to use.
	 */
	void (*before)(FILE *out, const char *gap, const struct step *s,
		       int *level, void *data);
	void *data;
	int sort_all; /* order every level like the roots */
};

/* "<id>-<name>", then t's steps; style may be NULL */
void forest_draw_task(FILE *out, struct forest *f, const struct task *t,
		      const struct forest_style *style);

#endif
