#ifndef OS_CRYPTO_H
#define OS_CRYPTO_H

/*
 * SHA-256, base64 and a constant-time compare from GNU Nettle
 * (libnettle8, on every Debian system: apt needs it through GnuTLS),
 * loaded at the first use (crypto_load), not at process start, as
 * libpq and libmicrohttpd are: most commands (task list, step info,
 * step edit, version, ...) never hash. Nettle replaced OpenSSL's
 * libcrypto, whose loading and per-call overhead were most of a
 * no-change run-steps (bench/README.md); the digests are the same.
 * The files that use it include this instead of Nettle's headers: each
 * name below stands for a pointer that crypto_load fills in with dlsym,
 * after which the calls read as usual (Nettle's headers turn sha256_init
 * into nettle_sha256_init, and this into the pointer). A function not
 * listed here fails to link (the binary does not link Nettle): add it
 * to CRYPTO_FUNCTIONS and to the #defines. Random bytes come from the
 * kernel (crypto_random).
 */
#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stddef.h>

#define CRYPTO_FUNCTIONS(X)         \
	X(nettle_base64_encode_raw) \
	X(nettle_memeql_sec)        \
	X(nettle_sha256_digest)     \
	X(nettle_sha256_init)       \
	X(nettle_sha256_update)

#define CRYPTO_DECLARE(f) extern __typeof__(f) *crypto_##f;
CRYPTO_FUNCTIONS(CRYPTO_DECLARE)
#undef CRYPTO_DECLARE

#define nettle_base64_encode_raw (*crypto_nettle_base64_encode_raw)
#define nettle_memeql_sec (*crypto_nettle_memeql_sec)
#define nettle_sha256_digest (*crypto_nettle_sha256_digest)
#define nettle_sha256_init (*crypto_nettle_sha256_init)
#define nettle_sha256_update (*crypto_nettle_sha256_update)

/*
 * Load libnettle.so.8 and every function above, once per process
 * (thread safe). A digest has no way to fail, so neither has this:
 * when the library cannot be loaded (the libnettle8 package, which the
 * task-sync package depends on, is missing or broken) it says so on one
 * line, "fatal: cannot load the Nettle library ...", and the process
 * ends with status 3, like running out of memory ends it (os/xalloc.c):
 * the installation is broken, no command can go on.
 */
void crypto_load(void);

/* fill buf with n random bytes: 0, or -1 when the kernel gives none */
int crypto_random(void *buf, size_t n);

#endif
