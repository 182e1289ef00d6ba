/*
 * Tamper checks of candidate patches (core/tamper.h).
 */
#include "core/tamper.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* the line starting at p (up to end), without its newline */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

/*
 * A path of a "--- a/X" or "+++ b/X" line (n bytes at s, after the
 * prefix): without the a/ or b/ and a tab-separated timestamp; NULL
 * for /dev/null.
 */
static char *diff_path(const char *s, size_t n)
{
	const char *tab = memchr(s, '\t', n);
	if (tab)
		n = (size_t)(tab - s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n == 9 && !memcmp(s, "/dev/null", 9))
		return NULL;
	if (n > 2 && (s[0] == 'a' || s[0] == 'b') && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	return xstrndup(s, n);
}

static void add_path(json_t *paths, char *p)
{
	size_t i;
	json_t *v;
	if (!p)
		return;
	json_array_foreach(paths, i, v) if (!strcmp(json_string_value(v), p))
	{
		free(p);
		return;
	}
	json_array_append_new(paths, json_string(p));
	free(p);
}

json_t *tamper_paths(const char *patch, size_t len)
{
	json_t *paths = json_array();
	const char *p = patch, *end = patch + len;

	while (p && p < end) {
		size_t n = line_len(p, end);
		if (n > 4 && (!memcmp(p, "--- ", 4) || !memcmp(p, "+++ ", 4)))
			add_path(paths, diff_path(p + 4, n - 4));
		else if (n > 12 && !memcmp(p, "rename from ", 12))
			add_path(paths, xstrndup(p + 12, n - 12));
		else if (n > 10 && !memcmp(p, "rename to ", 10))
			add_path(paths, xstrndup(p + 10, n - 10));
		p = memchr(p, '\n', (size_t)(end - p));
		if (p)
			p++;
	}
	return paths;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* a path component is exactly name */
static int has_dir(const char *path, const char *name)
{
	size_t n = strlen(name);
	const char *p = path;
	while ((p = strstr(p, name))) {
		if ((p == path || p[-1] == '/') && p[n] == '/')
			return 1;
		p += n;
	}
	return 0;
}

static int is_git(const char *path)
{
	return has_dir(path, ".git") || !strcmp(path, ".git");
}

static int is_test_file(const char *path)
{
	static const char *const dirs[] = { "test", "tests",   "__tests__",
					    "spec", "testing", NULL };
	static const char *const suffixes[] = {
		"_test.py",   "_test.go", ".test.js", ".test.ts", ".test.jsx",
		".test.tsx",  ".spec.js", ".spec.ts", "_spec.rb", "Test.java",
		"Tests.java", "_test.rs", "_test.c",  NULL
	};
	const char *b = base_name(path);
	int i;

	for (i = 0; dirs[i]; i++)
		if (has_dir(path, dirs[i]))
			return 1;
	if (!strncmp(b, "test_", 5) && ends_with(b, ".py"))
		return 1;
	for (i = 0; suffixes[i]; i++)
		if (ends_with(b, suffixes[i]))
			return 1;
	return 0;
}

/* test configuration files, whole */
static int is_test_config(const char *path)
{
	static const char *const names[] = { "conftest.py", "pytest.ini",
					     "tox.ini",     ".coveragerc",
					     "noxfile.py",  NULL };
	const char *b = base_name(path);
	int i;
	for (i = 0; names[i]; i++)
		if (!strcmp(b, names[i]))
			return 1;
	return !strncmp(b, "jest.config.", 12) ||
	       !strncmp(b, "vitest.config.", 14) ||
	       !strncmp(b, "karma.conf.", 11);
}

/*
 * The changed lines (+ and -) of file path in patch, concatenated: for
 * the files only some of whose content is test configuration.
 */
static void changed_lines(const char *patch, size_t len, const char *path,
			  struct strbuf *out)
{
	const char *p = patch, *end = patch + len;
	int in = 0;

	while (p && p < end) {
		size_t n = line_len(p, end);
		if (n > 11 && !memcmp(p, "diff --git ", 11)) {
			in = 0;
		} else if (n > 4 &&
			   (!memcmp(p, "--- ", 4) || !memcmp(p, "+++ ", 4))) {
			char *f = diff_path(p + 4, n - 4);
			if (f && !strcmp(f, path))
				in = 1;
			free(f);
		} else if (in && n && (*p == '+' || *p == '-')) {
			strbuf_add(out, p + 1, n - 1);
			strbuf_addch(out, '\n');
		}
		p = memchr(p, '\n', (size_t)(end - p));
		if (p)
			p++;
	}
}

/* setup.cfg's test sections, pyproject's pytest table, package.json's
 * test scripts: the changed lines say so */
static int edits_test_section(const char *patch, size_t len, const char *path)
{
	const char *b = base_name(path);
	struct strbuf sb = STRBUF_INIT;
	int hit = 0;

	if (strcmp(b, "setup.cfg") && strcmp(b, "pyproject.toml") &&
	    strcmp(b, "package.json"))
		return 0;
	changed_lines(patch, len, path, &sb);
	if (!strcmp(b, "package.json"))
		hit = strstr(sb.buf, "\"test") != NULL;
	else
		hit = strstr(sb.buf, "pytest") || strstr(sb.buf, "[test") ||
		      strstr(sb.buf, "[tool:pytest") ||
		      strstr(sb.buf, "[coverage");
	strbuf_release(&sb);
	return hit;
}

/* the added lines of the whole patch hold marker m */
static int adds_marker(const char *patch, size_t len, const char *m)
{
	const char *p = patch, *end = patch + len;
	size_t mlen = m ? strlen(m) : 0;

	if (!mlen)
		return 0;
	while (p && p < end) {
		size_t n = line_len(p, end);
		if (n && *p == '+' && !(n >= 4 && !memcmp(p, "+++ ", 4)) &&
		    memmem(p, n, m, mlen))
			return 1;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p)
			p++;
	}
	return 0;
}

static void warn(json_t *w, const char *fmt, const char *arg)
{
	char *s = xstrfmt(fmt, arg);
	json_array_append_new(w, json_string(s));
	free(s);
}

json_t *tamper_check(const char *patch, size_t len, const char *held_out,
		     size_t held_len, const struct tamper_markers *m)
{
	json_t *w = json_array();
	json_t *mine = tamper_paths(patch, len);
	json_t *held = held_out ? tamper_paths(held_out, held_len)
				: json_array();
	size_t i, k;
	json_t *v, *h;

	json_array_foreach(mine, i, v)
	{
		const char *path = json_string_value(v);
		int in_held = 0;
		json_array_foreach(held, k, h)
			in_held |= !strcmp(path, json_string_value(h));
		if (in_held)
			warn(w,
			     "edits %s, which the held-out tests patch "
			     "changes",
			     path);
		else if (is_git(path))
			warn(w, "touches %s (git's own files)", path);
		else if (is_test_config(path) ||
			 edits_test_section(patch, len, path))
			warn(w, "edits test configuration %s", path);
		else if (is_test_file(path))
			warn(w, "edits test file %s", path);
	}
	if (m) {
		const char *names[3] = { "PASS", "FAIL", "TIMEOUT" };
		const char *marks[3] = { m->pass, m->fail, m->timeout };
		int j;
		for (j = 0; j < 3; j++)
			if (adds_marker(patch, len, marks[j]))
				warn(w, "adds the %s marker", names[j]);
	}
	json_decref(mine);
	json_decref(held);
	return w;
}
