#ifndef OS_CRYPTO_H
#define OS_CRYPTO_H

/*
 * OpenSSL's libcrypto, loaded at the first digest or random number
 * (crypto_load), not at process start: relocating libcrypto.so.3 was
 * most of a command's start (some 19,000 relocations, and under
 * AddressSanitizer most of the leak check's scan at exit), and most
 * commands (task list, step info, step edit, version, ...) never use
 * it. The files that use it include this instead of the OpenSSL
 * headers' functions: each name below stands for a pointer that
 * crypto_load fills in with dlsym, after which the calls read as usual.
 * A function not listed here fails to link (the binary does not link
 * libcrypto): add it to CRYPTO_FUNCTIONS and to the #defines.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define CRYPTO_FUNCTIONS(X)    \
	X(CRYPTO_memcmp)       \
	X(EVP_Digest)          \
	X(EVP_DigestFinal_ex)  \
	X(EVP_DigestInit_ex)   \
	X(EVP_DigestUpdate)    \
	X(EVP_EncodeBlock)     \
	X(EVP_MD_CTX_free)     \
	X(EVP_MD_CTX_new)      \
	X(EVP_MD_fetch)        \
	X(EVP_MD_free)         \
	X(EVP_sha256)          \
	X(OPENSSL_init_crypto) \
	X(RAND_bytes)

#define CRYPTO_DECLARE(f) extern __typeof__(f) *crypto_##f;
CRYPTO_FUNCTIONS(CRYPTO_DECLARE)
#undef CRYPTO_DECLARE

#define CRYPTO_memcmp (*crypto_CRYPTO_memcmp)
#define EVP_Digest (*crypto_EVP_Digest)
#define EVP_DigestFinal_ex (*crypto_EVP_DigestFinal_ex)
#define EVP_DigestInit_ex (*crypto_EVP_DigestInit_ex)
#define EVP_DigestUpdate (*crypto_EVP_DigestUpdate)
#define EVP_EncodeBlock (*crypto_EVP_EncodeBlock)
#define EVP_MD_CTX_free (*crypto_EVP_MD_CTX_free)
#define EVP_MD_CTX_new (*crypto_EVP_MD_CTX_new)
#define EVP_MD_fetch (*crypto_EVP_MD_fetch)
#define EVP_MD_free (*crypto_EVP_MD_free)
#define EVP_sha256 (*crypto_EVP_sha256)
#define OPENSSL_init_crypto (*crypto_OPENSSL_init_crypto)
#define RAND_bytes (*crypto_RAND_bytes)

/*
 * Load libcrypto.so.3 and every function above, once per process
 * (thread safe). A digest has no way to fail, so neither has this:
 * when the library cannot be loaded (the libssl3 package, which the
 * task-sync package depends on, is missing or broken) it says so on one
 * line, "fatal: cannot load the OpenSSL library ...", and the process
 * ends with status 3, like running out of memory ends it (os/xalloc.c):
 * the installation is broken, no command can go on.
 */
void crypto_load(void);

#endif
