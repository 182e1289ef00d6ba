/*
 * GNU Nettle, loaded at the first digest, and random bytes from the
 * kernel (crypto.h).
 */
#include "os/crypto.h"
#include "os/dynlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

/* the pointers, named after the functions (before crypto.h's macros) */
#undef nettle_base64_encode_raw
#undef nettle_memeql_sec
#undef nettle_sha256_digest
#undef nettle_sha256_init
#undef nettle_sha256_update

#define CRYPTO_DEFINE(f) __typeof__(f) *crypto_##f;
CRYPTO_FUNCTIONS(CRYPTO_DEFINE)
#undef CRYPTO_DEFINE

#define CRYPTO_SONAME "libnettle.so.8"

static pthread_once_t once = PTHREAD_ONCE_INIT;

#define CRYPTO_SYM(f) { #f, (void *)&crypto_##f },
static const struct dynlib_sym syms[] = { CRYPTO_FUNCTIONS(CRYPTO_SYM) };
#undef CRYPTO_SYM

static void load(void)
{
	char why[512];

	if (!dynlib_open(CRYPTO_SONAME, syms, sizeof(syms) / sizeof(*syms), why,
			 sizeof(why)))
		return;
	fprintf(stderr,
		"fatal: cannot load the Nettle library (%s, Debian package "
		"libnettle8): %s\n",
		CRYPTO_SONAME, why);
	exit(3);
}

void crypto_load(void)
{
	pthread_once(&once, load);
}

int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}
