#include "core/rubric.h"
#include "core/error.h"
#include "core/hash.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void rubric_release(struct rubric *r)
{
	size_t i;
	for (i = 0; i < r->nr; i++) {
		free(r->v[i].id);
		free(r->v[i].counter);
		free(r->v[i].title);
		free(r->v[i].text);
		free(r->v[i].command);
	}
	free(r->v);
	strvec_clear(&r->skipped);
	r->v = NULL;
	r->nr = r->alloc = 0;
}

static _Thread_local char last_error[1024];

const char *rubric_error(void)
{
	return last_error;
}

/* error(), keeping the message for rubric_error() */
__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return error("%s", last_error);
}

static struct criterion *add(struct rubric *r)
{
	struct criterion *c;
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	c = &r->v[r->nr++];
	memset(c, 0, sizeof(*c));
	return c;
}

static void drop_last(struct rubric *r)
{
	struct criterion *c = &r->v[--r->nr];
	free(c->id);
	free(c->counter);
	free(c->title);
	free(c->text);
	free(c->command);
}

char *criterion_hash(const struct criterion *c)
{
	char hex[SHA256_HEX_LEN + 1];
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%g|%s|%s|%s", c->score, c->text ? c->text : "",
		    c->required ? "true" : "false",
		    c->command ? c->command : "");
	hash_string(sb.buf, sb.len, hex);
	strbuf_release(&sb);
	return xstrdup(hex);
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* ---- JSON ---- */

static const char *form_command(const json_t *item)
{
	const json_t *forms = json_object_get(item, "forms");
	const char *key, *cmd;
	json_t *f;
	size_t i;

	cmd = json_string_value(json_object_get(item, "command"));
	if (cmd && *cmd)
		return cmd;
	if (json_is_object(forms)) {
		/* jansson keeps file order: the first non-empty wins */
		json_object_foreach((json_t *)forms, key, f) {
			cmd = json_string_value(
				json_object_get(f, "criterion_test_command"));
			if (cmd && *cmd)
				return cmd;
		}
	} else if (json_is_array(forms)) {
		json_array_foreach(forms, i, f) {
			cmd = json_string_value(
				json_object_get(f, "criterion_test_command"));
			if (cmd && *cmd)
				return cmd;
		}
	}
	return NULL;
}

int rubric_parse_json(const char *text, const char *path, struct rubric *r)
{
	json_error_t err;
	json_t *root = json_loads(text, 0, &err), *item;
	size_t i;
	int ret = 0;

	if (!root)
		return fail("%s:%d:%d: invalid JSON: %s", path, err.line,
			     err.column, err.text);
	if (json_is_object(root) && json_is_array(json_object_get(root,
								  "rubrics"))) {
		json_t *inner = json_incref(json_object_get(root, "rubrics"));
		json_decref(root);
		root = inner;
	}
	if (!json_is_array(root)) {
		json_decref(root);
		return fail("%s: expected a JSON array of rubric items", path);
	}
	json_array_foreach(root, i, item) {
		const char *id = json_string_value(
			json_object_get(item, "rubricItemId"));
		const char *cmd = form_command(item);
		const json_t *score = json_object_get(item, "score");
		const char *txt;
		struct criterion *c;

		if (!json_is_object(item)) {
			ret = fail("%s: item %zu is not an object", path,
				    i + 1);
			break;
		}
		if (!id)
			id = json_string_value(json_object_get(item, "id"));
		if (!id || !*id || !cmd) {
			strvec_pushf(&r->skipped, "item %zu%s%s%s: %s", i + 1,
				     id ? " '" : "", id ? id : "",
				     id ? "'" : "",
				     !id || !*id ? "no rubricItemId"
						 : "no criterion_test_command");
			continue;
		}
		if (score && !json_is_number(score)) {
			ret = fail("%s: item %zu '%s': score is not a number",
				    path, i + 1, id);
			break;
		}
		c = add(r);
		c->id = xstrdup(id);
		c->counter = xstrfmt("%zu", i + 1);
		c->title = xstrdup("");
		txt = json_string_value(json_object_get(item, "criterion"));
		if (!txt)
			txt = "";
		c->text = trimmed(txt, strlen(txt));
		c->score = score ? json_number_value(score) : 0;
		c->required = json_is_true(json_object_get(item, "required"));
		c->command = xstrdup(cmd);
	}
	json_decref(root);
	return ret;
}

/* ---- Markdown ---- */

struct line {
	const char *s;
	size_t n;
};

static int split_lines(const char *text, struct line **out)
{
	size_t alloc = 0;
	int nr = 0;
	const char *p = text;
	*out = NULL;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		size_t len = n;
		if (len && p[len - 1] == '\r')
			len--;
		ALLOC_GROW(*out, (size_t)nr + 1, alloc);
		(*out)[nr].s = p;
		(*out)[nr].n = len;
		nr++;
		p += n + (e ? 1 : 0);
	}
	return nr;
}

