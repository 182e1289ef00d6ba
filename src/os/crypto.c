/* libcrypto, loaded at the first digest or random number (crypto.h). */
#include "os/crypto.h"
#include "os/dynlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define CRYPTO_DEFINE(f) __typeof__(f) *crypto_##f;
CRYPTO_FUNCTIONS(CRYPTO_DEFINE)
#undef CRYPTO_DEFINE

#define CRYPTO_SONAME "libcrypto.so.3"

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
		"fatal: cannot load the OpenSSL library (%s, Debian package "
		"libssl3): %s\n",
		CRYPTO_SONAME, why);
	exit(3);
}

void crypto_load(void)
{
	pthread_once(&once, load);
}
