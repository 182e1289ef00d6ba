#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/crypto.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void to_hex(const unsigned char *md, unsigned len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned i;
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * len] = '\0';
}

void hash_string(const char *s, size_t n, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_SIZE];
	struct sha256_ctx c;

	crypto_load();
	sha256_init(&c);
	sha256_update(&c, n, (const uint8_t *)s);
	sha256_digest(&c, sizeof(md), md);
	to_hex(md, sizeof(md), out);
}

void hash_outputs(const json_t *results, char out[SHA256_HEX_LEN + 1])
{
	static const char *const volatile_keys[] = { "message", "fingerprint",
						     "run_id", "duration_ms",
						     NULL };
	json_t *copy;
	char *text;

	if (!results) {
		memcpy(out, "none", 5);
		return;
	}
	/* the dump only reads the copy: sharing the values is safe */
	copy = json_shallow_without((json_t *)results, volatile_keys);
	text = json_dumps(copy,
			  JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	hash_string(text, strlen(text), out);
	free(text);
	json_decref(copy);
}

static int hash_fd(int fd, const char *path, char out[SHA256_HEX_LEN + 1],
		   struct strbuf *err);

int hash_file(const char *path, char out[SHA256_HEX_LEN + 1])
{
	struct strbuf err = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	if (fd < 0)
		return error("cannot read '%s': %s", path, strerror(errno));
	ret = hash_fd(fd, path, out, &err);
	close(fd);
	if (ret)
		error("%s", err.buf);
	strbuf_release(&err);
	return ret;
}

static int hash_fd(int fd, const char *path, char out[SHA256_HEX_LEN + 1],
		   struct strbuf *err)
{
	unsigned char md[SHA256_DIGEST_SIZE], buf[65536];
	struct sha256_ctx c;
	int ret = 0;
	ssize_t n;

	crypto_load();
	sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = error_quiet(err, "cannot read '%s': %s", path,
					  strerror(errno));
			break;
		}
		sha256_update(&c, (size_t)n, buf);
	}
	if (!ret) {
		sha256_digest(&c, sizeof(md), md);
		to_hex(md, sizeof(md), out);
	}
	return ret;
}

static long long ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static int same_int(const json_t *o, const char *key, long long v)
{
	json_t *j = json_object_get(o, key);
	return json_is_integer(j) && json_integer_value(j) == v;
}

json_t *hash_file_cached(const char *path, const json_t *cached, int *reread,
			 struct strbuf *err)
{
	char hex[SHA256_HEX_LEN + 1];
	const char *old = json_string_value(json_object_get(cached, "sha256"));
	struct stat st;
	json_t *e;

	*reread = 0;
	if (stat(path, &st) < 0) {
		error_quiet(err, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		/* a directory is an input by its metadata alone */
		snprintf(hex, sizeof(hex), "directory");
	} else if (old && strlen(old) == SHA256_HEX_LEN &&
		   same_int(cached, "size", (long long)st.st_size) &&
		   same_int(cached, "mtime_ns", ns(&st.st_mtim)) &&
		   same_int(cached, "ctime_ns", ns(&st.st_ctim)) &&
		   same_int(cached, "ino", (long long)st.st_ino)) {
		memcpy(hex, old, sizeof(hex));
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC), r;
		if (fd < 0) {
			error_quiet(err, "cannot read '%s': %s", path,
				    strerror(errno));
			return NULL;
		}
		r = hash_fd(fd, path, hex, err);
		close(fd);
		if (r)
			return NULL;
		*reread = 1;
	}
	e = json_object();
	json_object_set_new(e, "sha256", json_string(hex));
	json_object_set_new(e, "size", json_integer((json_int_t)st.st_size));
	json_object_set_new(e, "mtime_ns", json_integer(ns(&st.st_mtim)));
	json_object_set_new(e, "ctime_ns", json_integer(ns(&st.st_ctim)));
	json_object_set_new(e, "ino", json_integer((json_int_t)st.st_ino));
	return e;
}

char *hash_resolve_path(const char *base, const char *path)
{
	if (path[0] == '/' || !base || !*base)
		return xstrdup(path);
	return xstrfmt("%s/%s", base, path);
}
