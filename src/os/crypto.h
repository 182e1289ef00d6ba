#ifndef OS_CRYPTO_H
#define OS_CRYPTO_H

#include <stddef.h>

/*
 * Random bytes for tokens and nonces, from the kernel. (The digests,
 * base64 and the constant-time compare come from GNU Nettle, called
 * where they are used: libnettle8 is small and on every Debian system,
 * apt needs it through GnuTLS. It replaced OpenSSL's libcrypto, whose
 * loading and per-call overhead were most of the 1,000 digests of a
 * no-change run-steps: bench/README.md.)
 */

/* fill buf with n random bytes: 0, or -1 when the kernel gives none */
int crypto_random(void *buf, size_t n);

#endif
