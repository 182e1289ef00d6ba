/* the bearer token file and its check (token.h) */
#include "serve/token.h"
#include "os/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/error.h"
#include "os/xalloc.h"

#define TOKEN_HEX 64

char *token_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x && *x)
		return xstrfmt("%s/task-sync/serve-token", x);
	if (home && *home)
		return xstrfmt("%s/.config/task-sync/serve-token", home);
	return NULL;
}

static int well_formed(const char *t)
{
	size_t i;

	for (i = 0; i < TOKEN_HEX; i++)
		if (!strchr("0123456789abcdef", t[i]) || !t[i])
			return 0;
	return t[TOKEN_HEX] == '\0' || t[TOKEN_HEX] == '\n';
}

/* mkdir -p of path's folder, 0700 for what it makes */
static int make_parent(const char *path)
{
	char *dir = xstrdup(path), *p;
	int ret = 0;

	for (p = dir + 1; (p = strchr(p, '/')) && !ret; p++) {
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			ret = error("cannot create folder '%s': %s", dir,
				    strerror(errno));
		*p = '/';
	}
	free(dir);
	return ret;
}

static int create_token(const char *path)
{
	unsigned char raw[TOKEN_HEX / 2];
	char hex[TOKEN_HEX + 2];
	size_t i;
	int fd, ok;

	if (make_parent(path))
		return -1;
	if (crypto_random(raw, sizeof(raw)))
		return error("cannot make a token: no random bytes: %s",
			     strerror(errno));
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[TOKEN_HEX] = '\n';
	hex[TOKEN_HEX + 1] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0; /* another serve made it first: read that one */
	if (fd < 0)
		return error("cannot create token file '%s': %s", path,
			     strerror(errno));
	ok = write(fd, hex, TOKEN_HEX + 1) == TOKEN_HEX + 1;
	if (close(fd) || !ok) {
		unlink(path);
		return error("cannot write token file '%s'", path);
	}
	return 0;
}

int token_load(const char *path, int create, char out[65])
{
	struct stat sb;
	char buf[TOKEN_HEX + 2] = { 0 };
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT) {
		if (!create)
			return 0;
		if (create_token(path))
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return error("cannot read token file '%s': %s", path,
			     strerror(errno));
	if (fstat(fd, &sb) || (sb.st_mode & 077) || sb.st_uid != geteuid()) {
		close(fd);
		return error("token file '%s' must be yours and readable by "
			     "you alone (chmod 600)",
			     path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < TOKEN_HEX || !well_formed(buf))
		return error("token file '%s' does not hold a token (64 hex "
			     "digits); remove it to get a new one",
			     path);
	memcpy(out, buf, TOKEN_HEX);
	out[TOKEN_HEX] = '\0';
	return 1;
}

int token_matches(const char *token, const char *header)
{
	static const char bearer[] = "Bearer ";
	const char *given;

	if (!header || strncmp(header, bearer, sizeof(bearer) - 1))
		return 0;
	given = header + sizeof(bearer) - 1;
	if (strlen(given) != TOKEN_HEX)
		return 0;
	crypto_load();
	return memeql_sec(given, token, TOKEN_HEX);
}