static int is_uuidish(const char *s, size_t n)
{
	size_t i;
	if (n != 36)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* "### #3: <uuid> ..." or "### crit-01: Title" */
static int parse_heading(const struct line *l, struct criterion *c)
{
	const char *s = l->s, *end = l->s + l->n, *colon, *p;
	size_t idn;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (end - s < 4 || strncmp(s, "###", 3) || s[3] == '#')
		return 0;
	s += 3;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	colon = memchr(s, ':', (size_t)(end - s));
	if (!colon || colon == s)
		return 0;
	for (p = s; p < colon; p++)
		if (isspace((unsigned char)*p))
			return 0;
	p = colon + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	idn = 0;
	while (p + idn < end && !isspace((unsigned char)p[idn]))
		idn++;
	if (*s == '#') {
		/* "#<digits>: <id>" */
		const char *d = s + 1;
		if (d == colon || strspn(d, "0123456789") < (size_t)(colon - d))
			return 0;
		if (!idn)
			return 0;
		c->counter = xstrndup(d, (size_t)(colon - d));
		c->id = xstrndup(p, idn);
		c->title = trimmed(p + idn, (size_t)(end - p - idn));
		return 1;
	}
	/* "<id>: <uuid>" keeps the UUID as the ID, "<id>: Title" the id */
	if (is_uuidish(p, idn)) {
		c->id = xstrndup(p, idn);
		c->title = trimmed(p + idn, (size_t)(end - p - idn));
	} else {
		c->id = xstrndup(s, (size_t)(colon - s));
		c->title = trimmed(p, (size_t)(end - p));
	}
	{
		const char *d = s;
		while (d < colon && !isdigit((unsigned char)*d))
			d++;
		c->counter = d < colon ? xstrndup(d, strspn(d, "0123456789"))
				       : NULL;
	}
	return 1;
}

/* "**Name**:" at the start of a line; returns the value start or NULL */
static const char *field(const struct line *l, const char *name)
{
	const char *s = l->s, *end = l->s + l->n;
	size_t n = strlen(name);
	while (s < end && (*s == ' ' || *s == '\t' || *s == '-' || *s == '*'))
		if (*s == '*' && s + 1 < end && s[1] == '*')
			break;
		else
			s++;
	if (end - s < (long)(n + 5) || strncmp(s, "**", 2) ||
	    strncasecmp(s + 2, name, n))
		return NULL;
	s += 2 + n;
	if (!strncmp(s, "**:", 3))
		return s + 3;
	if (!strncmp(s, ":**", 3))
		return s + 3;
	return NULL;
}

static int any_field(const struct line *l)
{
	static const char *const names[] = {
		"Score", "Required", "Criterion", "Held-out tests",
		"Held-out test", "Test command", "Command", "Title", NULL };
	int i;
	for (i = 0; names[i]; i++)
		if (field(l, names[i]))
			return 1;
	return 0;
}

static int fence_open(const struct line *l, char *ch)
{
	const char *s = l->s;
	size_t n = l->n;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (n >= 3 && (!strncmp(s, "```", 3) || !strncmp(s, "~~~", 3))) {
		*ch = s[0];
		return 1;
	}
	return 0;
}

static int fence_close(const struct line *l, char ch)
{
	const char *s = l->s;
	size_t n = l->n;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n >= 3 && s[0] == ch && s[1] == ch && s[2] == ch &&
	       strspn(s, ch == '`' ? "`" : "~") == n;
}

/* the text of lines [a, b) joined, trimmed */
static char *join(const struct line *ls, int a, int b, const char *first)
{
	struct strbuf sb = STRBUF_INIT;
	char *out;
	int i;
	if (first)
		strbuf_add(&sb, first, (size_t)(ls[a].s + ls[a].n - first));
	for (i = first ? a + 1 : a; i < b; i++) {
		if (sb.len || i > a)
			strbuf_addch(&sb, '\n');
		strbuf_add(&sb, ls[i].s, ls[i].n);
	}
	out = trimmed(sb.buf, sb.len);
	strbuf_release(&sb);
	return out;
}

static int parse_double(const char *s, size_t n, double *out)
{
	char *tmp = trimmed(s, n), *end;
	int ok;
	errno = 0;
	*out = strtod(tmp, &end);
	ok = !errno && end != tmp && (*end == '\0' || isspace((unsigned char)*end));
	free(tmp);
	return ok;
}

static int parse_section(const struct line *ls, int a, int b, const char *path,
			 struct criterion *c)
{
	struct strbuf plain = STRBUF_INIT;
	int i, have_text = 0;

	for (i = a + 1; i < b; i++) {
		const char *v;
		char ch;
		if ((v = field(&ls[i], "Score"))) {
			if (!parse_double(v, (size_t)(ls[i].s + ls[i].n - v),
					  &c->score)) {
				strbuf_release(&plain);
				return fail("%s:%d: criterion '%s': score is "
					     "not a number", path, i + 1,
					     c->id);
			}
		} else if ((v = field(&ls[i], "Required"))) {
			char *t = trimmed(v, (size_t)(ls[i].s + ls[i].n - v));
			c->required = !strcasecmp(t, "true") ||
				      !strcasecmp(t, "yes");
			free(t);
		} else if ((v = field(&ls[i], "Criterion"))) {
			int j = i + 1;
			while (j < b && !any_field(&ls[j]))
				j++;
			free(c->text);
			c->text = join(ls, i, j, v);
			have_text = 1;
			i = j - 1;
		} else if (((v = field(&ls[i], "Held-out tests")) ||
			    (v = field(&ls[i], "Held-out test")) ||
			    (v = field(&ls[i], "Test command")) ||
			    (v = field(&ls[i], "Command"))) && !c->command) {
			const char *bt = memchr(v, '`', (size_t)(ls[i].s +
								 ls[i].n - v));
			int j = i + 1;
			if (bt && bt[1] != '`') {
				/* inline: `command` */
				const char *e = memchr(bt + 1, '`',
						       (size_t)(ls[i].s +
								ls[i].n - bt -
								1));
				if (e)
					c->command = xstrndup(
						bt + 1, (size_t)(e - bt - 1));
				continue;
			}
			while (j < b && !ls[j].n)
				j++;
			if (j < b && fence_open(&ls[j], &ch)) {
				int k = j + 1;
				while (k < b && !fence_close(&ls[k], ch))
					k++;
				if (k >= b) {
					strbuf_release(&plain);
					return fail("%s:%d: criterion '%s': "
						     "unclosed code fence", path,
						     j + 1, c->id);
				}
				c->command = join(ls, j + 1, k, NULL);
				i = k;
			}
		} else if (!any_field(&ls[i])) {
			if (plain.len || ls[i].n)
				strbuf_addf(&plain, "%.*s\n", (int)ls[i].n,
					    ls[i].s);
		}
	}
	if (!have_text)
		c->text = trimmed(plain.buf, plain.len);
	strbuf_release(&plain);
	return 0;
}

int rubric_parse_markdown(const char *text, const char *path,
			  struct rubric *r)
{
	struct line *ls = NULL;
	int nr = split_lines(text, &ls), i, start = -1, ret = 0, sections = 0;
	int fence_line = 0;
	char fence = 0;

	for (i = 0; i <= nr && !ret; i++) {
		struct criterion probe = { 0 };
		int is_head = 0;
		if (i < nr) {
			char ch;
			if (fence) {
				if (fence_close(&ls[i], fence))
					fence = 0;
				continue;
			}
			if (fence_open(&ls[i], &ch)) {
				fence = ch;
				fence_line = i + 1;
				continue;
			}
			is_head = parse_heading(&ls[i], &probe);
		}
		if (i == nr || is_head) {
			if (start >= 0) {
				struct criterion *c = &r->v[r->nr - 1];
				ret = parse_section(ls, start, i, path, c);
				if (!ret && (!c->command || !*c->command)) {
					strvec_pushf(&r->skipped,
						     "%s:%d: criterion '%s': "
						     "no held-out test command",
						     path, c->line, c->id);
					drop_last(r);
				}
			}
			if (is_head) {
				struct criterion *c = add(r);
				*c = probe;
				c->line = i + 1;
				if (!c->counter)
					c->counter = xstrfmt("%d", ++sections);
				else
					sections++;
				start = i;
			}
		} else {
			free(probe.id);
			free(probe.counter);
			free(probe.title);
		}
	}
	free(ls);
	/* an open fence would hide every heading after it */
	if (!ret && fence)
		ret = fail("%s:%d: unclosed code fence", path, fence_line);
	if (!ret && !r->nr && !r->skipped.nr)
		ret = fail("%s: no criteria found (expected '### #1: <id>' "
			    "or '### crit-01: ...' headings)", path);
	return ret;
}

int rubric_load(const char *path, struct rubric *r)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(path);
	int ret;

	if (strbuf_read_file(&sb, path) < 0) {
		ret = fail("cannot read rubric '%s': %s", path,
			    strerror(errno));
		strbuf_release(&sb);
		return ret;
	}
	if (memchr(sb.buf, '\0', sb.len)) {
		strbuf_release(&sb);
		return fail("%s: not a text file", path);
	}
	if (n >= 5 && !strcasecmp(path + n - 5, ".json"))
		ret = rubric_parse_json(sb.buf, path, r);
	else
		ret = rubric_parse_markdown(sb.buf, path, r);
	strbuf_release(&sb);
	return ret;
}
