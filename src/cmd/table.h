#ifndef CMD_TABLE_H
#define CMD_TABLE_H

#include <stdio.h>

#include "os/strvec.h"

/*
 * A text table whose columns fit their values, as `docker ps` prints
 * them: each column is as wide as its widest cell (header included),
 * columns are three spaces apart, nothing is cut, and the last column
 * has no trailing blanks. Widths count characters, not bytes (UTF-8).
 *
 *   struct table t = TABLE_INIT;
 *   table_header(&t, "ID", "NAME", NULL);
 *   table_addf(&t, "%lld", id);
 *   table_add(&t, name);
 *   table_print(&t, out);
 *   table_release(&t);
 *
 * Cells are added left to right, row after row; a row left short is
 * printed with empty cells. The table owns copies of its cells.
 */
struct table {
	size_t ncols;
	struct strvec cells; /* the header's, then each row's */
};

#define TABLE_INIT             \
	{                      \
		0, STRVEC_INIT \
	}

/* the header row: its cells, then NULL; sets the number of columns */
void table_header(struct table *t, const char *first, ...);
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_print(const struct table *t, FILE *out);
void table_release(struct table *t);

#endif
