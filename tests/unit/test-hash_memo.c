/*
 * Unit tests for core/hash_memo: a memo answers as the files do when
 * it first looks (a regular file's digest, none for a missing file or
 * a folder), keeps that answer for its life, and a new memo (or none)
 * sees the files as they are now.
 */
#include "tap.h"
#include "core/hash.h"
#include "core/hash_memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(void)
{
	char dir[] = "/tmp/test-hash_memo-XXXXXX", path[4096];
	char got[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
	char again[SHA256_HEX_LEN + 1];
	struct hash_memo *m;

	if (!mkdtemp(dir))
		return 1;
	put(dir, "a.patch", "one\n");
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0700);
	hash_string("one\n", 4, want);

	m = hash_memo_new();
	ok(hash_memo_sha(m, dir, "a.patch", got) == 1, "a file: a digest");
	is_str(got, want, "its SHA-256");
	ok(hash_memo_regular(m, dir, "a.patch"), "a file is a regular file");
	ok(!hash_memo_sha(m, dir, "missing.patch", got),
	   "a missing file: none");
	ok(!hash_memo_regular(m, dir, "missing.patch"),
	   "a missing file is no regular file");
	ok(!hash_memo_sha(m, dir, "sub", got), "a folder: none");
	ok(!hash_memo_sha(m, dir, NULL, got), "no file named: none");
	snprintf(path, sizeof(path), "%s/a.patch", dir);
	ok(hash_memo_sha(m, "/nowhere", path, got) == 1 && !strcmp(got, want),
	   "an absolute path is kept, and is the same file");

	/* what changes during the pass is not seen until the next */
	put(dir, "a.patch", "two\n");
	put(dir, "missing.patch", "now here\n");
	ok(hash_memo_sha(m, dir, "a.patch", got) == 1 && !strcmp(got, want),
	   "the memo keeps the digest it took");
	ok(!hash_memo_regular(m, dir, "missing.patch"),
	   "and that a file was missing");
	hash_memo_free(m);

	hash_string("two\n", 4, again);
	m = hash_memo_new();
	ok(hash_memo_sha(m, dir, "a.patch", got) == 1 && !strcmp(got, again),
	   "a new memo reads the file again");
	ok(hash_memo_regular(m, dir, "missing.patch"),
	   "and sees the file that appeared");
	hash_memo_free(m);
	ok(hash_memo_sha(NULL, dir, "a.patch", got) == 1 && !strcmp(got, again),
	   "no memo: the file as it is");
	ok(!hash_memo_sha(NULL, dir, "sub", got) &&
		   !hash_memo_regular(NULL, dir, "sub"),
	   "no memo: a folder is no regular file");
	hash_memo_free(NULL);

	snprintf(path, sizeof(path), "%s/a.patch", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing.patch", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	return tap_done();
}
