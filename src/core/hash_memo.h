#ifndef CORE_HASH_MEMO_H
#define CORE_HASH_MEMO_H

#include "core/hash.h"

/*
 * The files of one pass, each looked up and hashed once: `task report`
 * checks every criterion against the same task folder, and without a
 * memo it stats and reads the same patches again for each one (1,000
 * criteria: 23,000 lookups, 5,000 files read). A memo lives for one
 * pass and is freed after it, so a file that changes between passes is
 * seen to change. Not thread-safe: one pass, one thread.
 *
 * Every function takes a NULL memo too, and then looks the file up
 * again each time (as a single rubric_shell step does).
 */
struct hash_memo;

struct hash_memo *hash_memo_new(void);
void hash_memo_free(struct hash_memo *m);

/* whether rel (resolved with hash_resolve_path in base) is a regular file */
int hash_memo_regular(struct hash_memo *m, const char *base, const char *rel);

/*
 * The SHA-256 of regular file rel (resolved in base) into out: 1, or 0
 * when rel is NULL, not a regular file, or unreadable (hash_file
 * printed why, once per memo).
 */
int hash_memo_sha(struct hash_memo *m, const char *base, const char *rel,
		  char out[SHA256_HEX_LEN + 1]);

#endif
