#include "core/rubric.h"
#include "os/error.h"
#include "core/hash.h"
#include "core/truth.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <jansson.h>
#include <math.h>
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
	strvec_clear(&r->warnings);
	r->v = NULL;
	r->nr = r->alloc = 0;
	r->items = r->no_command = r->refused = 0;
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
	/* only when set: the hashes of rubrics without one stay */
	if (c->timeout_s > 0)
		strbuf_addf(&sb, "|timeout=%d", c->timeout_s);
	hash_string(sb.buf, sb.len, hex);
	strbuf_release(&sb);
	return xstrdup(hex);
}

static struct criterion *find_id(const struct rubric *r, const char *id)
{
	size_t i;
	for (i = 0; i < r->nr; i++)
		if (!strcmp(r->v[i].id, id))
			return &r->v[i];
	return NULL;
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

/* whether s holds nothing but whitespace */
static int blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return !*s;
}

/* v's string when it is one and not blank; *blank_seen set when blank */
static const char *command_in(const json_t *v, int *blank_seen)
{
	const char *s = json_string_value(v);
	if (s && blank(s)) {
		/* "" is no command; " \t" one that is only whitespace */
		if (*s)
			*blank_seen = 1;
		return NULL;
	}
	return s;
}

/*
 * The item's command, the first that is not blank of (in this order):
 * "command"; "forms": {"criterion_test_command": ...} (the seed's
 * "forms.criterion_test_command"); "forms": {"<form id>":
 * {"criterion_test_command": ...}} (the original's files), forms in
 * file order; "forms": [{"criterion_test_command": ...}, ...]. NULL when
 * none, *blank_seen set when one was only whitespace.
 */
static const char *form_command(const json_t *item, int *blank_seen)
{
	const json_t *forms = json_object_get(item, "forms");
	const char *key, *cmd;
	json_t *f;
	size_t i;

	if ((cmd = command_in(json_object_get(item, "command"), blank_seen)))
		return cmd;
	if (json_is_object(forms)) {
		if ((cmd = command_in(json_object_get(forms,
						      "criterion_test_command"),
				      blank_seen)))
			return cmd;
		/* jansson keeps file order: the first non-blank wins */
		json_object_foreach(
			(json_t *)forms, key,
			f) if ((cmd =
					command_in(
						json_object_get(
							f,
							"criterion_test_command"),
						blank_seen))) return cmd;
	} else if (json_is_array(forms)) {
		json_array_foreach(
			forms, i,
			f) if ((cmd =
					command_in(
						json_object_get(
							f,
							"criterion_test_command"),
						blank_seen))) return cmd;
	}
	return NULL;
}

/* v as written, for a message: "maybe" with its quotes, 2, [1] */
static char *shown(const json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *out;
	if (!t)
		return xstrdup("?");
	if (strlen(t) <= 60)
		return t;
	out = xstrfmt("%.57s...", t);
	free(t);
	return out;
}

