#ifndef CORE_HASH_H
#define CORE_HASH_H

#include <jansson.h>

struct strbuf;

/*
 * SHA-256 (GNU Nettle) of files and strings, as 64 lowercase hex
 * characters, and the stat cache that lets unchanged files go unread.
 *
 * A file's cache entry is a JSON object
 *   {"sha256": "...", "size": N, "mtime_ns": N, "ctime_ns": N, "ino": N}
 * kept in a step's results. hash_file_cached() reuses entry's sha256
 * when size, mtime, ctime and inode are all unchanged, and re-reads the
 * file otherwise.
 */

#define SHA256_HEX_LEN 64

/* returns 0, or -1 after printing an error naming the file */
int hash_file(const char *path, char out[SHA256_HEX_LEN + 1]);
void hash_string(const char *s, size_t n, char out[SHA256_HEX_LEN + 1]);
/*
 * The digest of a step's outputs: its results without the volatile keys
 * (message, fingerprint, run_id, duration_ms), dumped compact with
 * sorted keys; "none" when results is NULL. Dependents' fingerprints
 * hold it, and store.c keeps it in steps.output_digest.
 */
void hash_outputs(const json_t *results, char out[SHA256_HEX_LEN + 1]);
/*
 * Hash path using cached (borrowed, may be NULL). Returns a new entry
 * object, or NULL with a message naming the file and the reason
 * appended to err (NULL: not wanted; nothing is printed). *reread says whether the file was read. A directory is
 * an input by its metadata alone ("sha256": "directory").
 */
json_t *hash_file_cached(const char *path, const json_t *cached, int *reread,
			 struct strbuf *err);
/* join a task-relative path onto base; absolute paths are kept */
char *hash_resolve_path(const char *base, const char *path);

#endif
