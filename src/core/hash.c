#include "core/hash.h"
#include "core/jsonutil.h"
#include "os/crypto.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <pthread.h>
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

/*
 * SHA-256 fetched once: EVP_sha256() makes every EVP_Digest fetch it
 * from the provider again (6-7 % of a no-change run-steps). Freed at
 * exit, before OpenSSL's own clean-up (registered earlier, runs later).
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_free(void)
{
	EVP_MD_free(sha256_md);
	sha256_md = NULL;
}

/*
 * OpenSSL's configuration file is not read: a digest needs none, and
 * reading it was a third of the first fetch (openssl.cnf and the
 * modules it names). libpq's TLS still reads it at connect, which
 * comes first in every command (the store opens before any digest).
 */
static void sha256_fetch(void)
{
	crypto_load();
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md)
		atexit(sha256_free);
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? sha256_md : EVP_sha256();
}

void hash_string(const char *s, size_t n, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	/* before the call: its pointer may be read before its arguments */
	const EVP_MD *md_type = sha256(); /* loads libcrypto */
	EVP_Digest(s, n, md, &len, md_type, NULL);
	to_hex(md, len, out);
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
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned len = 0;
	const EVP_MD *md_type = sha256(); /* loads libcrypto */
	EVP_MD_CTX *ctx;
	int ret = 0;
	ssize_t n;

	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, md_type, NULL);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = error_quiet(err, "cannot read '%s': %s", path,
					  strerror(errno));
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (!ret) {
		EVP_DigestFinal_ex(ctx, md, &len);
		to_hex(md, len, out);
	}
	EVP_MD_CTX_free(ctx);
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
