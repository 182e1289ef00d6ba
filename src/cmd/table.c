#include "cmd/table.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_GAP 3

void table_header(struct table *t, const char *first, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		strvec_push(&t->cells, s);
		t->ncols++;
	}
	va_end(ap);
}

void table_add(struct table *t, const char *cell)
{
	strvec_push(&t->cells, cell ? cell : "");
}

void table_addf(struct table *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(&t->cells, sb.buf);
	strbuf_release(&sb);
}

/* characters, not bytes: UTF-8 continuation bytes do not count */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

void table_print(const struct table *t, FILE *out)
{
	size_t *width, i, col, nrows;

	if (!t->ncols)
		return;
	width = xcalloc(t->ncols, sizeof(*width));
	for (i = 0; i < t->cells.nr; i++) {
		size_t w = text_width(t->cells.v[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	nrows = (t->cells.nr + t->ncols - 1) / t->ncols;
	for (i = 0; i < nrows; i++) {
		/* the last non-empty cell ends the line: no trailing blanks */
		size_t last = 0;
		for (col = 0; col < t->ncols; col++) {
			size_t k = i * t->ncols + col;
			if (k < t->cells.nr && *t->cells.v[k])
				last = col;
		}
		for (col = 0; col <= last; col++) {
			size_t k = i * t->ncols + col;
			const char *s = k < t->cells.nr ? t->cells.v[k] : "";
			fputs(s, out);
			if (col < last)
				fprintf(out, "%*s",
					(int)(width[col] - text_width(s) +
					      TABLE_GAP),
					"");
		}
		fputc('\n', out);
	}
	free(width);
}

void table_release(struct table *t)
{
	strvec_clear(&t->cells);
	t->ncols = 0;
}
