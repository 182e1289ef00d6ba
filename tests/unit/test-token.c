/*
 * Unit tests for serve/token: the token file (made 0600, refused when
 * others can read it or it holds no token) and the bearer check.
 */
#include "tap.h"
#include "serve/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_token_file(void)
{
	char dir[] = "/tmp/test-token-XXXXXX", tok[65], again[65];
	char *path, *sub;
	struct stat sb;
	FILE *fp;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/a/b/serve-token", dir);
	ok(token_load(path, 0, tok) == 0, "missing, not made: 0");
	ok(stat(path, &sb) != 0, "nothing was made");
	ok(token_load(path, 1, tok) == 1, "missing, made: 1");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	   "the file is 0600");
	sub = strrchr(path, '/');
	*sub = '\0';
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700,
	   "its new folder is 0700");
	*sub = '/';
	ok(strlen(tok) == 64 && strspn(tok, "0123456789abcdef") == 64,
	   "64 hex digits");
	ok(token_load(path, 1, again) == 1 && !strcmp(tok, again),
	   "a second load reads the same token");
	chmod(path, 0640);
	ok(token_load(path, 1, again) == -1, "a group-readable file: -1");
	chmod(path, 0600);
	fp = fopen(path, "w");
	fputs("not a token\n", fp);
	fclose(fp);
	ok(token_load(path, 1, again) == -1, "a file without a token: -1");
	unlink(path);
	*sub = '\0';
	rmdir(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	rmdir(dir);
	free(path);
}

static void test_matches(void)
{
	const char *t = "0123456789abcdef0123456789abcdef"
			"0123456789abcdef0123456789abcdef";
	char h[128];

	snprintf(h, sizeof(h), "Bearer %s", t);
	ok(token_matches(t, h), "the token matches");
	h[strlen(h) - 1] = '0';
	ok(!token_matches(t, h), "one digit off does not");
	snprintf(h, sizeof(h), "Bearer %s0", t);
	ok(!token_matches(t, h), "one digit more does not");
	snprintf(h, sizeof(h), "Basic %s", t);
	ok(!token_matches(t, h), "another scheme does not");
	ok(!token_matches(t, NULL), "no header does not");
	ok(!token_matches(t, "Bearer "), "an empty token does not");
}

int main(void)
{
	test_token_file();
	test_matches();
	return tap_done();
}
