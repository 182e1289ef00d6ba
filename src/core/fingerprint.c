#include "core/fingerprint.h"
#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fingerprint_settings_digest(const json_t *settings)
{
	static const char *const own_keys[] = { "hashes",        "triggers",
						"force",         "rerun",
						"hash_last_run", NULL };
	char hex[SHA256_HEX_LEN + 1];
	json_t *copy = json_shallow_without((json_t *)settings, NULL), *v;
	const char *key;
	char *text;

	json_object_foreach(copy, key, v) if (json_is_object(v))
		json_object_set_new(copy, key,
				    json_shallow_without(v, own_keys));
	text = json_dumps(copy,
			  JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	hash_string(text, strlen(text), hex);
	free(text);
	json_decref(copy);
	return xstrdup(hex);
}

char *fingerprint_outputs_digest(const json_t *results)
{
	char hex[SHA256_HEX_LEN + 1];
	hash_outputs(results, hex);
	return xstrdup(hex);
}

char *fingerprint_change(const json_t *old, const json_t *now)
{
	const char *key;
	json_t *v;

	if (!json_equal(json_object_get(old, "settings"),
			json_object_get(now, "settings")))
		return xstrdup("settings changed");
	json_object_foreach(json_object_get(now, "deps"), key, v) if (
		!json_equal(
			v,
			json_object_get(
				json_object_get(old, "deps"),
				key))) return xstrfmt("dependency %s changed",
						      key);
	if (json_object_size(json_object_get(old, "deps")) !=
	    json_object_size(json_object_get(now, "deps")))
		return xstrdup("dependencies changed");
	json_object_foreach(json_object_get(now, "inputs"), key, v)
	{
		const json_t *o =
			json_object_get(json_object_get(old, "inputs"), key);
		if (!json_equal(json_object_get(v, "sha256"),
				json_object_get(o, "sha256")))
			return xstrfmt("input changed: %s", key);
	}
	if (json_object_size(json_object_get(old, "inputs")) !=
	    json_object_size(json_object_get(now, "inputs")))
		return xstrdup("input files changed");
	return NULL;
}

/* ---- the no-change key: encoding ---------------------------------------- */

static void key_add_path(struct strbuf *sb, const char *path)
{
	size_t len = strlen(path);
	strbuf_addf(sb, "%zu:", len);
	strbuf_add(sb, path, len);
}

static int json_ll(const json_t *o, const char *key, long long *v)
{
	const json_t *j = json_object_get(o, key);
	if (!json_is_integer(j))
		return -1;
	*v = (long long)json_integer_value(j);
	return 0;
}

char *fresh_key_encode(const char *settings_sha, const char *base,
		       const long long *deps, size_t ndeps, const json_t *fp)
{
	const json_t *fdeps = json_object_get(fp, "deps");
	const json_t *inputs = json_object_get(fp, "inputs"), *e;
	struct strbuf sb = STRBUF_INIT;
	const char *rel;
	size_t i;

	if (!fp || !settings_sha || strlen(settings_sha) != SHA256_HEX_LEN ||
	    !json_is_object(inputs))
		return NULL;
	if (!base)
		base = "";
	strbuf_addstr(&sb, FRESH_KEY_VERSION);
	strbuf_addstr(&sb, settings_sha);
	strbuf_addch(&sb, '|');
	key_add_path(&sb, base);
	strbuf_addch(&sb, '|');
	for (i = 0; i < ndeps; i++) {
		char id[32];
		const char *dg;
		snprintf(id, sizeof(id), "%lld", deps[i]);
		dg = json_string_value(json_object_get(fdeps, id));
		if (!dg || strpbrk(dg, ",|"))
			goto none;
		strbuf_addf(&sb, "%s%s=%s", i ? "," : "", id, dg);
	}
	strbuf_addch(&sb, '|');
	json_object_foreach((json_t *)inputs, rel, e)
	{
		long long size, mtime, ctime, ino;
		/* relative to the working directory: no key */
		if (rel[0] != '/' && !*base)
			goto none;
		if (json_ll(e, "size", &size) ||
		    json_ll(e, "mtime_ns", &mtime) ||
		    json_ll(e, "ctime_ns", &ctime) || json_ll(e, "ino", &ino))
			goto none;
		key_add_path(&sb, rel);
		strbuf_addf(&sb, "\t%lld\t%lld\t%lld\t%lld\n", size, mtime,
			    ctime, ino);
	}
	return strbuf_detach(&sb, NULL);
none:
	strbuf_release(&sb);
	return NULL;
}

/* ---- the no-change key: decoding ---------------------------------------- */

/*
 * A decimal number of at most 19 digits (strtoll without locale or
 * errno); one past LLONG_MAX is refused.
 */
static int key_num(const char **p, long long *v)
{
	const char *s = *p;
	int neg = *s == '-', n = 0;
	long long x = 0;

	s += neg;
	while (*s >= '0' && *s <= '9' && n < 19) {
		if (x > (LLONG_MAX - (*s - '0')) / 10)
			return -1;
		x = x * 10 + (*s++ - '0');
		n++;
	}
	if (!n || (*s >= '0' && *s <= '9'))
		return -1;
	*v = neg ? -x : x;
	*p = s;
	return 0;
}

/* "<len>:" then len bytes; *p moves past them */
static const char *key_path(const char **p, size_t *len)
{
	const char *s = *p, *path;
	long long n;

	if (*s == '-' || key_num(&s, &n) || *s != ':' || n > 1 << 20)
		return NULL;
	path = s + 1;
	if (strnlen(path, (size_t)n) != (size_t)n)
		return NULL;
	*len = (size_t)n;
	*p = path + n;
	return path;
}

static int key_field(const char **p, long long *v)
{
	if (**p != '\t')
		return -1;
	(*p)++;
	return key_num(p, v);
}

int fresh_key_parse(const char *key, struct fresh_key *k)
{
	const char *p = key;

	if (!p || strncmp(p, FRESH_KEY_VERSION, strlen(FRESH_KEY_VERSION)))
		return -1;
	p += strlen(FRESH_KEY_VERSION);
	if (strnlen(p, SHA256_HEX_LEN) != SHA256_HEX_LEN ||
	    p[SHA256_HEX_LEN] != '|')
		return -1;
	k->settings_sha = p;
	p += SHA256_HEX_LEN + 1;
	k->base = key_path(&p, &k->base_len);
	if (!k->base || *p++ != '|')
		return -1;
	k->deps = p;
	p = strchr(p, '|');
	if (!p)
		return -1;
	k->inputs = p + 1;
	return 0;
}

int fresh_key_next_dep(const char **p, long long *id, const char **digest,
		       size_t *len)
{
	const char *s = *p;

	if (*s == '|')
		return 0;
	if (*s == '-' || key_num(&s, id) || *s != '=')
		return -1;
	*digest = s + 1;
	*len = strcspn(*digest, ",|");
	s = *digest + *len;
	if (*s == ',')
		s++;
	else if (*s != '|')
		return -1;
	*p = s;
	return 1;
}

int fresh_key_next_input(const char **p, struct fresh_key_input *in)
{
	const char *s = *p;

	if (!*s)
		return 0;
	in->path = key_path(&s, &in->len);
	if (!in->path || key_field(&s, &in->size) ||
	    key_field(&s, &in->mtime_ns) || key_field(&s, &in->ctime_ns) ||
	    key_field(&s, &in->ino) || *s++ != '\n')
		return -1;
	*p = s;
	return 1;
}
