/*
 * Unit tests for core/hash's digests: the SHA-256 of a string and of a
 * file read in several pieces, as sha256sum gives them (the digests are
 * stored in fingerprints, so they must never change with the library).
 */
#include "tap.h"
#include "core/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char dir[] = "/tmp/test-hash-XXXXXX", path[4096];
	char got[SHA256_HEX_LEN + 1];
	char *big;
	FILE *f;

	if (!mkdtemp(dir))
		return 1;
	hash_string("", 0, got);
	is_str(got,
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of nothing, as sha256sum gives it");
	hash_string("one\n", 4, got);
	is_str(got,
	       "2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806",
	       "SHA-256 of a line, as sha256sum gives it");

	/* a file read in several pieces (hash_file reads 64 KiB at a time) */
	snprintf(path, sizeof(path), "%s/big", dir);
	big = malloc(200000);
	f = fopen(path, "w");
	if (big && f) {
		memset(big, 'x', 200000);
		fwrite(big, 1, 200000, f);
	}
	if (f)
		fclose(f);
	free(big);
	ok(hash_file(path, got) == 0, "a big file: a digest");
	is_str(got,
	       "91e3faafd322bcdf160f3f0ce886acb092b9b9e2a1e8526b40f21a8898a8700b",
	       "200,000 bytes: the digest sha256sum gives");
	unlink(path);
	rmdir(dir);
	return tap_done();
}