int rubric_parse_json(const char *text, const char *path, struct rubric *r,
		      struct strbuf *err)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *item;
	size_t i;
	int ret = 0;

	if (!root)
		return error_into(err, "%s:%d:%d: invalid JSON: %s", path,
				  jerr.line, jerr.column, jerr.text);
	if (json_is_object(root) &&
	    json_is_array(json_object_get(root, "rubrics"))) {
		json_t *inner = json_incref(json_object_get(root, "rubrics"));
		json_decref(root);
		root = inner;
	}
	if (!json_is_array(root)) {
		json_decref(root);
		return error_into(
			err, "%s: expected a JSON array of rubric items", path);
	}
	json_array_foreach(root, i, item)
	{
		const char *id = json_string_value(
			json_object_get(item, "rubricItemId"));
		int blank_cmd = 0, required = 0;
		const char *cmd = form_command(item, &blank_cmd);
		const json_t *score = json_object_get(item, "score");
		const json_t *req = json_object_get(item, "required");
		const json_t *tmo = json_object_get(item, "timeout_seconds");
		const char *txt;
		struct criterion *c;

		if (!json_is_object(item)) {
			ret = error_into(err, "%s: item %zu is not an object",
					 path, i + 1);
			break;
		}
		r->items++;
		if (!id)
			id = json_string_value(json_object_get(item, "id"));
		if (!id || !*id || !cmd) {
			if (id && *id)
				r->no_command++;
			strvec_pushf(&r->skipped, "item %zu%s%s%s: %s", i + 1,
				     id ? " '" : "", id ? id : "",
				     id ? "'" : "",
				     !id || !*id ? "no rubricItemId"
				     : blank_cmd ? "criterion_test_command is "
						   "only whitespace"
						 : "no criterion_test_command");
			continue;
		}
		/* absent or null: not required; otherwise it must read */
		if (req && !json_is_null(req) &&
		    (required = truth_json(req)) < 0) {
			char *v = shown(req);
			strvec_pushf(&r->warnings,
				     "%s: item %zu '%s': "
				     "required %s is not " TRUTH_SPELLINGS
				     " (the item is skipped)",
				     path, i + 1, id, v);
			free(v);
			r->refused++;
			continue;
		}
		if (score && !json_is_number(score)) {
			ret = error_into(err,
					 "%s: item %zu '%s': score is not a "
					 "number",
					 path, i + 1, id);
			break;
		}
		if (tmo && !json_is_null(tmo) &&
		    (!json_is_integer(tmo) || json_integer_value(tmo) < 1 ||
		     json_integer_value(tmo) > INT_MAX)) {
			ret = error_into(
				err,
				"%s: item %zu '%s': timeout_seconds is "
				"not a whole number of seconds",
				path, i + 1, id);
			break;
		}
		if ((c = find_id(r, id))) {
			ret = error_into(err,
					 "%s: item %zu: duplicate rubricItemId "
					 "'%s' (first at item %s)",
					 path, i + 1, id, c->counter);
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
		c->required = required;
		c->command = xstrdup(cmd);
		c->timeout_s =
			json_is_integer(tmo) ? (int)json_integer_value(tmo) : 0;
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

/*
 * An ATX heading: its level (1 to 6) with *rest at its text, or 0.
 */
static int heading_level(const struct line *l, const char **rest)
{
	const char *s = l->s, *end = l->s + l->n;
	int n = 0;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (s < end && *s == '#' && n < 7)
		s++, n++;
	if (!n || n > 6 || (s < end && *s != ' ' && *s != '\t'))
		return 0;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*rest = s;
	return n;
}

static int has_digit(const char *s, size_t n)
{
	while (n--)
		if (isdigit((unsigned char)*s++))
			return 1;
	return 0;
}

/*
 * A criterion heading, at level 2 to 4 (*level set):
 *   "### #3: <uuid> ..."            counter 3, the UUID the ID
 *   "### crit-01: Title"            the label the ID, counter 01
 *   "### crit-01: <uuid>"           the UUID the ID, counter 01
 *   "### Criterion 2: <uuid|Title>" a label of words ending in a number
 * with any spaces around the colon. Off level 3, and for a label of
 * several words, the label needs a digit or a UUID after the colon.
 */
static int parse_heading(const struct line *l, struct criterion *c, int *level)
{
	const char *s, *end = l->s + l->n, *colon, *le, *p, *last;
	size_t idn;
	int lvl = heading_level(l, &s), words = 0;

	if (lvl < 2 || lvl > 4)
		return 0;
	colon = memchr(s, ':', (size_t)(end - s));
	if (!colon)
		return 0;
	le = colon;
	while (le > s && (le[-1] == ' ' || le[-1] == '\t'))
		le--;
	if (le == s)
		return 0;
	/* the label's last word */
	last = le;
	while (last > s && !isspace((unsigned char)last[-1]))
		last--;
	for (p = s; p < le; p++)
		if (isspace((unsigned char)*p) && !isspace((unsigned char)p[1]))
			words++;
	p = colon + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	idn = 0;
	while (p + idn < end && !isspace((unsigned char)p[idn]))
		idn++;
	if (*s == '#' && !words) {
		/* "#<digits>: <id>" */
		const char *d = s + 1;
		if (d == le || strspn(d, "0123456789") < (size_t)(le - d))
			return 0;
		if (!idn)
			return 0;
		c->counter = xstrndup(d, (size_t)(le - d));
		c->id = xstrndup(p, idn);
		c->title = trimmed(p + idn, (size_t)(end - p - idn));
		*level = lvl;
		return 1;
	}
	if (words) {
		/* "Criterion 2", "Criterion #2": a number last */
		const char *d = *last == '#' ? last + 1 : last;
		if (d == le || strspn(d, "0123456789") < (size_t)(le - d))
			return 0;
		c->counter = xstrndup(d, (size_t)(le - d));
	} else {
		if (lvl != 3 && !has_digit(s, (size_t)(le - s)) &&
		    !is_uuidish(p, idn))
			return 0;
		{
			const char *d = s;
			while (d < le && !isdigit((unsigned char)*d))
				d++;
			c->counter =
				d < le ? xstrndup(d, strspn(d, "0123456789"))
				       : NULL;
		}
	}
	/* "<label>: <uuid>" keeps the UUID as the ID, "<label>: Title"
	 * the label */
	if (is_uuidish(p, idn)) {
		c->id = xstrndup(p, idn);
		c->title = trimmed(p + idn, (size_t)(end - p - idn));
	} else {
		c->id = xstrndup(s, (size_t)(le - s));
		c->title = trimmed(p, (size_t)(end - p));
	}
	*level = lvl;
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
		"Score",          "Required",      "Criterion",
		"Held-out tests", "Held-out test", "Test command",
		"Command",        "Title",         NULL
	};
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
	ok = !errno && end != tmp && isfinite(*out) &&
	     (*end == '\0' || isspace((unsigned char)*end));
	free(tmp);
	return ok;
}

/* "30" or "30 s": a whole number of seconds from 1 */
static int parse_seconds(const char *s, size_t n, double *out)
{
	char *tmp = trimmed(s, n);
	size_t len = strlen(tmp);
	int ok;

	if (len > 1 && tmp[len - 1] == 's')
		tmp[--len] = 0;
	ok = parse_double(tmp, len, out) && *out >= 1 && *out <= INT_MAX &&
	     *out == (double)(int)*out;
	free(tmp);
	return ok;
}

/* the next line after i that is not blank, or b */
static int next_nonblank(const struct line *ls, int i, int b)
{
	int j = i + 1;
	while (j < b) {
		const char *t = ls[j].s;
		size_t n = ls[j].n;
		while (n && (*t == ' ' || *t == '\t'))
			t++, n--;
		if (n)
			break;
		j++;
	}
	return j;
}

/*
 * Fill c from the section's lines (a, b). *refused set when its
 * **Required** does not read (warned about; the caller drops c).
 */
static int parse_section(const struct line *ls, int a, int b, const char *path,
			 struct criterion *c, struct strvec *warnings,
			 int *refused, struct strbuf *err)
{
	struct strbuf plain = STRBUF_INIT;
	int i, have_text = 0, score_line = 0, req_line = 0, cmd_line = 0;

	for (i = a + 1; i < b; i++) {
		const char *v;
		char ch;
		if ((v = field(&ls[i], "Score"))) {
			double d;
			if (!parse_double(v, (size_t)(ls[i].s + ls[i].n - v),
					  &d)) {
				strbuf_release(&plain);
				return error_into(
					err,
					"%s:%d: criterion '%s': score "
					"is not a number",
					path, i + 1, c->id);
			}
			if (score_line) {
				strvec_pushf(warnings,
					     "%s:%d: criterion '%s':"
					     " a second **Score** (line %d's "
					     "is used)",
					     path, i + 1, c->id, score_line);
				continue;
			}
			c->score = d;
			score_line = i + 1;
		} else if ((v = field(&ls[i], "Timeout"))) {
			double d;
			if (!parse_seconds(v, (size_t)(ls[i].s + ls[i].n - v),
					   &d)) {
				strbuf_release(&plain);
				return error_into(
					err,
					"%s:%d: criterion '%s': timeout "
					"is not a whole number of seconds",
					path, i + 1, c->id);
			}
			if (!c->timeout_s)
				c->timeout_s = (int)d;
		} else if ((v = field(&ls[i], "Required"))) {
			char *t = trimmed(v, (size_t)(ls[i].s + ls[i].n - v));
			if (req_line) {
				strvec_pushf(warnings,
					     "%s:%d: criterion '%s':"
					     " a second **Required** (line "
					     "%d's is used)",
					     path, i + 1, c->id, req_line);
			} else {
				c->required = *t ? truth_parse(t) : 0;
				req_line = i + 1;
				if (c->required < 0) {
					strvec_pushf(
						warnings,
						"%s:%d: "
						"criterion '%s': required "
						"\"%s\" is not " TRUTH_SPELLINGS
						" (the "
						"criterion is skipped)",
						path, i + 1, c->id, t);
					*refused = 1;
				}
			}
			free(t);
		} else if ((v = field(&ls[i], "Criterion"))) {
			int j = i + 1;
			while (j < b && !any_field(&ls[j]))
				j++;
			free(c->text);
			c->text = join(ls, i, j, v);
			have_text = 1;
			i = j - 1;
		} else if ((v = field(&ls[i], "Held-out tests")) ||
			   (v = field(&ls[i], "Held-out test")) ||
			   (v = field(&ls[i], "Test command")) ||
			   (v = field(&ls[i], "Command"))) {
			const char *bt =
				memchr(v, '`', (size_t)(ls[i].s + ls[i].n - v));
			int j = next_nonblank(ls, i, b);
			char *cmd = NULL;
			int at = i;
			if (j < b && fence_open(&ls[j], &ch)) {
				/* a fence after the field line wins over
				 * inline code in its prose */
				int k = j + 1;
				while (k < b && !fence_close(&ls[k], ch))
					k++;
				if (k >= b) {
					strbuf_release(&plain);
					return error_into(
						err,
						"%s:%d: criterion "
						"'%s': unclosed code fence",
						path, j + 1, c->id);
				}
				cmd = join(ls, j + 1, k, NULL);
				at = j;
				i = k;
			} else if (bt && bt[1] != '`') {
				/* inline: `command` */
				const char *e = memchr(
					bt + 1, '`',
					(size_t)(ls[i].s + ls[i].n - bt - 1));
				if (e)
					cmd = xstrndup(bt + 1,
						       (size_t)(e - bt - 1));
			}
			if (!cmd)
				continue;
			if (cmd_line) {
				strvec_pushf(warnings,
					     "%s:%d: criterion '%s':"
					     " a second command (line %d's is "
					     "used)",
					     path, at + 1, c->id, cmd_line);
				free(cmd);
			} else {
				c->command = cmd;
				cmd_line = at + 1;
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

/* a run of lines [a, b) under no criterion heading: fields there are
 * not graded, so say so */
static void orphan_check(const struct line *ls, int a, int b, const char *path,
			 struct strvec *warnings)
{
	int i;
	for (i = a < 0 ? 0 : a + 1; i < b; i++)
		if (any_field(&ls[i])) {
			if (a < 0)
				strvec_pushf(warnings,
					     "%s:%d: fields before "
					     "the first criterion heading "
					     "are ignored",
					     path, i + 1);
			else
				strvec_pushf(warnings,
					     "%s:%d: '%.*s' is not "
					     "a criterion heading (like '### "
					     "#1: <id>' or '### crit-01: "
					     "Title'); its section is "
					     "ignored",
					     path, a + 1, (int)ls[a].n,
					     ls[a].s);
			return;
		}
}

int rubric_parse_markdown(const char *text, const char *path, struct rubric *r,
			  struct strbuf *err)
{
	struct line *ls = NULL;
	int nr = split_lines(text, &ls), i, start = -1, ret = 0, sections = 0;
	int fence_line = 0, level = 0, orphan = -1;
	char fence = 0;

	for (i = 0; i <= nr && !ret; i++) {
		struct criterion probe = { 0 };
		int is_head = 0, is_end = 0, lvl = 0, used = 0;
		if (i < nr) {
			char ch;
			const char *rest;
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
			is_head = parse_heading(&ls[i], &probe, &lvl);
			/* any heading of the section's level or above ends
			 * it: a sub-heading ("#### Notes") stays inside */
			if (!is_head)
				is_end = heading_level(&ls[i], &rest) &&
					 heading_level(&ls[i], &rest) <=
						 (start >= 0 ? level : 6);
		}
		if (i == nr || is_head || is_end) {
			if (start >= 0) {
				struct criterion *c = &r->v[r->nr - 1];
				int refused = 0;
				ret = parse_section(ls, start, i, path, c,
						    &r->warnings, &refused,
						    err);
				r->items++;
				if (!ret &&
				    (!c->command || blank(c->command))) {
					strvec_pushf(
						&r->skipped,
						"%s:%d: criterion '%s': "
						"%s",
						path, c->line, c->id,
						c->command && *c->command
							? "held-out "
							  "test command is only "
							  "whitespace"
							: "no held-out test command");
					r->no_command++;
					drop_last(r);
				} else if (!ret && refused) {
					r->refused++;
					drop_last(r);
				}
			} else {
				orphan_check(ls, orphan, i, path, &r->warnings);
			}
			start = -1;
			orphan = i;
			if (!ret && is_head) {
				struct criterion *c = find_id(r, probe.id);
				if (c) {
					ret = error_into(
						err,
						"%s:%d: duplicate "
						"criterion ID '%s' (first "
						"at line %d)",
						path, i + 1, probe.id, c->line);
					free(probe.id);
					free(probe.counter);
					free(probe.title);
					break;
				}
				c = add(r);
				*c = probe;
				used = 1;
				c->line = i + 1;
				if (!c->counter)
					c->counter = xstrfmt("%d", ++sections);
				else
					sections++;
				start = i;
				level = lvl;
			}
		}
		if (!used) {
			free(probe.id);
			free(probe.counter);
			free(probe.title);
		}
	}
	free(ls);
	/* an open fence would hide every heading after it */
	if (!ret && fence)
		ret = error_into(err, "%s:%d: unclosed code fence", path,
				 fence_line);
	if (!ret && !r->items)
		ret = error_into(err,
				 "%s: no criteria found (expected '### #1: "
				 "<id>' or '### crit-01: ...' headings)",
				 path);
	return ret;
}

const char *rubric_why_empty(const struct rubric *r)
{
	if (!r->items)
		return "it holds no items";
	if (r->no_command == r->items)
		return "no item has a command";
	if (r->refused == r->items)
		return "no item's required reads as " TRUTH_SPELLINGS;
	return "every item was skipped";
}

int rubric_load(const char *path, struct rubric *r, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(path);
	int ret;

	if (strbuf_read_file(&sb, path) < 0) {
		ret = error_into(err, "cannot read rubric '%s': %s", path,
				 strerror(errno));
		strbuf_release(&sb);
		return ret;
	}
	if (memchr(sb.buf, '\0', sb.len)) {
		strbuf_release(&sb);
		return error_into(err, "%s: not a text file", path);
	}
	if (n >= 5 && !strcasecmp(path + n - 5, ".json"))
		ret = rubric_parse_json(sb.buf, path, r, err);
	else
		ret = rubric_parse_markdown(sb.buf, path, r, err);
	strbuf_release(&sb);
	return ret;
}
