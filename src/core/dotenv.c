#include "core/dotenv.h"
#include "os/strbuf.h"

#include <string.h>

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int dotenv_is_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

const char *dotenv_skip_export(const char *s)
{
	const char *p;

	if (strncmp(s, "export", 6) || !is_blank(s[6]))
		return s;
	for (p = s + 6; is_blank(*p); p++)
		;
	/* "export = 1" sets the key "export" */
	return *p == '=' || !*p ? s : p;
}

/* after a value: nothing, blanks, or blanks and a comment */
static int only_comment(const char *p)
{
	const char *start = p;

	while (is_blank(*p))
		p++;
	return !*p || (*p == '#' && p > start);
}

/*
 * The value at p (past the blanks after '='), into val. NULL on success,
 * else why the line cannot be read.
 */
static const char *read_value(const char *p, struct strbuf *val)
{
	const char *q;

	if (*p == '\'') {
		q = strchr(p + 1, '\'');
		if (!q)
			return "an unterminated ' quote (a quoted value ends "
			       "on its line)";
		strbuf_add(val, p + 1, (size_t)(q - p - 1));
		p = q + 1;
	} else if (*p == '"') {
		for (q = p + 1; *q && *q != '"'; q++) {
			if (*q != '\\' || !q[1]) {
				strbuf_addch(val, *q);
				continue;
			}
			q++;
			switch (*q) {
			case 'n':
				strbuf_addch(val, '\n');
				break;
			case 't':
				strbuf_addch(val, '\t');
				break;
			case 'r':
				strbuf_addch(val, '\r');
				break;
			case '"':
			case '\\':
				strbuf_addch(val, *q);
				break;
			default: /* not an escape: kept as written */
				strbuf_addch(val, '\\');
				strbuf_addch(val, *q);
			}
		}
		if (!*q)
			return "an unterminated \" quote (a quoted value ends "
			       "on its line)";
		p = q + 1;
	} else {
		/* unquoted: up to a '#' that follows a blank */
		for (q = p; *q; q++)
			if (*q == '#' && q > p && is_blank(q[-1]))
				break;
		while (q > p && is_blank(q[-1]))
			q--;
		strbuf_add(val, p, (size_t)(q - p));
		return NULL;
	}
	if (!only_comment(p))
		return "text after the closing quote";
	return NULL;
}

/* one line, NUL-terminated and without its newline */
static const char *read_line(const char *s, struct strbuf *key,
			     struct strbuf *val, int *skip)
{
	const char *p = s, *k;

	*skip = 0;
	while (is_blank(*p))
		p++;
	if (!*p || *p == '#') {
		*skip = 1;
		return NULL;
	}
	p = dotenv_skip_export(p);
	for (k = p; dotenv_is_key_char((unsigned char)*p); p++)
		;
	if (p == k)
		return "expected KEY=VALUE";
	strbuf_add(key, k, (size_t)(p - k));
	while (is_blank(*p))
		p++;
	if (*p != '=')
		return "expected KEY=VALUE";
	for (p++; is_blank(*p); p++)
		;
	return read_value(p, val);
}

int dotenv_parse(const char *text, size_t len, dotenv_pair_fn pair,
		 dotenv_bad_fn bad, void *data)
{
	struct strbuf line = STRBUF_INIT, key = STRBUF_INIT, val = STRBUF_INIT;
	const char *p = text, *end = text + len;
	int lineno = 0, nr_bad = 0;

	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *why;
		int skip = 0;

		lineno++;
		strbuf_reset(&line);
		strbuf_reset(&key);
		strbuf_reset(&val);
		strbuf_add(&line, p, n);
		p += n + (eol ? 1 : 0);
		if (memchr(line.buf, '\0', n))
			why = "a NUL byte"; /* it would be read cut short */
		else
			why = read_line(line.buf, &key, &val, &skip);
		if (why) {
			nr_bad++;
			if (bad)
				bad(lineno, why, data);
		} else if (!skip) {
			pair(key.buf, val.buf, lineno, data);
		}
	}
	strbuf_release(&line);
	strbuf_release(&key);
	strbuf_release(&val);
	return nr_bad;
}
