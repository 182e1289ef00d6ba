/*
 * hash_memo: each file of a pass looked up and hashed once (see
 * hash_memo.h). Keyed by the resolved path; each entry is false (no
 * regular file), true (a regular file, not hashed yet), its digest as
 * a string, or null (a regular file that could not be read).
 */
#include "core/hash_memo.h"
#include "os/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct hash_memo {
	json_t *files; /* resolved path -> entry */
};

struct hash_memo *hash_memo_new(void)
{
	struct hash_memo *m = xcalloc(1, sizeof(*m));
	m->files = json_object();
	return m;
}

void hash_memo_free(struct hash_memo *m)
{
	if (!m)
		return;
	json_decref(m->files);
	free(m);
}

static int is_regular(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* the entry of path, looked up (stat) the first time */
static json_t *entry_of(struct hash_memo *m, const char *path)
{
	json_t *e = json_object_get(m->files, path);
	if (!e) {
		e = json_boolean(is_regular(path));
		json_object_set_new(m->files, path, e);
	}
	return e;
}

int hash_memo_regular(struct hash_memo *m, const char *base, const char *rel)
{
	char *path = hash_resolve_path(base, rel);
	int ok = m ? !json_is_false(entry_of(m, path)) : is_regular(path);
	free(path);
	return ok;
}

int hash_memo_sha(struct hash_memo *m, const char *base, const char *rel,
		  char out[SHA256_HEX_LEN + 1])
{
	char *path;
	json_t *e;
	int ok = 0;

	if (!rel)
		return 0;
	path = hash_resolve_path(base, rel);
	if (!m) {
		ok = is_regular(path) && !hash_file(path, out);
		goto out;
	}
	e = entry_of(m, path);
	if (json_is_true(e)) {
		ok = !hash_file(path, out);
		json_object_set_new(m->files, path,
				    ok ? json_string(out) : json_null());
		goto out;
	}
	if (json_is_string(e)) {
		memcpy(out, json_string_value(e), SHA256_HEX_LEN + 1);
		ok = 1;
	}
out:
	free(path);
	return ok;
}
