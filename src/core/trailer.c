#include "core/trailer.h"

#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 32
/* "#__TS_" <nonce> "__# " */
#define HEAD_LEN (sizeof(TRAILER_PREFIX) - 1 + NONCE_LEN + 4)

/* the nonce of line (len bytes, no newline) when it is a trailer line */
static const char *line_nonce(const char *line, size_t len)
{
	size_t p = sizeof(TRAILER_PREFIX) - 1, i;

	if (len <= HEAD_LEN || memcmp(line, TRAILER_PREFIX, p))
		return NULL;
	for (i = 0; i < NONCE_LEN; i++)
		if (!strchr("0123456789abcdef", line[p + i]) || !line[p + i])
			return NULL;
	if (memcmp(line + p + NONCE_LEN, "__# ", 4))
		return NULL;
	return line + p;
}

/* a whole number, all of s */
static int number(const char *s, long long *v)
{
	char *end;
	if (!*s || !strchr("-0123456789", *s))
		return 0;
	*v = strtoll(s, &end, 10);
	return !*end;
}

/* the phase line of trailer text what, or 0 to keep the line as it is */
static int phase(struct strbuf *out, const char *what)
{
	long long a, b;
	const char *sp;

	if (!strcmp(what, "reset-ok")) {
		strbuf_addstr(out, "-- reset ok\n");
	} else if (!strcmp(what, "apply-ok")) {
		strbuf_addstr(out, "-- patch applied\n");
	} else if (!strncmp(what, "exit ", 5) && (sp = strchr(what + 5, ' '))) {
		char rc[32];
		size_t n = (size_t)(sp - (what + 5));
		if (n >= sizeof(rc))
			return 0;
		memcpy(rc, what + 5, n);
		rc[n] = '\0';
		if (!number(rc, &a) || !number(sp + 1, &b))
			return 0;
		strbuf_addf(out, "-- exit %lld after %lld ms\n", a, b);
	} else if (!strncmp(what, "swept ", 6) && number(what + 6, &a)) {
		if (!a)
			strbuf_addstr(out, "-- nothing left running\n");
		else
			strbuf_addf(out,
				    "-- %lld process%s still running "
				    "after the sweep\n",
				    a, a == 1 ? "" : "es");
	} else if (!strncmp(what, "error ", 6)) {
		strbuf_addf(out, "-- error: %s\n", what + 6);
	} else {
		return 0;
	}
	return 1;
}

void trailer_render(struct strbuf *out, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nonce = NULL;
	int blank = 0; /* an empty line held back: a trailer may own it */
	struct strbuf what = STRBUF_INIT;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *ln = line_nonce(p, n);

		if (ln && !nonce)
			nonce = ln;
		if (ln && !memcmp(ln, nonce, NONCE_LEN)) {
			strbuf_reset(&what);
			strbuf_add(&what, p + HEAD_LEN, n - HEAD_LEN);
			blank = 0;
			if (!phase(out, what.buf)) {
				strbuf_add(out, p, n);
				strbuf_addch(out, '\n');
			}
		} else {
			if (blank)
				strbuf_addch(out, '\n');
			blank = !n && nl;
			if (!blank) {
				strbuf_add(out, p, n);
				if (nl)
					strbuf_addch(out, '\n');
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (blank)
		strbuf_addch(out, '\n');
	strbuf_release(&what);
}
