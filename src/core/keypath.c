#include "core/keypath.h"
#include "core/jsonutil.h"
#include "os/strbuf.h"
#include "os/strvec.h"
#include "os/xalloc.h"

#include <string.h>

/* split "a.b\.c" into {"a", "b.c"}; returns -1 for an empty segment */
static int split_path(const char *path, struct strvec *out)
{
	struct strbuf seg = STRBUF_INIT;
	const char *p;
	int ret = 0;

	for (p = path;; p++) {
		if (*p == '\\' && (p[1] == '.' || p[1] == '\\')) {
			strbuf_addch(&seg, *++p);
			continue;
		}
		if (*p == '.' || !*p) {
			if (!seg.len) {
				ret = -1;
				break;
			}
			strvec_push(out, seg.buf);
			strbuf_reset(&seg);
			if (!*p)
				break;
			continue;
		}
		strbuf_addch(&seg, *p);
	}
	strbuf_release(&seg);
	return ret;
}

int keypath_set(json_t *root, const char *path, json_t *value,
		enum keypath_mode mode, struct strbuf *err)
{
	struct strvec segs = STRVEC_INIT;
	json_t *cur = root;
	size_t i;
	int ret = -1;

	if (!value) {
		strbuf_addf(err, "cannot set '%s': value is not valid UTF-8",
			    path);
		goto out;
	}
	if (!json_is_object(root)) {
		strbuf_addstr(err, "settings are not a JSON object");
		goto out;
	}
	if (split_path(path, &segs) < 0 || !segs.nr) {
		strbuf_addf(err, "invalid key path '%s'", path);
		goto out;
	}
	/*
	 * jansson refuses keys that are not UTF-8; check them all before
	 * root is changed, so that a failed set leaves no half-built path.
	 */
	for (i = 0; i < segs.nr; i++) {
		json_t *probe = json_string(segs.v[i]);
		if (!probe) {
			strbuf_addf(err,
				    "invalid key path '%s': not valid "
				    "UTF-8",
				    path);
			goto out;
		}
		json_decref(probe);
	}
	for (i = 0; i + 1 < segs.nr; i++) {
		json_t *next = json_object_get(cur, segs.v[i]);
		if (next && !json_is_object(next)) {
			if (mode == KEYPATH_STRICT) {
				strbuf_addf(err,
					    "cannot set value at path '%s': "
					    "segment '%s' is not an object",
					    path, segs.v[i]);
				goto out;
			}
			next = NULL;
		}
		if (!next) {
			next = json_object();
			/* on failure set_new has already released next */
			if (json_object_set_new(cur, segs.v[i], next)) {
				strbuf_addf(err,
					    "cannot set value at path "
					    "'%s'",
					    path);
				goto out;
			}
		}
		cur = next;
	}
	if (json_object_set(cur, segs.v[segs.nr - 1], value)) {
		strbuf_addf(err, "cannot set value at path '%s'", path);
		goto out;
	}
	ret = 0;
out:
	json_decref(value);
	strvec_clear(&segs);
	return ret;
}

static json_t *walk(json_t *root, struct strvec *segs, size_t upto)
{
	size_t i;
	json_t *cur = root;
	for (i = 0; i < upto && cur; i++) {
		if (!json_is_object(cur))
			return NULL;
		cur = json_object_get(cur, segs->v[i]);
	}
	return cur;
}

int keypath_unset(json_t *root, const char *path)
{
	struct strvec segs = STRVEC_INIT;
	json_t *parent;
	int ret = 0;

	if (split_path(path, &segs) < 0 || !segs.nr)
		goto out;
	parent = walk(root, &segs, segs.nr - 1);
	if (json_is_object(parent) &&
	    !json_object_del(parent, segs.v[segs.nr - 1]))
		ret = 1;
out:
	strvec_clear(&segs);
	return ret;
}

json_t *keypath_get(json_t *root, const char *path)
{
	struct strvec segs = STRVEC_INIT;
	json_t *v = NULL;
	if (!split_path(path, &segs) && segs.nr)
		v = walk(root, &segs, segs.nr);
	strvec_clear(&segs);
	return v;
}

json_t *keypath_parse_value(const char *text, struct strbuf *err)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (v)
		return v;
	/*
	 * A number jansson cannot hold (an integer beyond 64 bits, a real
	 * beyond a double): an error, never quietly a string. Valid JSON
	 * is told from text that merely starts with digits by reading the
	 * integers as reals ("123456789012345678901x" stays a string).
	 */
	if (json_error_code(&e) == json_error_numeric_overflow) {
		json_error_t e2;
		v = json_loads(text, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
			       &e2);
		if (v || json_error_code(&e2) == json_error_numeric_overflow) {
			json_decref(v);
			strbuf_addf(
				err,
				"number out of range in '%s': " JSON_RANGE_NOTE,
				text);
			return NULL;
		}
	}
	return json_string(text);
}
